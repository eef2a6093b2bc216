// SPDX-License-Identifier: GPL-2.0
#include "virtio_pci.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../vmm/log.h"

#define VIRTIO_PCI_CAP_LEN	  16
#define VIRTIO_PCI_NOTIFY_CAP_LEN 20

/* INTx follows the ISR while MSI-X is off; vdev->lock held. */
static void vp_update_intx(struct virtio_pci *vp)
{
	const struct host_ops *h = vp->host;
	bool level = vp->isr && !vp->msix.enabled;

	if (h && h->set_spi)
		pci_set_intx(&vp->pdev, level, h->set_spi, h->opaque,
			     h->intx_spi_base);
}

/* Transport callbacks: vdev->lock held. */
static void vp_notify_queue(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_pci *vp = vdev->transport;
	uint16_t vec = vp->queue_vector[q];

	/* 4.1.4.5: without MSI-X the ISR and the INTx line tell the driver. */
	if (vec == VIRTIO_MSI_NO_VECTOR || !msix_notify(&vp->msix, vec)) {
		vp->isr |= VIRTIO_PCI_ISR_QUEUE;
		vp_update_intx(vp);
	}
}

static void vp_notify_config(struct virtio_dev *vdev)
{
	struct virtio_pci *vp = vdev->transport;

	vdev->config_generation++;
	vp->isr |= VIRTIO_PCI_ISR_CONFIG;
	if (vp->config_vector == VIRTIO_MSI_NO_VECTOR ||
	    !msix_notify(&vp->msix, vp->config_vector))
		vp_update_intx(vp);
}

static const struct virtio_transport_ops vp_transport_ops = {
	.notify_queue = vp_notify_queue,
	.notify_config = vp_notify_config,
};

static uint16_t checked_vector(struct virtio_pci *vp, uint16_t v)
{
	/* 4.1.5.1.2.1: an unusable vector reads back as NO_VECTOR. */
	return v < vp->msix.nvec ? v : VIRTIO_MSI_NO_VECTOR;
}

static uint64_t common_read(struct virtio_pci *vp, uint64_t off)
{
	struct virtio_dev *vdev = vp->vdev;
	unsigned int q = vp->queue_sel;
	bool qok = q < vdev->ops->num_queues;
	struct virtq *vq = &vdev->vqs[qok ? q : 0];

	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		return vp->dfselect;
	case VIRTIO_PCI_COMMON_DF:
		return virtio_device_features(vdev, vp->dfselect);
	case VIRTIO_PCI_COMMON_GFSELECT:
		return vp->gfselect;
	case VIRTIO_PCI_COMMON_GF:
		return vp->gfselect > 1 ? 0
					: (uint32_t)(vdev->driver_features >>
						     (32 * vp->gfselect));
	case VIRTIO_PCI_COMMON_MSIX:
		return vp->config_vector;
	case VIRTIO_PCI_COMMON_NUMQ:
		return vdev->ops->num_queues;
	case VIRTIO_PCI_COMMON_STATUS:
		return vdev->status;
	case VIRTIO_PCI_COMMON_CFGGENERATION:
		return vdev->config_generation;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		return vp->queue_sel;
	}
	if (!qok)
		return 0; /* 4.1.4.3.1: queue_size reads 0 for an absent queue
			   */
	switch (off) {
	case VIRTIO_PCI_COMMON_Q_SIZE:
		return vdev->qcfg[q].size;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		return vp->queue_vector[q];
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		return vdev->qcfg[q].ready;
	case VIRTIO_PCI_COMMON_Q_NOFF:
		return q;
	case VIRTIO_PCI_COMMON_Q_DESCLO:
		return (uint32_t)vq->desc_addr;
	case VIRTIO_PCI_COMMON_Q_DESCHI:
		return vq->desc_addr >> 32;
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
		return (uint32_t)vq->avail_addr;
	case VIRTIO_PCI_COMMON_Q_AVAILHI:
		return vq->avail_addr >> 32;
	case VIRTIO_PCI_COMMON_Q_USEDLO:
		return (uint32_t)vq->used_addr;
	case VIRTIO_PCI_COMMON_Q_USEDHI:
		return vq->used_addr >> 32;
	case VIRTIO_PCI_COMMON_Q_NDATA:
		return q;
	}
	return 0;
}

/* vdev->lock held */
static void common_write_queue(struct virtio_pci *vp, uint64_t off, uint32_t v)
{
	struct virtio_dev *vdev = vp->vdev;
	unsigned int q = vp->queue_sel;
	struct virtq *vq;

	if (q >= vdev->ops->num_queues)
		return;
	vq = &vdev->vqs[q];
	if (off == VIRTIO_PCI_COMMON_Q_MSIX) {
		vp->queue_vector[q] = checked_vector(vp, v);
		return;
	}
	/* 4.1.4.3.2: the driver must not change an enabled queue. */
	if (!virtio_queue_configurable(vdev, q))
		return;
	switch (off) {
	case VIRTIO_PCI_COMMON_Q_SIZE:
		vdev->qcfg[q].size = v; /* checked by virtq_enable() */
		break;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		vdev->qcfg[q].ready = v == 1;
		break;
	case VIRTIO_PCI_COMMON_Q_DESCLO:
	case VIRTIO_PCI_COMMON_Q_DESCHI:
		virtio_set_addr_half(&vq->desc_addr,
				     off == VIRTIO_PCI_COMMON_Q_DESCHI, v);
		break;
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
	case VIRTIO_PCI_COMMON_Q_AVAILHI:
		virtio_set_addr_half(&vq->avail_addr,
				     off == VIRTIO_PCI_COMMON_Q_AVAILHI, v);
		break;
	case VIRTIO_PCI_COMMON_Q_USEDLO:
	case VIRTIO_PCI_COMMON_Q_USEDHI:
		virtio_set_addr_half(&vq->used_addr,
				     off == VIRTIO_PCI_COMMON_Q_USEDHI, v);
		break;
	}
}

static void common_write(struct virtio_pci *vp, uint64_t off, uint32_t v)
{
	struct virtio_dev *vdev = vp->vdev;

	switch (off) {
	case VIRTIO_PCI_COMMON_STATUS:
		virtio_set_status(vdev, v & 0xff);
		if (!(v & 0xff)) {
			pthread_mutex_lock(&vdev->lock);
			vp->isr = 0;
			vp_update_intx(vp);
			vp->config_vector = VIRTIO_MSI_NO_VECTOR;
			for (unsigned int q = 0; q < VIRTIO_MAX_QUEUES; q++)
				vp->queue_vector[q] = VIRTIO_MSI_NO_VECTOR;
			pthread_mutex_unlock(&vdev->lock);
		}
		return;
	case VIRTIO_PCI_COMMON_GF:
		virtio_set_driver_features(vdev, vp->gfselect, v);
		return;
	}
	pthread_mutex_lock(&vdev->lock);
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		vp->dfselect = v;
		break;
	case VIRTIO_PCI_COMMON_GFSELECT:
		vp->gfselect = v;
		break;
	case VIRTIO_PCI_COMMON_MSIX:
		vp->config_vector = checked_vector(vp, v);
		break;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		vp->queue_sel = v;
		break;
	default:
		common_write_queue(vp, off, v);
		break;
	}
	pthread_mutex_unlock(&vdev->lock);
}

/* 4.1.4.3: each field is accessed with its own width. */
static unsigned int common_width(uint64_t off)
{
	if (off == VIRTIO_PCI_COMMON_STATUS ||
	    off == VIRTIO_PCI_COMMON_CFGGENERATION)
		return 1;
	if (off < VIRTIO_PCI_COMMON_MSIX ||
	    (off >= VIRTIO_PCI_COMMON_Q_DESCLO &&
	     off < VIRTIO_PCI_COMMON_Q_NDATA))
		return 4;
	return 2;
}

static uint64_t vp_bar_read(void *opaque, uint64_t off, unsigned int len)
{
	struct virtio_pci *vp = opaque;
	struct virtio_dev *vdev = vp->vdev;
	uint64_t v = 0;

	if (off < VIRTIO_PCI_COMMON_SIZE) {
		/* 64-bit fields may be read as two halves; else exact width. */
		if (len != common_width(off))
			goto bad;
		pthread_mutex_lock(&vdev->lock);
		v = common_read(vp, off);
		pthread_mutex_unlock(&vdev->lock);
		return v;
	}
	if (off == VIRTIO_PCI_ISR_OFF) {
		/* 4.1.4.5: reading the ISR clears it. */
		pthread_mutex_lock(&vdev->lock);
		v = vp->isr;
		vp->isr = 0;
		vp_update_intx(vp); /* reading the ISR lowers the line */
		pthread_mutex_unlock(&vdev->lock);
		return v;
	}
	if (off >= VIRTIO_PCI_DEVICE_OFF &&
	    off < VIRTIO_PCI_DEVICE_OFF + VIRTIO_PCI_DEVICE_SIZE) {
		virtio_config_read(vdev, off - VIRTIO_PCI_DEVICE_OFF, &v, len);
		return v;
	}
	if (off >= VIRTIO_PCI_MSIX_TABLE_OFF &&
	    off < VIRTIO_PCI_MSIX_TABLE_OFF +
			    MSIX_MAX_VECTORS * MSIX_ENTRY_SIZE)
		return msix_table_read(&vp->msix,
				       off - VIRTIO_PCI_MSIX_TABLE_OFF, len);
	if (off >= VIRTIO_PCI_MSIX_PBA_OFF && off < VIRTIO_PCI_MSIX_PBA_OFF + 8)
		return msix_pba_read(&vp->msix, off - VIRTIO_PCI_MSIX_PBA_OFF,
				     len);
	if (off >= VIRTIO_PCI_NOTIFY_OFF && off < VIRTIO_PCI_MSIX_TABLE_OFF)
		return 0;
bad:
	pr_warn_once(
		vp->warned,
		"%s: %u-byte read at BAR offset 0x%llx ignored (logged once)",
		vp->name, len, (unsigned long long)off);
	return 0;
}

static void vp_bar_write(void *opaque, uint64_t off, uint64_t val,
			 unsigned int len)
{
	struct virtio_pci *vp = opaque;
	struct virtio_dev *vdev = vp->vdev;

	if (off < VIRTIO_PCI_COMMON_SIZE) {
		if (len != common_width(off))
			goto bad;
		common_write(vp, off, (uint32_t)val);
		return;
	}
	if (off >= VIRTIO_PCI_NOTIFY_OFF && off < VIRTIO_PCI_MSIX_TABLE_OFF) {
		/* Reached only when no ioeventfd caught the doorbell. */
		virtio_kick(vdev, (off - VIRTIO_PCI_NOTIFY_OFF) /
					  VIRTIO_PCI_NOTIFY_MULT);
		return;
	}
	if (off >= VIRTIO_PCI_DEVICE_OFF &&
	    off < VIRTIO_PCI_DEVICE_OFF + VIRTIO_PCI_DEVICE_SIZE) {
		virtio_config_write(vdev, off - VIRTIO_PCI_DEVICE_OFF, &val,
				    len);
		return;
	}
	if (off >= VIRTIO_PCI_MSIX_TABLE_OFF &&
	    off < VIRTIO_PCI_MSIX_TABLE_OFF +
			    MSIX_MAX_VECTORS * MSIX_ENTRY_SIZE) {
		msix_table_write(&vp->msix, off - VIRTIO_PCI_MSIX_TABLE_OFF,
				 val, len);
		return;
	}
	if (off == VIRTIO_PCI_ISR_OFF || (off >= VIRTIO_PCI_MSIX_PBA_OFF &&
					  off < VIRTIO_PCI_MSIX_PBA_OFF + 8))
		return; /* read-only */
bad:
	pr_warn_once(
		vp->warned,
		"%s: %u-byte write at BAR offset 0x%llx ignored (logged once)",
		vp->name, len, (unsigned long long)off);
}

static const struct mmio_ops vp_bar_ops = {
	.read = vp_bar_read,
	.write = vp_bar_write,
};

/* Doorbells move with the BAR: one ioeventfd per queue, 2-byte writes. */
static void vp_bar_moved(struct pci_dev *pdev, unsigned int bar, bool mapped,
			 uint64_t addr)
{
	struct virtio_pci *vp = (struct virtio_pci *)pdev;
	const struct host_ops *h = vp->host;

	if (bar != VIRTIO_PCI_BAR || !h || !h->ioeventfd)
		return;
	for (unsigned int q = 0; q < vp->vdev->ops->num_queues; q++) {
		uint64_t db = addr + VIRTIO_PCI_NOTIFY_OFF +
			      q * VIRTIO_PCI_NOTIFY_MULT;
		int r = h->ioeventfd(h->opaque, db, 2, false, 0,
				     vp->vdev->qcfg[q].kick_fd, mapped);

		if (r && mapped)
			pr_info("%s: no ioeventfd for queue %u (%d); notifications trap",
				vp->name, q, r);
	}
	vp->notify_base = mapped ? addr + VIRTIO_PCI_NOTIFY_OFF : 0;
}

static void vp_config_written(struct pci_dev *pdev, uint32_t off, uint32_t len)
{
	struct virtio_pci *vp = (struct virtio_pci *)pdev;

	msix_config_written(&vp->msix, off, len);
	/* MSI-X on, or Command.INTx_Disable: the line may have to drop. */
	pthread_mutex_lock(&vp->vdev->lock);
	vp_update_intx(vp);
	pthread_mutex_unlock(&vp->vdev->lock);
}

static const struct pci_dev_ops vp_pci_ops = {
	.bar_moved = vp_bar_moved,
	.config_written = vp_config_written,
};

static int add_vcap(struct pci_dev *pdev, uint8_t type, uint32_t off,
		    uint32_t len, uint8_t cap_len)
{
	int c = pci_add_capability(pdev, PCI_CAP_ID_VNDR, cap_len);

	if (c < 0)
		return c;
	pdev->cfg[c + 2] = cap_len;
	pdev->cfg[c + 3] = type;
	pdev->cfg[c + 4] = VIRTIO_PCI_BAR;
	pdev->cfg[c + 5] = 0; /* id */
	pci_cfg_set32(pdev->cfg, c + 8, off);
	pci_cfg_set32(pdev->cfg, c + 12, len);
	return c;
}

int virtio_pci_init(struct virtio_pci *vp, struct virtio_dev *vdev,
		    uint32_t class_code, const struct host_ops *host, bool pcie)
{
	struct pci_dev *pdev = &vp->pdev;
	uint32_t dev_cfg_len = vdev->ops->config_size;
	unsigned int nq = vdev->ops->num_queues;
	int r, c;

	memset(vp, 0, sizeof(*vp));
	vp->vdev = vdev;
	vp->host = host;
	vp->config_vector = VIRTIO_MSI_NO_VECTOR;
	for (unsigned int q = 0; q < VIRTIO_MAX_QUEUES; q++)
		vp->queue_vector[q] = VIRTIO_MSI_NO_VECTOR;
	vdev->tops = &vp_transport_ops;
	vdev->transport = vp;

	pci_dev_init(pdev, VIRTIO_PCI_VENDOR,
		     VIRTIO_PCI_DEVICE_BASE + vdev->ops->device_id, class_code,
		     1 /* 4.1.2.1: revision >= 1 for modern-only */);
	pci_set_subsystem(pdev, VIRTIO_PCI_VENDOR,
			  VIRTIO_PCI_DEVICE_BASE + vdev->ops->device_id);
	pdev->ops = &vp_pci_ops;
	pdev->cfg[PCI_INTERRUPT_PIN] = 1; /* INTA, for drivers without MSI-X */
	pdev->priv = vp;
	snprintf(vp->name, sizeof(vp->name), "%s", vdev->ops->name);
	pdev->name = vp->name;

	r = pci_set_bar(pdev, VIRTIO_PCI_BAR, VIRTIO_PCI_BAR_SIZE, true, false,
			&vp_bar_ops, vp);
	if (r)
		return r;
	if (add_vcap(pdev, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF,
		     VIRTIO_PCI_COMMON_SIZE, VIRTIO_PCI_CAP_LEN) < 0 ||
	    add_vcap(pdev, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF, 1,
		     VIRTIO_PCI_CAP_LEN) < 0 ||
	    (dev_cfg_len &&
	     add_vcap(pdev, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_OFF,
		      dev_cfg_len, VIRTIO_PCI_CAP_LEN) < 0))
		return -ENOSPC;
	c = add_vcap(pdev, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFF,
		     nq * VIRTIO_PCI_NOTIFY_MULT, VIRTIO_PCI_NOTIFY_CAP_LEN);
	if (c < 0)
		return c;
	pci_cfg_set32(pdev->cfg, c + 16, VIRTIO_PCI_NOTIFY_MULT);
	if (pcie) {
		r = pci_add_pcie_capability(pdev, true);
		if (r < 0)
			return r;
	}
	r = msix_init(&vp->msix, pdev, nq + 1, VIRTIO_PCI_BAR,
		      VIRTIO_PCI_MSIX_TABLE_OFF, VIRTIO_PCI_MSIX_PBA_OFF, host);
	if (r)
		return r;
	if (host && host->loop)
		return virtio_setup_kicks(vdev, host->loop);
	return 0;
}
