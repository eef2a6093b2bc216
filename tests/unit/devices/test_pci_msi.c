// SPDX-License-Identifier: GPL-2.0
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "devices/pci_msi.h"

#define MAX_ROUTES 64
#define DEVID	   0x0118

struct route {
	bool live;
	uint64_t addr;
	uint32_t data, devid;
	int fd;
};

struct fake_routes {
	struct route r[MAX_ROUTES];
	unsigned int n, adds, dels, updates;
};

static int fr_add(void *o, uint64_t addr, uint32_t data, uint32_t devid, int fd)
{
	struct fake_routes *f = o;

	cr_assert_lt(f->n, MAX_ROUTES);
	f->r[f->n] = (struct route){ true, addr, data, devid, fd };
	f->adds++;
	return f->n++;
}

static int fr_update(void *o, int route, uint64_t addr, uint32_t data,
		     uint32_t devid)
{
	struct fake_routes *f = o;

	cr_assert(f->r[route].live);
	f->r[route].addr = addr;
	f->r[route].data = data;
	f->r[route].devid = devid;
	f->updates++;
	return 0;
}

static void fr_del(void *o, int route, int fd)
{
	struct fake_routes *f = o;

	cr_assert(f->r[route].live);
	cr_assert_eq(f->r[route].fd, fd);
	f->r[route].live = false;
	f->dels++;
}

static struct fake_routes fr;
static const struct host_ops host = { .msi_route_add = fr_add,
				      .msi_route_update = fr_update,
				      .msi_route_del = fr_del,
				      .opaque = &fr };

struct enables {
	unsigned int calls, n;
	int fds[PCI_MSI_MAX_VECTORS];
};

static struct pci_dev dev;
static struct pci_msi msi;
static struct enables en;

static void enable_cb(void *o, const int *fds, unsigned int n)
{
	struct enables *e = o;

	e->calls++;
	e->n = n;
	cr_assert(n == 0 ? fds == NULL : fds != NULL);
	for (unsigned int i = 0; i < n; i++)
		e->fds[i] = fds[i];
}

static void config_written(struct pci_dev *pdev, uint32_t off, uint32_t len)
{
	pci_msi_config_written(pdev->priv, off, len);
}

static const struct pci_dev_ops dev_ops = { .config_written = config_written };

static void make(unsigned int nvec, bool is64, bool maskable)
{
	memset(&fr, 0, sizeof(fr));
	memset(&en, 0, sizeof(en));
	pci_dev_init(&dev, 0x1234, 0x5678, 0x020000, 1);
	dev.name = "msi-test";
	dev.ops = &dev_ops;
	dev.priv = &msi;
	dev.requester_id = DEVID;
	cr_assert_eq(pci_msi_init(&msi, &dev, nvec, is64, maskable, &host), 0);
	pci_msi_set_enable_cb(&msi, enable_cb, &en);
}

static void setup(void)
{
	make(4, true, true);
}

static void teardown(void)
{
	pci_msi_destroy(&msi);
}

static uint32_t rd(uint32_t reg, unsigned int len)
{
	return pci_config_read(&dev, msi.cap + reg, len);
}

static void wr(uint32_t reg, uint32_t v, unsigned int len)
{
	pci_config_write(&dev, msi.cap + reg, v, len);
}

static unsigned int live_routes(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < fr.n; i++)
		n += fr.r[i].live;
	return n;
}

static const struct route *route_of_fd(int fd)
{
	for (unsigned int i = 0; i < fr.n; i++)
		if (fr.r[i].live && fr.r[i].fd == fd)
			return &fr.r[i];
	return NULL;
}

/* Program address/data and enable with 2^@log2n vectors. */
static void enable(unsigned int log2n, uint16_t data)
{
	wr(PCI_MSI_ADDRESS_LO, 0x08090040, 4);
	wr(PCI_MSI_ADDRESS_HI, 0x1, 4);
	wr(PCI_MSI_DATA_64, data, 2);
	wr(PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | log2n << 4, 2);
}

static uint64_t fd_count(int fd)
{
	uint64_t c = 0;

	if (read(fd, &c, sizeof(c)) != sizeof(c))
		return 0;
	return c;
}

TestSuite(pci_msi, .init = setup, .fini = teardown);

Test(pci_msi, capability_advertises_what_was_asked)
{
	uint16_t ctl = rd(PCI_MSI_FLAGS, 2);

	cr_assert_eq(dev.cfg[msi.cap], PCI_CAP_ID_MSI);
	cr_assert_eq((ctl & PCI_MSI_FLAGS_QMASK) >> 1, 2, "4 vectors capable");
	cr_assert(ctl & PCI_MSI_FLAGS_64BIT);
	cr_assert(ctl & PCI_MSI_FLAGS_MASKBIT);
	cr_assert_eq(ctl & PCI_MSI_FLAGS_ENABLE, 0);
	cr_assert_eq(dev.cap_end - msi.cap, PCI_MSI_CAP_SIZE_64_MASK);
	for (unsigned int i = 0; i < 4; i++)
		cr_assert_geq(msi.fd[i], 0);
	cr_assert_eq(msi.fd[4], -1, "no eventfd beyond the capable count");
}

Test(pci_msi, rejects_impossible_vector_counts)
{
	struct pci_msi m2;

	cr_assert_eq(pci_msi_init(&m2, &dev, 0, false, false, &host), -EINVAL);
	cr_assert_eq(pci_msi_init(&m2, &dev, 3, false, false, &host), -EINVAL);
	cr_assert_eq(pci_msi_init(&m2, &dev, 64, false, false, &host), -EINVAL);
}

Test(pci_msi, layout_without_64bit_or_masking)
{
	pci_msi_destroy(&msi);
	make(1, false, false);
	cr_assert_eq(dev.cap_end - msi.cap, PCI_MSI_CAP_SIZE_32);
	wr(PCI_MSI_ADDRESS_LO, 0x08090040, 4);
	wr(PCI_MSI_DATA_32, 0x21, 2);
	wr(PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, 2);
	cr_assert_eq(live_routes(), 1);
	cr_assert_eq(fr.r[0].addr, 0x08090040);
	cr_assert_eq(fr.r[0].data, 0x21);
}

Test(pci_msi, one_vector_gets_a_route_with_requester_id)
{
	enable(0, 0x40);
	cr_assert_eq(en.calls, 1);
	cr_assert_eq(en.n, 1);
	cr_assert_eq(en.fds[0], msi.fd[0]);
	cr_assert_eq(live_routes(), 1);
	cr_assert_eq(fr.r[0].addr, 0x108090040ULL);
	cr_assert_eq(fr.r[0].data, 0x40);
	cr_assert_eq(fr.r[0].devid, DEVID);
	cr_assert_eq(fr.r[0].fd, msi.fd[0]);
}

Test(pci_msi, four_vectors_carry_their_number_in_the_data)
{
	enable(2, 0x40);
	cr_assert_eq(en.n, 4);
	cr_assert_eq(live_routes(), 4);
	for (unsigned int i = 0; i < 4; i++) {
		const struct route *r = route_of_fd(msi.fd[i]);

		cr_assert_not_null(r);
		cr_assert_eq(r->data, 0x40 | i);
		cr_assert_eq(r->devid, DEVID);
		cr_assert_eq(en.fds[i], msi.fd[i]);
	}
}

Test(pci_msi, data_change_while_enabled_updates_routes)
{
	enable(1, 0x40);
	wr(PCI_MSI_DATA_64, 0x80, 2);
	cr_assert_eq(fr.updates, 2);
	cr_assert_eq(route_of_fd(msi.fd[1])->data, 0x81);
	cr_assert_eq(en.calls, 1, "the device is not told again");
}

Test(pci_msi, enable_count_above_capable_is_clamped)
{
	enable(5, 0x40); /* 32 vectors asked, 4 capable */
	cr_assert_eq((rd(PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_QSIZE) >> 4, 2);
	cr_assert_eq(en.n, 4);
	cr_assert_eq(live_routes(), 4);
	wr(PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | 7 << 4, 2); /* reserved */
	cr_assert_eq(msi.nvec, 4);
}

Test(pci_msi, masked_vector_is_unbound_and_latched)
{
	enable(2, 0x40);
	wr(PCI_MSI_MASK_64, 1U << 1, 4);
	cr_assert_null(route_of_fd(msi.fd[1]), "masked: unbound");
	cr_assert_eq(live_routes(), 3);
	cr_assert(pci_msi_notify(&msi, 1));
	cr_assert(pci_msi_is_pending(&msi, 1));
	cr_assert_eq(rd(PCI_MSI_PENDING_64, 4), 1U << 1);
	cr_assert_eq(fd_count(msi.fd[1]), 0, "nothing sent while masked");
	wr(PCI_MSI_MASK_64, 0, 4);
	cr_assert_not_null(route_of_fd(msi.fd[1]));
	cr_assert_not(pci_msi_is_pending(&msi, 1));
	cr_assert_eq(rd(PCI_MSI_PENDING_64, 4), 0);
	cr_assert_eq(fd_count(msi.fd[1]), 1, "delivered on unmask");
}

Test(pci_msi, device_signal_while_masked_shows_pending)
{
	uint64_t one = 1;

	enable(2, 0x40);
	wr(PCI_MSI_MASK_64, 1U << 2, 4);
	/* An assigned device signals the eventfd itself. */
	cr_assert_eq(write(msi.fd[2], &one, sizeof(one)), sizeof(one));
	cr_assert(pci_msi_is_pending(&msi, 2));
	cr_assert_not(pci_msi_is_pending(&msi, 0));
	wr(PCI_MSI_MASK_64, 0, 4);
	/* Rebinding the irqfd hands the signal to KVM. */
	cr_assert_not_null(route_of_fd(msi.fd[2]));
}

Test(pci_msi, disable_drops_routes_and_tells_the_device)
{
	enable(2, 0x40);
	wr(PCI_MSI_FLAGS, 0, 2);
	cr_assert_eq(live_routes(), 0);
	cr_assert_eq(en.calls, 2);
	cr_assert_eq(en.n, 0);
	cr_assert_not(pci_msi_notify(&msi, 0));
}

Test(pci_msi, vector_count_change_reprograms_the_device)
{
	enable(0, 0x40);
	wr(PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | 2 << 4, 2);
	cr_assert_eq(en.calls, 3, "disable, then enable with 4");
	cr_assert_eq(en.n, 4);
	cr_assert_eq(live_routes(), 4);
}

Test(pci_msi, hostile_writes_to_read_only_fields)
{
	/* Capable count, 64-bit and masking bits are not the guest's. */
	wr(PCI_MSI_FLAGS, 0xffff, 2);
	cr_assert_eq(rd(PCI_MSI_FLAGS, 2) &
			     ~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE),
		     2 << 1 | PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT);
	/* Address bits 1:0, mask bits of absent vectors, pending bits. */
	wr(PCI_MSI_ADDRESS_LO, 0xffffffff, 4);
	cr_assert_eq(rd(PCI_MSI_ADDRESS_LO, 4), 0xfffffffc);
	wr(PCI_MSI_MASK_64, 0xffffffff, 4);
	cr_assert_eq(rd(PCI_MSI_MASK_64, 4), 0xf);
	wr(PCI_MSI_PENDING_64, 0xffffffff, 4);
	cr_assert_eq(rd(PCI_MSI_PENDING_64, 4), 0);
	/* The ID and next pointer. */
	wr(0, 0xffff, 2);
	cr_assert_eq(rd(0, 2), PCI_CAP_ID_MSI);
	/* Byte-wise and unaligned writes do not crash. */
	for (unsigned int i = 0; i < PCI_MSI_CAP_SIZE_64_MASK; i++)
		wr(i, 0xff, 1);
	wr(PCI_MSI_FLAGS + 1, 0xffff, 2);
	cr_assert_leq(msi.nvec, 4);
}

Test(pci_msi, notify_without_host_counts_signals)
{
	const struct host_ops none = { 0 };

	pci_msi_destroy(&msi);
	pci_dev_init(&dev, 0x1234, 0x5678, 0x020000, 1);
	dev.ops = &dev_ops;
	dev.priv = &msi;
	dev.name = "msi-test";
	cr_assert_eq(pci_msi_init(&msi, &dev, 2, false, true, &none), 0);
	cr_assert_eq(msi.fd[0], -1);
	wr(PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | 1 << 4, 2);
	cr_assert(pci_msi_notify(&msi, 1));
	cr_assert_eq(msi.signals, 1);
	cr_assert_not(pci_msi_notify(&msi, 2), "vector beyond the enabled");
}
