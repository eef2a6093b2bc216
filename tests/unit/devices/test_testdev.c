// SPDX-License-Identifier: GPL-2.0
#include <criterion/criterion.h>
#include <string.h>

#include "devices/testdev.h"

/* A host that only records KVM_SIGNAL_MSI calls. */
static struct {
	int calls;
	uint64_t addr;
	uint32_t data, devid;
} sig;

static int fake_signal_msi(void *o, uint64_t addr, uint32_t data,
			   uint32_t devid)
{
	(void)o;
	sig.calls++;
	sig.addr = addr;
	sig.data = data;
	sig.devid = devid;
	return 0;
}

static const struct host_ops host = { .signal_msi = fake_signal_msi };
static struct testdev t;

static uint32_t rd(uint64_t off)
{
	return t.pdev.bars[0].ops->read(t.pdev.bars[0].opaque, off, 4);
}

static void wr(uint64_t off, uint32_t v)
{
	t.pdev.bars[0].ops->write(t.pdev.bars[0].opaque, off, v, 4);
}

static void setup(void)
{
	memset(&sig, 0, sizeof(sig));
	cr_assert_eq(testdev_init(&t, &host), 0);
	t.pdev.requester_id = 0x18; /* 00:03.0 */
}

static void teardown(void)
{
	testdev_destroy(&t);
}

TestSuite(testdev, .init = setup, .fini = teardown, .timeout = 10);

/* Program vector @v of the MSI-X table and unmask it. */
static void vector(unsigned int v, uint64_t addr, uint32_t data)
{
	uint64_t e = TESTDEV_MSIX_TABLE + 16 * v;

	wr(e + PCI_MSIX_ENTRY_ADDR_LO, (uint32_t)addr);
	wr(e + PCI_MSIX_ENTRY_ADDR_HI, addr >> 32);
	wr(e + PCI_MSIX_ENTRY_DATA, data);
	wr(e + PCI_MSIX_ENTRY_CTRL, 0);
}

static void msix_enable(void)
{
	uint32_t off = t.msix.cap + PCI_MSIX_FLAGS;

	pci_config_write(&t.pdev, off, PCI_MSIX_FLAGS_ENABLE, 2);
}

Test(testdev, identifies_itself_and_echoes)
{
	cr_assert_eq(pci_config_read(&t.pdev, PCI_VENDOR_ID, 2), TESTDEV_VENDOR);
	cr_assert_eq(pci_config_read(&t.pdev, PCI_DEVICE_ID, 2), TESTDEV_DEVICE);
	cr_assert_eq(rd(TESTDEV_REG_ID), TESTDEV_ID);
	wr(TESTDEV_REG_ECHO, 0xdeadbeef);
	cr_assert_eq(rd(TESTDEV_REG_ECHO), 0xdeadbeef);
	cr_assert_eq(t.msix.nvec, TESTDEV_VECTORS);
}

Test(testdev, a_trapped_doorbell_raises_vector_0)
{
	wr(TESTDEV_REG_DOORBELL, 1);
	wr(TESTDEV_REG_DOORBELL, 1);
	cr_assert_eq(rd(TESTDEV_REG_DOORBELLS), 2);
	/* MSI-X is off: nothing is delivered and nothing is latched. */
	cr_assert_not(msix_is_pending(&t.msix, 0));
	msix_enable();
	wr(TESTDEV_MSIX_TABLE + PCI_MSIX_ENTRY_CTRL, PCI_MSIX_ENTRY_CTRL_MASKBIT);
	wr(TESTDEV_REG_DOORBELL, 1);
	cr_assert(msix_is_pending(&t.msix, 0), "masked: latched in the PBA");
	cr_assert_eq(sig.calls, 0, "the doorbell never uses KVM_SIGNAL_MSI");
}

Test(testdev, inject_signals_vector_1s_message_with_the_requester_id)
{
	msix_enable();
	vector(1, 0x0a020040, 0x21);
	wr(TESTDEV_REG_INJECT, 1);
	cr_assert_eq(sig.calls, 1);
	cr_assert_eq(sig.addr, 0x0a020040);
	cr_assert_eq(sig.data, 0x21);
	cr_assert_eq(sig.devid, 0x18);
}

Test(testdev, inject_of_a_masked_vector_is_latched_not_signalled)
{
	msix_enable();
	vector(1, 0x0a020040, 0x21);
	wr(TESTDEV_MSIX_TABLE + 16 + PCI_MSIX_ENTRY_CTRL,
	   PCI_MSIX_ENTRY_CTRL_MASKBIT);
	wr(TESTDEV_REG_INJECT, 1);
	cr_assert_eq(sig.calls, 0);
	cr_assert(msix_is_pending(&t.msix, 1));
}

Test(testdev, odd_sizes_and_unknown_registers_are_harmless)
{
	t.pdev.bars[0].ops->write(t.pdev.bars[0].opaque, TESTDEV_REG_INJECT, 1,
				  1);
	cr_assert_eq(sig.calls, 0);
	cr_assert_eq(t.pdev.bars[0].ops->read(t.pdev.bars[0].opaque,
					      TESTDEV_REG_ID, 2),
		     0);
	cr_assert_eq(rd(0x100), 0);
	wr(0x100, 5);
}

/* msix_rebind(): every bound vector is unbound and bound again. */
static struct {
	int adds, dels, next;
} rt;

static int rt_add(void *o, uint64_t a, uint32_t d, uint32_t devid, int fd)
{
	(void)o, (void)a, (void)d, (void)devid, (void)fd;
	rt.adds++;
	return rt.next++;
}

static int rt_update(void *o, int route, uint64_t a, uint32_t d,
		     uint32_t devid)
{
	(void)o, (void)route, (void)a, (void)d, (void)devid;
	return 0;
}

static void rt_del(void *o, int route, int fd)
{
	(void)o, (void)route, (void)fd;
	rt.dels++;
}

Test(testdev, msix_rebind_binds_every_bound_vector_again)
{
	static const struct host_ops h = { .msi_route_add = rt_add,
					   .msi_route_update = rt_update,
					   .msi_route_del = rt_del };
	struct testdev d;

	memset(&rt, 0, sizeof(rt));
	cr_assert_eq(testdev_init(&d, &h), 0);
	d.msix.unbind_masked = true; /* as for assigned devices */
	pci_config_write(&d.pdev, d.msix.cap + PCI_MSIX_FLAGS,
			 PCI_MSIX_FLAGS_ENABLE, 2);
	for (unsigned int v = 0; v < TESTDEV_VECTORS; v++) {
		uint64_t e = TESTDEV_MSIX_TABLE + 16 * v;

		d.pdev.bars[0].ops->write(&d, e + PCI_MSIX_ENTRY_ADDR_LO,
					  0x0a020040, 4);
		d.pdev.bars[0].ops->write(&d, e + PCI_MSIX_ENTRY_DATA, v, 4);
		d.pdev.bars[0].ops->write(&d, e + PCI_MSIX_ENTRY_CTRL, 0, 4);
	}
	/* Vector 1 masked again: not bound, so not rebound. */
	d.pdev.bars[0].ops->write(&d, TESTDEV_MSIX_TABLE + 16 + 12, 1, 4);
	cr_assert_eq(msix_bound(&d.msix), 1);
	rt.adds = rt.dels = 0;
	cr_assert_eq(msix_rebind(&d.msix), 1);
	cr_assert_eq(rt.dels, 1);
	cr_assert_eq(rt.adds, 1);
	cr_assert_eq(msix_bound(&d.msix), 1);
	testdev_destroy(&d);
}
