// SPDX-License-Identifier: GPL-2.0
#include "msix.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../vmm/log.h"

int msix_init(struct msix *m, struct pci_dev *pdev, unsigned int nvec,
	      unsigned int bar, uint32_t table_off, uint32_t pba_off,
	      const struct host_ops *host)
{
	int cap;

	if (!nvec || nvec > MSIX_MAX_VECTORS || (table_off & 7) ||
	    (pba_off & 7))
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	m->pdev = pdev;
	m->host = host;
	m->nvec = nvec;
	for (unsigned int i = 0; i < nvec; i++) {
		/* 6.8.2.9: vectors come out of reset masked. */
		m->vec[i].ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT;
		m->vec[i].route = -1;
		m->vec[i].fd = -1;
		if (host && host->msi_route_add) {
			m->vec[i].fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (m->vec[i].fd < 0)
				return -errno;
		}
	}
	cap = pci_add_capability(pdev, PCI_CAP_ID_MSIX, MSIX_CAP_SIZE);
	if (cap < 0)
		return cap;
	m->cap = cap;
	pci_cfg_set16(pdev->cfg, cap + PCI_MSIX_FLAGS, nvec - 1);
	pci_cfg_set16(pdev->wmask, cap + PCI_MSIX_FLAGS,
		      PCI_MSIX_FLAGS_MASKALL | PCI_MSIX_FLAGS_ENABLE);
	pci_cfg_set32(pdev->cfg, cap + PCI_MSIX_TABLE, table_off | bar);
	pci_cfg_set32(pdev->cfg, cap + PCI_MSIX_PBA, pba_off | bar);
	return 0;
}

void msix_destroy(struct msix *m)
{
	for (unsigned int i = 0; i < m->nvec; i++) {
		if (m->vec[i].route >= 0 && m->host->msi_route_del)
			m->host->msi_route_del(m->host->opaque, m->vec[i].route,
					       m->vec[i].fd);
		if (m->vec[i].fd >= 0)
			close(m->vec[i].fd);
		m->vec[i].fd = -1;
		m->vec[i].route = -1;
	}
}

static bool deliverable(const struct msix *m, unsigned int i)
{
	return m->enabled && !m->masked_all &&
	       !(m->vec[i].ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

static void fire_locked(struct msix *m, unsigned int i)
{
	uint64_t one = 1;

	m->signals++;
	if (m->vec[i].fd >= 0) {
		ssize_t r = write(m->vec[i].fd, &one, sizeof(one));

		(void)r; /* a saturated counter still means "pending" */
	}
}

/* Bring vector @i's host route in line with its entry; lock held. */
static void sync_vector_locked(struct msix *m, unsigned int i)
{
	struct msix_vector *v = &m->vec[i];
	uint64_t addr = (uint64_t)v->addr_hi << 32 | v->addr_lo;
	const struct host_ops *h = m->host;
	int r;

	if (!deliverable(m, i)) {
		if (m->unbind_masked && v->route >= 0 && h &&
		    h->msi_route_del) {
			h->msi_route_del(h->opaque, v->route, v->fd);
			v->route = -1;
		}
		return;
	}
	if (h && h->msi_route_add) {
		if (v->route < 0) {
			r = h->msi_route_add(h->opaque, addr, v->data,
					     pci_requester_id(m->pdev), v->fd);
			if (r < 0) {
				pr_warn_once(
					m->warned,
					"%s: cannot route MSI-X vector %u: %d (logged once)",
					m->pdev->name, i, r);
				return;
			}
			v->route = r;
		} else if (addr != v->route_addr || v->data != v->route_data) {
			h->msi_route_update(h->opaque, v->route, addr, v->data,
					    pci_requester_id(m->pdev));
		}
		v->route_addr = addr;
		v->route_data = v->data;
	}
	/* 6.8.2.9: a pending message goes out once the vector is unmasked. */
	if (m->pba & (1ULL << i)) {
		m->pba &= ~(1ULL << i);
		fire_locked(m, i);
	}
}

uint64_t msix_table_read(struct msix *m, uint64_t off, unsigned int len)
{
	unsigned int i = off / MSIX_ENTRY_SIZE;
	uint64_t v;

	/* 6.8.2: DWORD or aligned QWORD accesses only. */
	if ((len != 4 && len != 8) || (off & (len - 1)) || i >= m->nvec)
		return 0;
	pthread_mutex_lock(&m->lock);
	{
		const uint32_t *e = &m->vec[i].addr_lo;
		unsigned int w = (off % MSIX_ENTRY_SIZE) / 4;

		v = e[w];
		if (len == 8)
			v |= (uint64_t)e[w + 1] << 32;
	}
	pthread_mutex_unlock(&m->lock);
	return v;
}

static void write_dword_locked(struct msix *m, unsigned int i, unsigned int w,
			       uint32_t val)
{
	struct msix_vector *v = &m->vec[i];

	switch (w * 4) {
	case PCI_MSIX_ENTRY_ADDR_LO:
		v->addr_lo = val & ~3U; /* DWORD-aligned message address */
		break;
	case PCI_MSIX_ENTRY_ADDR_HI:
		v->addr_hi = val;
		break;
	case PCI_MSIX_ENTRY_DATA:
		v->data = val;
		break;
	case PCI_MSIX_ENTRY_CTRL:
		v->ctrl = val & PCI_MSIX_ENTRY_CTRL_MASKBIT;
		break;
	}
}

void msix_table_write(struct msix *m, uint64_t off, uint64_t val,
		      unsigned int len)
{
	unsigned int i = off / MSIX_ENTRY_SIZE;
	unsigned int w = (off % MSIX_ENTRY_SIZE) / 4;

	if ((len != 4 && len != 8) || (off & (len - 1)) || i >= m->nvec) {
		pr_warn_once(
			m->warned,
			"%s: bad MSI-X table access (%u bytes at 0x%llx) ignored (logged once)",
			m->pdev->name, len, (unsigned long long)off);
		return;
	}
	pthread_mutex_lock(&m->lock);
	write_dword_locked(m, i, w, (uint32_t)val);
	if (len == 8)
		write_dword_locked(m, i, w + 1, (uint32_t)(val >> 32));
	sync_vector_locked(m, i);
	pthread_mutex_unlock(&m->lock);
}

uint64_t msix_pba_read(struct msix *m, uint64_t off, unsigned int len)
{
	uint64_t v;

	if ((len != 4 && len != 8) || (off & (len - 1)) || off >= 8)
		return 0;
	pthread_mutex_lock(&m->lock);
	v = m->pba >> (8 * off);
	pthread_mutex_unlock(&m->lock);
	return len == 4 ? (uint32_t)v : v;
}

void msix_config_written(struct msix *m, uint32_t off, uint32_t len)
{
	uint16_t ctl;

	if (off >= (uint32_t)m->cap + MSIX_CAP_SIZE ||
	    off + len <= (uint32_t)m->cap)
		return;
	ctl = pci_config_read(m->pdev, m->cap + PCI_MSIX_FLAGS, 2);
	pthread_mutex_lock(&m->lock);
	m->enabled = ctl & PCI_MSIX_FLAGS_ENABLE;
	m->masked_all = ctl & PCI_MSIX_FLAGS_MASKALL;
	for (unsigned int i = 0; i < m->nvec; i++)
		sync_vector_locked(m, i);
	pthread_mutex_unlock(&m->lock);
}

bool msix_notify(struct msix *m, unsigned int vec)
{
	bool ok = true;

	pthread_mutex_lock(&m->lock);
	if (!m->enabled || vec >= m->nvec)
		ok = false;
	else if (!deliverable(m, vec) ||
		 (m->host && m->host->msi_route_add && m->vec[vec].route < 0))
		m->pba |= 1ULL << vec;
	else
		fire_locked(m, vec);
	pthread_mutex_unlock(&m->lock);
	return ok;
}

bool msix_is_pending(struct msix *m, unsigned int vec)
{
	bool p;

	pthread_mutex_lock(&m->lock);
	p = vec < m->nvec && (m->pba & (1ULL << vec));
	pthread_mutex_unlock(&m->lock);
	return p;
}

unsigned int msix_rebind(struct msix *m)
{
	const struct host_ops *h = m->host;
	unsigned int n = 0;

	if (!h || !h->msi_route_add || !h->msi_route_del)
		return 0;
	pthread_mutex_lock(&m->lock);
	for (unsigned int i = 0; i < m->nvec; i++) {
		struct msix_vector *v = &m->vec[i];

		if (v->route < 0)
			continue;
		h->msi_route_del(h->opaque, v->route, v->fd);
		v->route = -1;
		sync_vector_locked(m, i); /* binds it again */
		n += v->route >= 0;
	}
	pthread_mutex_unlock(&m->lock);
	return n;
}

unsigned int msix_bound(struct msix *m)
{
	unsigned int n = 0;

	pthread_mutex_lock(&m->lock);
	for (unsigned int i = 0; i < m->nvec; i++)
		n += m->vec[i].route >= 0;
	pthread_mutex_unlock(&m->lock);
	return n;
}
