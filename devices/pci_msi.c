// SPDX-License-Identifier: GPL-2.0
#include "pci_msi.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../vmm/log.h"

static unsigned int cap_size(bool is64, bool maskable)
{
	if (maskable)
		return is64 ? PCI_MSI_CAP_SIZE_64_MASK
			    : PCI_MSI_CAP_SIZE_32_MASK;
	return is64 ? PCI_MSI_CAP_SIZE_64 : PCI_MSI_CAP_SIZE_32;
}

static unsigned int data_off(const struct pci_msi *m)
{
	return m->cap + (m->is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32);
}

static unsigned int mask_off(const struct pci_msi *m)
{
	return m->cap + (m->is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);
}

static unsigned int pending_off(const struct pci_msi *m)
{
	return m->cap + (m->is64 ? PCI_MSI_PENDING_64 : PCI_MSI_PENDING_32);
}

static unsigned int log2_exact(unsigned int n)
{
	unsigned int l = 0;

	while ((1U << l) < n)
		l++;
	return l;
}

int pci_msi_init(struct pci_msi *m, struct pci_dev *pdev,
		 unsigned int nvec_capable, bool is64, bool maskable,
		 const struct host_ops *host)
{
	uint32_t vec_bits;
	int cap;

	if (!nvec_capable || nvec_capable > PCI_MSI_MAX_VECTORS ||
	    (nvec_capable & (nvec_capable - 1)))
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	m->pdev = pdev;
	m->host = host;
	m->nvec_capable = nvec_capable;
	m->is64 = is64;
	m->maskable = maskable;
	for (unsigned int i = 0; i < PCI_MSI_MAX_VECTORS; i++) {
		m->fd[i] = -1;
		m->route[i] = -1;
	}
	if (host && host->msi_route_add) {
		for (unsigned int i = 0; i < nvec_capable; i++) {
			m->fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (m->fd[i] < 0) {
				int e = -errno;

				pci_msi_destroy(m);
				return e;
			}
		}
	}
	/* Last, so that a failure leaves no capability behind. */
	cap = pci_add_capability(pdev, PCI_CAP_ID_MSI,
				 cap_size(is64, maskable));
	if (cap < 0) {
		pci_msi_destroy(m);
		return cap;
	}
	m->cap = cap;
	pci_cfg_set16(pdev->cfg, cap + PCI_MSI_FLAGS,
		      log2_exact(nvec_capable) << 1 |
			      (is64 ? PCI_MSI_FLAGS_64BIT : 0) |
			      (maskable ? PCI_MSI_FLAGS_MASKBIT : 0));
	pci_cfg_set16(pdev->wmask, cap + PCI_MSI_FLAGS,
		      PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
	/* 6.8.1.3: the message address is DWORD aligned; bits 1:0 read 0. */
	pci_cfg_set32(pdev->wmask, cap + PCI_MSI_ADDRESS_LO, ~3U);
	if (is64)
		pci_cfg_set32(pdev->wmask, cap + PCI_MSI_ADDRESS_HI, ~0U);
	pci_cfg_set16(pdev->wmask, data_off(m), 0xffff);
	if (maskable) {
		/* 6.8.1.7: only the bits of implemented vectors are RW. */
		vec_bits = nvec_capable == 32 ? ~0U : (1U << nvec_capable) - 1;
		pci_cfg_set32(pdev->wmask, mask_off(m), vec_bits);
	}
	return 0;
}

void pci_msi_set_enable_cb(struct pci_msi *m, pci_msi_enable_fn cb,
			   void *opaque)
{
	m->enable_cb = cb;
	m->cb_opaque = opaque;
}

static void unbind_locked(struct pci_msi *m, unsigned int i)
{
	if (m->route[i] < 0)
		return;
	if (m->host && m->host->msi_route_del)
		m->host->msi_route_del(m->host->opaque, m->route[i], m->fd[i]);
	m->route[i] = -1;
}

void pci_msi_destroy(struct pci_msi *m)
{
	for (unsigned int i = 0; i < PCI_MSI_MAX_VECTORS; i++) {
		unbind_locked(m, i);
		if (m->fd[i] >= 0)
			close(m->fd[i]);
		m->fd[i] = -1;
	}
}

static void fire_locked(struct pci_msi *m, unsigned int i)
{
	uint64_t one = 1;

	m->signals++;
	if (m->fd[i] >= 0) {
		ssize_t r = write(m->fd[i], &one, sizeof(one));

		(void)r; /* a saturated counter still means "pending" */
	}
}

static void drain_locked(struct pci_msi *m, unsigned int i)
{
	uint64_t cnt;

	if (m->fd[i] >= 0) {
		ssize_t r = read(m->fd[i], &cnt, sizeof(cnt));

		(void)r; /* EAGAIN: nothing was pending */
	}
}

/* The device signalled vector @i while it was unbound (assigned devices). */
static bool fd_signalled(const struct pci_msi *m, unsigned int i)
{
	struct pollfd p = { .fd = m->fd[i], .events = POLLIN };

	return m->fd[i] >= 0 && m->route[i] < 0 && poll(&p, 1, 0) == 1 &&
	       (p.revents & POLLIN);
}

static bool deliverable(const struct pci_msi *m, unsigned int i)
{
	return m->enabled && i < m->nvec &&
	       !(m->maskable && (m->mask & (1U << i)));
}

/* 6.8.1.6: the function puts the vector number in the low data bits. */
static uint32_t vector_data(const struct pci_msi *m, unsigned int i)
{
	return (m->data & ~(m->nvec - 1)) | i;
}

/* Bring vector @i's host route in line with the capability; lock held. */
static void sync_vector_locked(struct pci_msi *m, unsigned int i)
{
	const struct host_ops *h = m->host;
	uint32_t data;
	int r;

	if (!deliverable(m, i)) {
		/* Masked: unbound, so a signal waits in the eventfd. */
		unbind_locked(m, i);
		return;
	}
	data = vector_data(m, i);
	if (h && h->msi_route_add) {
		if (m->route[i] < 0) {
			/*
			 * Binding an irqfd whose eventfd is already signalled
			 * delivers that interrupt: a message the device sent
			 * while masked goes out now (6.8.1.8).
			 */
			r = h->msi_route_add(h->opaque, m->addr, data,
					     pci_requester_id(m->pdev),
					     m->fd[i]);
			if (r < 0) {
				pr_warn_once(
					m->warned,
					"%s: cannot route MSI vector %u: %d (logged once)",
					m->pdev->name, i, r);
				return;
			}
			m->route[i] = r;
		} else if (m->addr != m->route_addr[i] ||
			   data != m->route_data[i]) {
			h->msi_route_update(h->opaque, m->route[i], m->addr,
					    data, pci_requester_id(m->pdev));
		}
		m->route_addr[i] = m->addr;
		m->route_data[i] = data;
	}
	if (m->pending & (1U << i)) {
		m->pending &= ~(1U << i);
		fire_locked(m, i);
	}
}

/* Mirror the pending bits into config space; m->lock held. */
static void publish_pending_locked(struct pci_msi *m)
{
	uint32_t p = m->pending;

	if (!m->maskable)
		return;
	for (unsigned int i = 0; i < m->nvec; i++)
		if (fd_signalled(m, i))
			p |= 1U << i;
	pthread_mutex_lock(&m->pdev->lock);
	pci_cfg_set32(m->pdev->cfg, pending_off(m), p);
	pthread_mutex_unlock(&m->pdev->lock);
}

/*
 * Read the guest's view of the capability, clamping a Multiple Message
 * Enable above the capable count (6.8.1.3: undefined; we take the largest
 * legal value and say so once).
 */
static uint16_t read_control(struct pci_msi *m)
{
	struct pci_dev *pdev = m->pdev;
	unsigned int off = m->cap + PCI_MSI_FLAGS;
	unsigned int cap_log2 = log2_exact(m->nvec_capable);
	uint16_t ctl, mme;

	pthread_mutex_lock(&pdev->lock);
	ctl = pci_cfg_get16(pdev, off);
	mme = (ctl & PCI_MSI_FLAGS_QSIZE) >> 4;
	if (mme > cap_log2) {
		ctl = (ctl & ~PCI_MSI_FLAGS_QSIZE) | cap_log2 << 4;
		pci_cfg_set16(pdev->cfg, off, ctl);
	}
	pthread_mutex_unlock(&pdev->lock);
	if (mme > cap_log2)
		pr_warn_once(
			m->warned,
			"%s: MSI Multiple Message Enable %u above capable %u; clamped (logged once)",
			pdev->name, 1U << mme, m->nvec_capable);
	return ctl;
}

void pci_msi_config_written(struct pci_msi *m, uint32_t off, uint32_t len)
{
	struct pci_dev *pdev = m->pdev;
	unsigned int size = cap_size(m->is64, m->maskable);
	unsigned int old_nvec;
	bool was_enabled;
	uint16_t ctl;

	if (off >= (uint32_t)m->cap + size || off + len <= (uint32_t)m->cap)
		return;
	ctl = read_control(m);
	pthread_mutex_lock(&m->lock);
	was_enabled = m->enabled;
	old_nvec = m->nvec;
	m->enabled = ctl & PCI_MSI_FLAGS_ENABLE;
	m->nvec = m->enabled ? 1U << ((ctl & PCI_MSI_FLAGS_QSIZE) >> 4) : 0;
	m->addr = pci_config_read(pdev, m->cap + PCI_MSI_ADDRESS_LO, 4);
	if (m->is64)
		m->addr |= (uint64_t)pci_config_read(
				   pdev, m->cap + PCI_MSI_ADDRESS_HI, 4)
			   << 32;
	m->data = pci_config_read(pdev, data_off(m), 2);
	m->mask = m->maskable ? pci_config_read(pdev, mask_off(m), 4) : 0;

	if (was_enabled && (!m->enabled || old_nvec != m->nvec)) {
		for (unsigned int i = 0; i < PCI_MSI_MAX_VECTORS; i++) {
			unbind_locked(m, i);
			/* Nothing raised under the old setup survives it. */
			drain_locked(m, i);
		}
		m->pending = 0;
		if (m->enable_cb)
			m->enable_cb(m->cb_opaque, NULL, 0);
	}
	if (m->enabled && (!was_enabled || old_nvec != m->nvec) && m->enable_cb)
		m->enable_cb(m->cb_opaque, m->fd, m->nvec);
	for (unsigned int i = 0; i < PCI_MSI_MAX_VECTORS; i++)
		sync_vector_locked(m, i);
	publish_pending_locked(m);
	pthread_mutex_unlock(&m->lock);
}

bool pci_msi_notify(struct pci_msi *m, unsigned int vec)
{
	bool ok = true;

	pthread_mutex_lock(&m->lock);
	if (!m->enabled || vec >= m->nvec) {
		ok = false;
	} else if (!deliverable(m, vec) ||
		   (m->host && m->host->msi_route_add && m->route[vec] < 0)) {
		m->pending |= 1U << vec;
		publish_pending_locked(m);
	} else {
		fire_locked(m, vec);
	}
	pthread_mutex_unlock(&m->lock);
	return ok;
}

bool pci_msi_is_pending(struct pci_msi *m, unsigned int vec)
{
	bool p;

	pthread_mutex_lock(&m->lock);
	p = vec < m->nvec &&
	    ((m->pending & (1U << vec)) || fd_signalled(m, vec));
	pthread_mutex_unlock(&m->lock);
	return p;
}

unsigned int pci_msi_rebind(struct pci_msi *m)
{
	unsigned int n = 0;

	pthread_mutex_lock(&m->lock);
	for (unsigned int i = 0; i < m->nvec; i++) {
		if (m->route[i] < 0)
			continue;
		unbind_locked(m, i);
		sync_vector_locked(m, i);
		n += m->route[i] >= 0;
	}
	pthread_mutex_unlock(&m->lock);
	return n;
}

unsigned int pci_msi_bound(struct pci_msi *m)
{
	unsigned int n = 0;

	pthread_mutex_lock(&m->lock);
	for (unsigned int i = 0; i < m->nvec; i++)
		n += m->route[i] >= 0;
	pthread_mutex_unlock(&m->lock);
	return n;
}
