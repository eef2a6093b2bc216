// SPDX-License-Identifier: GPL-2.0
#include "vfio_pci.h"

#include <errno.h>
#include <linux/vfio.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../vmm/log.h"

/* 6.7: capability pointers live in 0x40-0xff, DWORD aligned; at most
 * (256 - 64) / 4 of them fit. */
#define VFIO_PCI_CAP_MIN	  0x40
#define VFIO_PCI_MAX_CAPS	  48
#define PCI_CAP_ID_PM		  0x01
#define PCI_PM_SIZEOF		  8
#define PCI_PM_PMC		  2
#define PCI_PM_PMC_PME_MASK	  0xf800 /* PME_Support: no PME is delivered */
#define PCI_PM_CTRL		  4
#define PCI_PM_CTRL_NO_SOFT_RESET 0x0008
#define PCI_EXP_SIZEOF_V1	  0x14 /* PCI_CAP_EXP_ENDPOINT_SIZEOF_V1 */
#define PCI_EXP_FLAGS_VERS	  0x000f
#define PCI_EXP_DEVCAP_FLR	  0x10000000
#define PCI_EXP_DEVCTL_BCR_FLR	  0x8000
/* Status bits that describe the function rather than an event */
#define PCI_STATUS_RO_INFO     0x06a0 /* 66 MHz, fast back-to-back, DEVSEL */
#define PCI_HEADER_TYPE_MASK   0x7f
#define PCI_HEADER_TYPE_MFD    0x80
#define PCI_BAR_IO	       0x1
#define PCI_BAR_MEM_TYPE_MASK  0x6
#define PCI_BAR_MEM_TYPE_64    0x4
#define PCI_ROM_ADDRESS_ENABLE 0x1
#define PCI_ROM_ADDRESS_MASK   0xfffff800U
#define PCI_ROM_MIN_SIZE       2048
#define PCI_BAR_MIN_SIZE       4096 /* pci_set_bar() granule: one page */
#define PCI_MSIX_BIR_MASK      0x7
/* What the guest's Command write reaches on the device */
#define VFIO_PCI_CMD_FORWARD \
	(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE)

static uint16_t get16(const uint8_t *b, unsigned int off)
{
	return b[off] | b[off + 1] << 8;
}

static uint32_t get32(const uint8_t *b, unsigned int off)
{
	return get16(b, off) | (uint32_t)get16(b, off + 2) << 16;
}

static uint64_t pow2_at_least(uint64_t n, uint64_t min)
{
	uint64_t p = min;

	while (p < n && p <= (UINT64_MAX >> 1))
		p <<= 1;
	return p;
}

static bool valid_len(unsigned int len)
{
	return len == 1 || len == 2 || len == 4 || len == 8;
}

/* [off, off + len) inside [start, start + size), without overflow */
static bool inside(uint64_t off, unsigned int len, uint64_t start,
		   uint64_t size)
{
	return off >= start && off - start <= size &&
	       len <= size - (off - start);
}

static bool overlaps(uint64_t off, unsigned int len, uint64_t start,
		     uint64_t size)
{
	return off < start + size && start < off + len;
}

static uint64_t all_ones(unsigned int len)
{
	return len >= 8 ? ~0ULL : (1ULL << (8 * len)) - 1;
}

/* A trapped access to the real region, bounds-checked. */
static uint64_t region_read(struct vfio_pci *v, unsigned int region,
			    uint64_t off, unsigned int len)
{
	const struct vfio_pci_region *r = &v->info.region[region];
	uint64_t val = 0;
	int e;

	if (!valid_len(len) || !inside(off, len, 0, r->size) ||
	    !(r->flags & VFIO_REGION_INFO_FLAG_READ)) {
		pr_warn_once(
			v->warned,
			"%s: %u-byte read at region %u offset 0x%llx out of bounds (logged once)",
			v->name, len, region, (unsigned long long)off);
		return all_ones(len);
	}
	e = v->ops->read(v->opaque, region, off, &val, len);
	if (e < 0) {
		pr_warn_once(
			v->warned,
			"%s: read of region %u at 0x%llx failed: %d (logged once)",
			v->name, region, (unsigned long long)off, e);
		return all_ones(len);
	}
	return val; /* both the host and the device are little-endian here */
}

static void region_write(struct vfio_pci *v, unsigned int region, uint64_t off,
			 uint64_t val, unsigned int len)
{
	const struct vfio_pci_region *r = &v->info.region[region];
	int e;

	if (!valid_len(len) || !inside(off, len, 0, r->size) ||
	    !(r->flags & VFIO_REGION_INFO_FLAG_WRITE)) {
		pr_warn_once(
			v->warned,
			"%s: %u-byte write at region %u offset 0x%llx out of bounds (logged once)",
			v->name, len, region, (unsigned long long)off);
		return;
	}
	e = v->ops->write(v->opaque, region, off, &val, len);
	if (e < 0)
		pr_warn_once(
			v->warned,
			"%s: write of region %u at 0x%llx failed: %d (logged once)",
			v->name, region, (unsigned long long)off, e);
}

static bool msix_pba_bar_is(const struct vfio_pci *v, unsigned int bar)
{
	return (pci_cfg_get32(&v->pdev, v->msix.cap + PCI_MSIX_PBA) &
		PCI_MSIX_BIR_MASK) == bar;
}

static uint64_t bar_read(void *opaque, uint64_t off, unsigned int len)
{
	struct vfio_pci_bar_ref *ref = opaque;
	struct vfio_pci *v = ref->v;

	if (v->has_msix && ref->bar == v->msix_bar &&
	    overlaps(off, len, v->msix_table_off, v->msix_table_len)) {
		if (!inside(off, len, v->msix_table_off, v->msix_table_len))
			return 0; /* straddles the table: msix.c would too */
		return msix_table_read(&v->msix, off - v->msix_table_off, len);
	}
	if (v->has_msix && msix_pba_bar_is(v, ref->bar) &&
	    overlaps(off, len, v->msix_pba_off, v->msix_pba_len)) {
		if (!inside(off, len, v->msix_pba_off, v->msix_pba_len))
			return 0;
		return msix_pba_read(&v->msix, off - v->msix_pba_off, len);
	}
	return region_read(v, VFIO_PCI_BAR0_REGION_INDEX + ref->bar, off, len);
}

static void bar_write(void *opaque, uint64_t off, uint64_t val,
		      unsigned int len)
{
	struct vfio_pci_bar_ref *ref = opaque;
	struct vfio_pci *v = ref->v;

	/* The guest programs the emulated table; VFIO programs the real one. */
	if (v->has_msix && ref->bar == v->msix_bar &&
	    overlaps(off, len, v->msix_table_off, v->msix_table_len)) {
		msix_table_write(&v->msix, off - v->msix_table_off, val, len);
		return;
	}
	if (v->has_msix && msix_pba_bar_is(v, ref->bar) &&
	    overlaps(off, len, v->msix_pba_off, v->msix_pba_len))
		return; /* 6.8.2.10: the PBA is read-only */
	region_write(v, VFIO_PCI_BAR0_REGION_INDEX + ref->bar, off, val, len);
}

static const struct mmio_ops vfio_pci_bar_ops = {
	.read = bar_read,
	.write = bar_write,
};

static uint64_t rom_read(void *opaque, uint64_t off, unsigned int len)
{
	struct vfio_pci_bar_ref *ref = opaque;

	return region_read(ref->v, VFIO_PCI_ROM_REGION_INDEX, off, len);
}

static void rom_write(void *opaque, uint64_t off, uint64_t val,
		      unsigned int len)
{
	(void)opaque;
	(void)off;
	(void)val;
	(void)len; /* a ROM */
}

const struct mmio_ops vfio_pci_rom_ops = {
	.read = rom_read,
	.write = rom_write,
};

static void vfio_bar_moved(struct pci_dev *pdev, unsigned int bar, bool mapped,
			   uint64_t addr)
{
	struct vfio_pci *v = (struct vfio_pci *)pdev;

	if (v->ops->bar_moved)
		v->ops->bar_moved(v->opaque, bar, mapped, addr);
}

static bool touches(uint32_t off, uint32_t len, uint32_t start, uint32_t size)
{
	return off < start + size && start < off + len;
}

/* Read-modify-write of the real Command register (PCI Local Bus 3.0, 6.2.2). */
static void forward_command(struct vfio_pci *v)
{
	uint16_t emu = pci_config_read(&v->pdev, PCI_COMMAND, 2);
	uint16_t real, want;
	int e;

	e = v->ops->read(v->opaque, VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND,
			 &real, sizeof(real));
	if (e < 0)
		goto fail;
	want = (real & ~(VFIO_PCI_CMD_FORWARD | PCI_COMMAND_IO)) |
	       (emu & VFIO_PCI_CMD_FORWARD);
	if (want == real)
		return;
	e = v->ops->write(v->opaque, VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND,
			  &want, sizeof(want));
	if (e >= 0)
		return;
fail:
	pr_warn_once(v->warned, "%s: cannot update the Command register: %d",
		     v->name, e);
}

/* The ROM decodes when enabled in its BAR and in Command.Memory. */
static void update_rom(struct vfio_pci *v)
{
	uint32_t reg = pci_config_read(&v->pdev, PCI_ROM_ADDRESS, 4);
	uint16_t cmd = pci_config_read(&v->pdev, PCI_COMMAND, 2);
	uint64_t addr = reg & PCI_ROM_ADDRESS_MASK;
	bool want = (reg & PCI_ROM_ADDRESS_ENABLE) &&
		    (cmd & PCI_COMMAND_MEMORY) && addr;

	if (v->rom_mapped && (!want || addr != v->rom_addr)) {
		v->rom_mapped = false;
		if (v->ops->bar_moved)
			v->ops->bar_moved(v->opaque, VFIO_PCI_ROM_REGION_INDEX,
					  false, v->rom_addr);
	}
	if (want && !v->rom_mapped) {
		v->rom_mapped = true;
		v->rom_addr = addr;
		if (v->ops->bar_moved)
			v->ops->bar_moved(v->opaque, VFIO_PCI_ROM_REGION_INDEX,
					  true, addr);
	}
}

static void set_irqs(struct vfio_pci *v, unsigned int index, const int *fds,
		     unsigned int n)
{
	int e = v->ops->set_irqs(v->opaque, index, fds, n);

	if (e < 0)
		pr_warn_once(v->irq_warned,
			     "%s: cannot %s %s on the device: %d (logged once)",
			     v->name, n ? "enable" : "disable",
			     index == VFIO_PCI_MSIX_IRQ_INDEX ? "MSI-X" : "MSI",
			     e);
}

static void msi_enable_changed(void *opaque, const int *fds, unsigned int n)
{
	set_irqs(opaque, VFIO_PCI_MSI_IRQ_INDEX, fds, n);
}

/* MSI-X Enable changed: tell the device which eventfds to signal. */
static void update_msix(struct vfio_pci *v)
{
	int fds[MSIX_MAX_VECTORS];
	bool on;

	pthread_mutex_lock(&v->msix.lock);
	on = v->msix.enabled;
	for (unsigned int i = 0; i < v->msix.nvec; i++)
		fds[i] = v->msix.vec[i].fd;
	pthread_mutex_unlock(&v->msix.lock);
	if (on == v->msix_on)
		return;
	v->msix_on = on;
	set_irqs(v, VFIO_PCI_MSIX_IRQ_INDEX, on ? fds : NULL,
		 on ? v->msix.nvec : 0);
}

static void vfio_config_written(struct pci_dev *pdev, uint32_t off,
				uint32_t len)
{
	struct vfio_pci *v = (struct vfio_pci *)pdev;

	/* Serialise vCPUs: what the device was told follows one order. */
	pthread_mutex_lock(&v->lock);
	if (touches(off, len, PCI_COMMAND, 2))
		forward_command(v);
	if (v->rom_size && (touches(off, len, PCI_COMMAND, 2) ||
			    touches(off, len, PCI_ROM_ADDRESS, 4)))
		update_rom(v);
	if (v->has_msi)
		pci_msi_config_written(&v->msi, off, len);
	if (v->has_msix) {
		msix_config_written(&v->msix, off, len);
		update_msix(v);
	}
	pthread_mutex_unlock(&v->lock);
}

static const struct pci_dev_ops vfio_pci_dev_ops = {
	.bar_moved = vfio_bar_moved,
	.config_written = vfio_config_written,
};

/* BARs: sizes from VFIO, type bits from the device (6.2.5.1). */
static int setup_bars(struct vfio_pci *v, const uint8_t *real, char *err,
		      size_t errlen)
{
	for (unsigned int b = 0; b < PCI_NUM_BARS; b++) {
		uint32_t reg = get32(real, PCI_BAR0 + 4 * b);
		uint64_t size =
			v->info.region[VFIO_PCI_BAR0_REGION_INDEX + b].size;
		bool mem64 =
			(reg & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_TYPE_64;
		int e;

		if (!size)
			continue;
		if (reg & PCI_BAR_IO) {
			pr_warn_once(
				v->io_warned,
				"%s: I/O BAR%u left out: no I/O space on arm64",
				v->name, b);
			continue;
		}
		if (mem64 && b == PCI_NUM_BARS - 1) {
			format_err(
				err, errlen,
				"%s: BAR5 claims to be 64-bit (register 0x%08x)",
				v->name, reg);
			return -EINVAL;
		}
		v->bar_ref[b] = (struct vfio_pci_bar_ref){ .v = v, .bar = b };
		e = pci_set_bar(&v->pdev, b,
				pow2_at_least(size, PCI_BAR_MIN_SIZE), mem64,
				reg & PCI_BAR_MEM_PREFETCH, &vfio_pci_bar_ops,
				&v->bar_ref[b]);
		if (e) {
			format_err(
				err, errlen,
				"%s: BAR%u of 0x%llx bytes cannot be emulated (%s)",
				v->name, b, (unsigned long long)size,
				mem64 ? "64-bit" : "32-bit");
			return e;
		}
		if (mem64)
			b++; /* the upper half takes the next slot */
	}
	return 0;
}

static void setup_rom(struct vfio_pci *v)
{
	uint64_t size = v->info.region[VFIO_PCI_ROM_REGION_INDEX].size;

	if (!size)
		return;
	size = pow2_at_least(size, PCI_ROM_MIN_SIZE);
	if (size > (1ULL << 31)) {
		pr_warn("%s: expansion ROM of 0x%llx bytes left out", v->name,
			(unsigned long long)size);
		return;
	}
	v->rom_size = size;
	v->rom_ref =
		(struct vfio_pci_bar_ref){ .v = v,
					   .bar = VFIO_PCI_ROM_REGION_INDEX };
	pci_cfg_set32(v->pdev.wmask, PCI_ROM_ADDRESS,
		      ((uint32_t) ~(size - 1) & PCI_ROM_ADDRESS_MASK) |
			      PCI_ROM_ADDRESS_ENABLE);
}

static bool cap_fits(struct vfio_pci *v, unsigned int ptr, unsigned int len,
		     const char *what)
{
	if (ptr + len <= PCI_CFG_STD_SIZE)
		return true;
	pr_warn("%s: %s capability at 0x%x runs past config space; hidden",
		v->name, what, ptr);
	return false;
}

static void add_pm(struct vfio_pci *v, const uint8_t *real, unsigned int ptr)
{
	struct pci_dev *pdev = &v->pdev;
	int c;

	if (!cap_fits(v, ptr, PCI_PM_SIZEOF, "power management"))
		return;
	c = pci_add_capability(pdev, PCI_CAP_ID_PM, PCI_PM_SIZEOF);
	if (c < 0)
		return;
	/* Read-only, always D0: power transitions belong to the host. */
	pci_cfg_set16(pdev->cfg, c + PCI_PM_PMC,
		      get16(real, ptr + PCI_PM_PMC) & ~PCI_PM_PMC_PME_MASK);
	pci_cfg_set16(pdev->cfg, c + PCI_PM_CTRL,
		      get16(real, ptr + PCI_PM_CTRL) &
			      PCI_PM_CTRL_NO_SOFT_RESET);
}

static void add_pcie(struct vfio_pci *v, const uint8_t *real, unsigned int ptr)
{
	struct pci_dev *pdev = &v->pdev;
	uint16_t flags = get16(real, ptr + PCI_EXP_FLAGS);
	unsigned int len = (flags & PCI_EXP_FLAGS_VERS) >= 2
				   ? PCI_EXP_SIZEOF
				   : PCI_EXP_SIZEOF_V1;
	int c;

	if (!cap_fits(v, ptr, len, "PCI Express"))
		return;
	c = pci_add_capability(pdev, PCI_CAP_ID_EXP, len);
	if (c < 0)
		return;
	memcpy(&pdev->cfg[c + 2], &real[ptr + 2], len - 2);
	/* The guest cannot reset the function itself: no FLR offered. */
	pci_cfg_set32(pdev->cfg, c + PCI_EXP_DEVCAP,
		      get32(real, ptr + PCI_EXP_DEVCAP) & ~PCI_EXP_DEVCAP_FLR);
	/*
	 * Device Control is emulated, not forwarded: payload and read
	 * request sizes are the host's to match to the fabric, and error
	 * reporting is the host's. The guest reads back what it wrote.
	 */
	pci_cfg_set16(pdev->wmask, c + PCI_EXP_DEVCTL,
		      (uint16_t)~PCI_EXP_DEVCTL_BCR_FLR);
}

static unsigned int pow2_at_most(unsigned int n)
{
	unsigned int p = 1;

	while (p * 2 <= n)
		p *= 2;
	return p;
}

static void add_msi(struct vfio_pci *v, const uint8_t *real, unsigned int ptr)
{
	uint16_t ctl = get16(real, ptr + PCI_MSI_FLAGS);
	bool is64 = ctl & PCI_MSI_FLAGS_64BIT;
	bool maskable = ctl & PCI_MSI_FLAGS_MASKBIT;
	unsigned int mmc = (ctl & PCI_MSI_FLAGS_QMASK) >> 1;
	unsigned int len =
		maskable ? (is64 ? PCI_MSI_CAP_SIZE_64_MASK
				 : PCI_MSI_CAP_SIZE_32_MASK)
			 : (is64 ? PCI_MSI_CAP_SIZE_64 : PCI_MSI_CAP_SIZE_32);
	unsigned int nvec;
	int e;

	if (v->has_msi || !v->info.irq_count[VFIO_PCI_MSI_IRQ_INDEX] ||
	    !cap_fits(v, ptr, len, "MSI"))
		return;
	/* 6.8.1.3: 110b and 111b are reserved; 32 is the most there is. */
	nvec = 1U << (mmc > 5 ? 5 : mmc);
	if (v->info.irq_count[VFIO_PCI_MSI_IRQ_INDEX] < nvec)
		nvec = pow2_at_most(v->info.irq_count[VFIO_PCI_MSI_IRQ_INDEX]);
	e = pci_msi_init(&v->msi, &v->pdev, nvec, is64, maskable, v->host);
	if (e) {
		pr_warn("%s: MSI capability hidden: %d", v->name, e);
		return;
	}
	pci_msi_set_enable_cb(&v->msi, msi_enable_changed, v);
	v->has_msi = true;
}

static uint64_t bar_region_size(const struct vfio_pci *v, unsigned int bar)
{
	return v->info.region[VFIO_PCI_BAR0_REGION_INDEX + bar].size;
}

static void add_msix(struct vfio_pci *v, const uint8_t *real, unsigned int ptr)
{
	uint16_t ctl = get16(real, ptr + PCI_MSIX_FLAGS);
	uint32_t table = get32(real, ptr + PCI_MSIX_TABLE);
	uint32_t pba = get32(real, ptr + PCI_MSIX_PBA);
	unsigned int tbar = table & PCI_MSIX_BIR_MASK;
	unsigned int pbar = pba & PCI_MSIX_BIR_MASK;
	unsigned int qsize = (ctl & PCI_MSIX_FLAGS_QSIZE) + 1;
	unsigned int nvec = qsize;
	uint64_t tlen = (uint64_t)qsize * MSIX_ENTRY_SIZE;
	uint64_t plen = (qsize + 63) / 64 * 8; /* one bit per vector, QWORDs */
	uint32_t toff = table & ~PCI_MSIX_BIR_MASK;
	uint32_t poff = pba & ~PCI_MSIX_BIR_MASK;
	int e;

	if (v->has_msix || !v->info.irq_count[VFIO_PCI_MSIX_IRQ_INDEX] ||
	    !cap_fits(v, ptr, MSIX_CAP_SIZE, "MSI-X"))
		return;
	if (tbar >= PCI_NUM_BARS || pbar >= PCI_NUM_BARS ||
	    !v->pdev.bars[tbar].size || !v->pdev.bars[pbar].size ||
	    !inside(toff, 0, 0, bar_region_size(v, tbar)) ||
	    tlen > bar_region_size(v, tbar) - toff ||
	    !inside(poff, 0, 0, bar_region_size(v, pbar)) ||
	    plen > bar_region_size(v, pbar) - poff) {
		pr_warn("%s: MSI-X table 0x%08x / PBA 0x%08x outside the BARs; hidden",
			v->name, table, pba);
		return;
	}
	if (nvec > v->info.irq_count[VFIO_PCI_MSIX_IRQ_INDEX])
		nvec = v->info.irq_count[VFIO_PCI_MSIX_IRQ_INDEX];
	if (nvec > MSIX_MAX_VECTORS) {
		pr_info("%s: exposing %u of %u MSI-X vectors", v->name,
			MSIX_MAX_VECTORS, nvec);
		nvec = MSIX_MAX_VECTORS;
	}
	e = msix_init(&v->msix, &v->pdev, nvec, tbar, toff, poff, v->host);
	if (e) {
		pr_warn("%s: MSI-X capability hidden: %d", v->name, e);
		msix_destroy(&v->msix);
		return;
	}
	v->msix.unbind_masked = true;
	/* msix_init() puts both in one BAR; the device may not. */
	pci_cfg_set32(v->pdev.cfg, v->msix.cap + PCI_MSIX_PBA, poff | pbar);
	v->has_msix = true;
	v->msix_bar = tbar;
	/* The whole real table and PBA stay trapped, even past nvec. */
	v->msix_table_off = toff;
	v->msix_table_len = tlen;
	v->msix_pba_off = poff;
	v->msix_pba_len = plen;
}

/*
 * Walk the real capability list (6.7) and re-create the ones the guest may
 * see. A bad link ends the walk: what came before it is kept.
 */
static void setup_caps(struct vfio_pci *v, const uint8_t *real)
{
	bool seen[PCI_CFG_STD_SIZE / 4] = { false };
	unsigned int ptr = 0, n;

	if (get16(real, PCI_STATUS) & PCI_STATUS_CAP_LIST)
		ptr = real[PCI_CAPABILITY_LIST];
	for (n = 0; ptr; n++) {
		if (n >= VFIO_PCI_MAX_CAPS || ptr < VFIO_PCI_CAP_MIN ||
		    (ptr & 3) || seen[ptr / 4]) {
			pr_warn_once(
				v->cap_warned,
				"%s: malformed capability list (%s at 0x%02x after %u entries); later capabilities hidden",
				v->name,
				n >= VFIO_PCI_MAX_CAPS ? "too long"
				: seen[ptr / 4]	       ? "loop"
						       : "bad pointer",
				ptr, n);
			return;
		}
		seen[ptr / 4] = true;
		switch (real[ptr]) {
		case PCI_CAP_ID_PM:
			add_pm(v, real, ptr);
			break;
		case PCI_CAP_ID_MSI:
			add_msi(v, real, ptr);
			break;
		case PCI_CAP_ID_EXP:
			add_pcie(v, real, ptr);
			break;
		case PCI_CAP_ID_MSIX:
			add_msix(v, real, ptr);
			break;
		default:
			break; /* vendor-specific and the rest: hidden */
		}
		ptr = real[ptr + 1];
	}
}

int vfio_pci_init(struct vfio_pci *v, const struct vfio_pci_info *info,
		  const struct vfio_pci_ops *ops, void *opaque,
		  const struct host_ops *host, const char *name, char *err,
		  size_t errlen)
{
	struct pci_dev *pdev = &v->pdev;
	uint8_t real[PCI_CFG_STD_SIZE];
	uint8_t hdr, pin;
	int e;

	memset(v, 0, sizeof(*v));
	if (!ops || !ops->read || !ops->write || !ops->set_irqs) {
		format_err(err, errlen, "%s: incomplete VFIO ops", name);
		return -EINVAL;
	}
	if (info->region[VFIO_PCI_CONFIG_REGION_INDEX].size <
	    PCI_CFG_STD_SIZE) {
		format_err(err, errlen, "%s: config region of %llu bytes", name,
			   (unsigned long long)info
				   ->region[VFIO_PCI_CONFIG_REGION_INDEX]
				   .size);
		return -EINVAL;
	}
	e = ops->read(opaque, VFIO_PCI_CONFIG_REGION_INDEX, 0, real,
		      sizeof(real));
	if (e < 0) {
		format_err(err, errlen, "%s: cannot read config space: %s",
			   name, strerror(-e));
		return e;
	}
	if (get16(real, PCI_VENDOR_ID) == 0xffff) {
		format_err(err, errlen,
			   "%s: config space reads all ones (device gone?)",
			   name);
		return -ENODEV;
	}
	hdr = real[PCI_HEADER_TYPE];
	if (hdr & PCI_HEADER_TYPE_MASK) {
		format_err(
			err, errlen,
			"%s: header type %u is not an endpoint (bridges cannot be assigned)",
			name, hdr & PCI_HEADER_TYPE_MASK);
		return -EINVAL;
	}

	pci_dev_init(pdev, get16(real, PCI_VENDOR_ID),
		     get16(real, PCI_DEVICE_ID),
		     get32(real, PCI_REVISION_ID) >> 8, real[PCI_REVISION_ID]);
	pthread_mutex_init(&v->lock, NULL);
	v->info = *info;
	v->ops = ops;
	v->opaque = opaque;
	v->host = host;
	snprintf(v->name, sizeof(v->name), "%s", name);
	pdev->name = v->name;
	pdev->ops = &vfio_pci_dev_ops;
	pdev->priv = v;
	if (hdr & PCI_HEADER_TYPE_MFD)
		pr_info("%s: multi-function device; presented as a single function",
			v->name);
	pci_set_subsystem(pdev, get16(real, PCI_SUBSYSTEM_VENDOR_ID),
			  get16(real, PCI_SUBSYSTEM_ID));
	pci_cfg_set16(pdev->cfg, PCI_STATUS,
		      get16(real, PCI_STATUS) & PCI_STATUS_RO_INFO);
	pin = real[PCI_INTERRUPT_PIN];
	if (info->irq_count[VFIO_PCI_INTX_IRQ_INDEX] && pin >= 1 &&
	    pin <= PCI_INTX_PINS)
		pdev->cfg[PCI_INTERRUPT_PIN] = pin;

	e = setup_bars(v, real, err, errlen);
	if (e)
		goto fail;
	setup_rom(v);
	setup_caps(v, real);
	return 0;
fail:
	vfio_pci_destroy(v);
	return e;
}

void vfio_pci_destroy(struct vfio_pci *v)
{
	if (v->has_msix)
		msix_destroy(&v->msix);
	if (v->has_msi)
		pci_msi_destroy(&v->msi);
	v->has_msix = false;
	v->has_msi = false;
}

int vfio_pci_msix_bar(const struct vfio_pci *v, uint64_t *table_off,
		      uint64_t *table_len, uint64_t *pba_off, uint64_t *pba_len)
{
	if (!v->has_msix)
		return -1;
	*table_off = v->msix_table_off;
	*table_len = v->msix_table_len;
	*pba_off = v->msix_pba_off;
	*pba_len = v->msix_pba_len;
	return v->msix_bar;
}

int vfio_pci_msix_pba_bar(const struct vfio_pci *v)
{
	if (!v->has_msix)
		return -1;
	return pci_cfg_get32(&v->pdev, v->msix.cap + PCI_MSIX_PBA) &
	       PCI_MSIX_BIR_MASK;
}

unsigned int vfio_pci_rebind_irqs(struct vfio_pci *v)
{
	unsigned int n = 0;

	if (v->has_msix)
		n += msix_rebind(&v->msix);
	if (v->has_msi)
		n += pci_msi_rebind(&v->msi);
	return n;
}

unsigned int vfio_pci_bound_irqs(struct vfio_pci *v)
{
	unsigned int n = 0;

	if (v->has_msix)
		n += msix_bound(&v->msix);
	if (v->has_msi)
		n += pci_msi_bound(&v->msi);
	return n;
}
