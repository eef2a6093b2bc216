// SPDX-License-Identifier: GPL-2.0
#include "testdev.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../vmm/log.h"

/* A doorbell reached the loop (ioeventfd) or trapped: raise vector 0. */
static void ring(struct testdev *t)
{
	atomic_fetch_add(&t->doorbells, 1);
	msix_notify(&t->msix, 0);
}

static void doorbell_cb(struct evloop_source *src, int res)
{
	struct testdev *t = src->opaque;
	uint64_t n = 0;

	(void)res;
	if (read(t->doorbell_fd, &n, sizeof(n)) != sizeof(n))
		return;
	/* Several rings may have coalesced in the eventfd: one interrupt. */
	ring(t);
}

/* Vector 1's message straight into KVM (KVM_SIGNAL_MSI), if unmasked. */
static void inject(struct testdev *t)
{
	struct msix_vector v;
	bool deliverable;

	pthread_mutex_lock(&t->msix.lock);
	v = t->msix.vec[1];
	deliverable = t->msix.enabled && !t->msix.masked_all &&
		      !(v.ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
	pthread_mutex_unlock(&t->msix.lock);
	atomic_fetch_add(&t->injects, 1);
	if (!deliverable || !t->host || !t->host->signal_msi) {
		msix_notify(&t->msix, 1); /* latched in the PBA */
		return;
	}
	t->host->signal_msi(t->host->opaque,
			    (uint64_t)v.addr_hi << 32 | v.addr_lo, v.data,
			    pci_requester_id(&t->pdev));
}

static uint64_t bar_read(void *dev, uint64_t off, unsigned int len)
{
	struct testdev *t = dev;

	if (off >= TESTDEV_MSIX_PBA)
		return msix_pba_read(&t->msix, off - TESTDEV_MSIX_PBA, len);
	if (off >= TESTDEV_MSIX_TABLE)
		return msix_table_read(&t->msix, off - TESTDEV_MSIX_TABLE, len);
	if (len != 4)
		return 0;
	switch (off) {
	case TESTDEV_REG_ID:
		return TESTDEV_ID;
	case TESTDEV_REG_ECHO:
		return t->echo;
	case TESTDEV_REG_DOORBELLS:
		return atomic_load(&t->doorbells);
	default:
		return 0;
	}
}

static void bar_write(void *dev, uint64_t off, uint64_t val, unsigned int len)
{
	struct testdev *t = dev;

	if (off >= TESTDEV_MSIX_PBA)
		return;
	if (off >= TESTDEV_MSIX_TABLE) {
		msix_table_write(&t->msix, off - TESTDEV_MSIX_TABLE, val, len);
		return;
	}
	if (len != 4)
		return;
	switch (off) {
	case TESTDEV_REG_ECHO:
		t->echo = val;
		break;
	case TESTDEV_REG_DOORBELL:
		ring(t); /* no ioeventfd caught it */
		break;
	case TESTDEV_REG_INJECT:
		inject(t);
		break;
	}
}

static const struct mmio_ops bar_ops = {
	.read = bar_read,
	.write = bar_write,
};

static void bar_moved(struct pci_dev *pdev, unsigned int bar, bool mapped,
		      uint64_t addr)
{
	struct testdev *t = (struct testdev *)pdev;
	const struct host_ops *h = t->host;

	if (bar || !h || !h->ioeventfd || t->doorbell_fd < 0)
		return;
	if (h->ioeventfd(h->opaque, addr + TESTDEV_REG_DOORBELL, 4, false, 0,
			 t->doorbell_fd, mapped) &&
	    mapped)
		pr_info("testdev: no ioeventfd for the doorbell; it traps");
}

static void config_written(struct pci_dev *pdev, uint32_t off, uint32_t len)
{
	msix_config_written(&((struct testdev *)pdev)->msix, off, len);
}

static const struct pci_dev_ops pci_ops = {
	.bar_moved = bar_moved,
	.config_written = config_written,
};

int testdev_init(struct testdev *t, const struct host_ops *host)
{
	int r;

	memset(t, 0, sizeof(*t));
	t->host = host;
	t->doorbell_fd = -1;
	pci_dev_init(&t->pdev, TESTDEV_VENDOR, TESTDEV_DEVICE,
		     0xff0000 /* unclassified */, 1);
	t->pdev.ops = &pci_ops;
	t->pdev.priv = t;
	t->pdev.name = "testdev";
	r = pci_set_bar(&t->pdev, 0, TESTDEV_BAR_SIZE, false, false, &bar_ops,
			t);
	if (!r)
		r = pci_add_pcie_capability(&t->pdev, true);
	if (r < 0)
		return r;
	r = msix_init(&t->msix, &t->pdev, TESTDEV_VECTORS, 0,
		      TESTDEV_MSIX_TABLE, TESTDEV_MSIX_PBA, host);
	if (r)
		return r;
	if (host && host->loop) {
		t->doorbell_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (t->doorbell_fd < 0)
			return -errno;
		r = evloop_add(host->loop, &t->doorbell_src, t->doorbell_fd,
			       POLLIN, true, doorbell_cb, t);
		if (r)
			return r;
	}
	return 0;
}

void testdev_destroy(struct testdev *t)
{
	msix_destroy(&t->msix);
	if (t->doorbell_fd >= 0)
		close(t->doorbell_fd);
	t->doorbell_fd = -1;
}
