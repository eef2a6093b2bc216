// SPDX-License-Identifier: GPL-2.0
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdt.h"
#include "image.h"
#include "layout.h"
#include "log.h"
#include "vfio.h"
#include "../devices/testdev.h"
#include "../irq/vgic_debug.h"
#include "../devices/virtio/virtio_blk.h"
#include "../devices/virtio/virtio_console.h"
#include "../devices/virtio/virtio_net.h"
#include "../devices/virtio/virtio_rng.h"

#define VM_RNG_SEED_BYTES  64
#define VM_UART_CLOCK_HZ   24000000
#define VM_EVLOOP_ENTRIES  64
#define VM_FDT_BUF_INITIAL (64 * 1024) /* grown up to ARM64_DTB_MAX_SIZE */

struct boot_files {
	int kernel_fd, initrd_fd;
	uint64_t kernel_size, initrd_size;
	struct arm64_image image;
	struct boot_layout layout;
};

void vm_request_exit(struct vm *vm, int status, char *report)
{
	int expected = -1;

	if (atomic_compare_exchange_strong(&vm->exit_status, &expected,
					   status)) {
		vm->exit_report = report;
		atomic_store(&vm->stopping, true);
		evloop_stop(&vm->loop);
	} else {
		free(report);
	}
}

static int open_sized(const char *what, const char *path, int *fd,
		      uint64_t *size, char *err, size_t errlen)
{
	struct stat st;

	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return -errno;
	}
	if (fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s %s: not a regular file", what, path);
		return -EINVAL;
	}
	*size = st.st_size;
	return 0;
}

static int read_full(int fd, void *dst, uint64_t len, uint64_t off)
{
	uint8_t *p = dst;

	while (len) {
		ssize_t n = pread(fd, p, len > (1u << 30) ? (1u << 30) : len,
				  (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= n;
		off += n;
	}
	return 0;
}

/*
 * --payload FILE[,addr=A]: no header to trust, only the file; it is placed
 * like an Image whose text_offset puts it at A, and started there.
 */
static int open_payload(const struct vm_config *cfg, struct boot_files *bf,
			char *err, size_t errlen)
{
	uint64_t addr = cfg->payload_addr ? cfg->payload_addr
					  : LAYOUT_RAM_BASE;
	char *path = strndup(cfg->payload, cfg->payload_name_len);
	int r;

	if (!path)
		return -ENOMEM;
	r = open_sized("--payload", path, &bf->kernel_fd, &bf->kernel_size,
		       err, errlen);
	free(path);
	if (r)
		return r;
	if (!bf->kernel_size) {
		snprintf(err, errlen, "--payload %s: the file is empty",
			 cfg->payload);
		return -EINVAL;
	}
	if (addr < LAYOUT_RAM_BASE || addr % 4 ||
	    addr - LAYOUT_RAM_BASE >= cfg->mem_size) {
		snprintf(err, errlen,
			 "--payload %s: address 0x%llx is not a 4-byte aligned address in guest RAM (0x%llx-0x%llx)",
			 cfg->payload, (unsigned long long)addr,
			 (unsigned long long)LAYOUT_RAM_BASE,
			 (unsigned long long)(LAYOUT_RAM_BASE + cfg->mem_size -
					      1));
		return -EINVAL;
	}
	bf->image = (struct arm64_image){
		.text_offset = addr - LAYOUT_RAM_BASE,
		.image_size = bf->kernel_size,
	};
	return 0;
}

/* Check the files and plan their placement before touching KVM. */
static int open_boot_files(const struct vm_config *cfg, struct boot_files *bf,
			   char *err, size_t errlen)
{
	uint8_t hdr[ARM64_IMAGE_HEADER_SIZE] = { 0 };
	char why[200];
	ssize_t n;
	int r;

	bf->kernel_fd = bf->initrd_fd = -1;
	bf->initrd_size = 0;
	if (cfg->payload) {
		r = open_payload(cfg, bf, err, errlen);
		if (r)
			return r;
		goto initrd;
	}
	r = open_sized("--kernel", cfg->kernel, &bf->kernel_fd,
		       &bf->kernel_size, err, errlen);
	if (r)
		return r;
	n = pread(bf->kernel_fd, hdr, sizeof(hdr), 0);
	if (n < 0) {
		snprintf(err, errlen, "--kernel %s: %s", cfg->kernel,
			 strerror(errno));
		return -errno;
	}
	r = arm64_image_parse(hdr, n, bf->kernel_size, &bf->image, why,
			      sizeof(why));
	if (r) {
		snprintf(err, errlen, "--kernel %s %s", cfg->kernel, why);
		return r;
	}
initrd:
	if (cfg->initrd) {
		r = open_sized("--initrd", cfg->initrd, &bf->initrd_fd,
			       &bf->initrd_size, err, errlen);
		if (r)
			return r;
		if (!bf->initrd_size) {
			snprintf(err, errlen, "--initrd %s: the file is empty",
				 cfg->initrd);
			return -EINVAL;
		}
	}
	r = arm64_boot_layout(&bf->image, bf->kernel_size, bf->initrd_size,
			      LAYOUT_RAM_BASE, cfg->mem_size, &bf->layout, why,
			      sizeof(why));
	if (r) {
		char sz[32];

		cli_format_size(cfg->mem_size, sz, sizeof(sz));
		snprintf(err, errlen, "--memory %s is too small: %s", sz, why);
		return r;
	}
	return 0;
}

static void close_boot_files(struct boot_files *bf)
{
	if (bf->kernel_fd >= 0)
		close(bf->kernel_fd);
	if (bf->initrd_fd >= 0)
		close(bf->initrd_fd);
	bf->kernel_fd = bf->initrd_fd = -1;
}

static int load_and_describe(struct vm *vm, struct boot_files *bf, char *err,
			     size_t errlen)
{
	const struct vm_config *cfg = vm->cfg;
	const struct boot_layout *bl = &bf->layout;
	uint8_t seed[VM_RNG_SEED_BYTES];
	void *fdt_buf = NULL;
	uint64_t *mpidr;
	struct fdt_params fp;
	uint8_t msi_window_devfn[FDT_PCI_DEVFN_MAX];
	unsigned int nr_msi_window = 0;
	void *dst;
	int r;

	dst = gmem_ptr(&vm->mem, bl->kernel_gpa, bf->kernel_size);
	if (!dst || read_full(bf->kernel_fd, dst, bf->kernel_size, 0)) {
		snprintf(err, errlen, "%s %s: read failed",
			 cfg->payload ? "--payload" : "--kernel",
			 cfg->payload ? cfg->payload : cfg->kernel);
		return -EIO;
	}
	if (bf->initrd_fd >= 0) {
		dst = gmem_ptr(&vm->mem, bl->initrd_gpa, bf->initrd_size);
		if (!dst || read_full(bf->initrd_fd, dst, bf->initrd_size, 0)) {
			snprintf(err, errlen, "--initrd %s: read failed",
				 cfg->initrd);
			return -EIO;
		}
	}

	mpidr = calloc(vm->nr_vcpus, sizeof(*mpidr));
	if (!mpidr)
		return -ENOMEM;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		mpidr[i] = vm->vcpus[i].mpidr;
	if (getrandom(seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		memset(seed, 0, sizeof(seed));

	/*
	 * Nested assigned devices send their MSIs to the host's doorbell
	 * window, through the guest's stage 1 first: the guest must map it
	 * 1:1 (DESIGN.md). Not the emulated devices: nestbox delivers theirs,
	 * and Linux refuses VFIO for a device with a direct region.
	 */
	for (unsigned int i = 0; vm->smmu_nest && i < vm->nr_placed; i++) {
		const struct vm_placement *pl = &vm->placed[i];

		if (pl->assigned && pl->iommu && !pl->pdev->bridge)
			msi_window_devfn[nr_msi_window++] = pl->pdev->devfn;
	}

	fp = (struct fdt_params){
		.ram_base = vm->mem.base,
		.ram_size = vm->mem.size,
		.ncpus = vm->nr_vcpus,
		.mpidr = mpidr,
		.gicd_base = LAYOUT_GICD_BASE,
		.gicd_size = LAYOUT_GICD_SIZE,
		.gicr_base = LAYOUT_GICR_BASE,
		.gicr_size = vm->nr_vcpus * LAYOUT_GICR_STRIDE,
		.its_base = LAYOUT_GITS_BASE,
		.its_size = LAYOUT_GITS_SIZE,
		.uart_base = LAYOUT_UART_BASE,
		.uart_size = LAYOUT_UART_SIZE,
		.uart_spi = LAYOUT_UART_SPI,
		.uart_clock_hz = VM_UART_CLOCK_HZ,
		.pmu = vm->kvm.caps.has_pmu,
		.pci_ecam_base = vm->pci.ecam_base,
		.pci_ecam_size = vm->pci.ecam_size,
		.pci_mmio32_base = vm->pci.mmio32_base,
		.pci_mmio32_size = vm->pci.mmio32_size,
		.pci_mmio64_base = vm->pci.mmio64_base,
		.pci_mmio64_size = vm->pci.mmio64_size,
		.pci_intx_spi_base = LAYOUT_PCI_INTX_SPI_BASE,
		.nr_virtio_mmio = vm->nr_vmmio,
		.virtio_mmio = vm->mmio_fdt,
		.viommu = vm->smmu		 ? FDT_VIOMMU_SMMUV3
			  : !vm->viommu_at	 ? FDT_VIOMMU_NONE
			  : vm->viommu_at->pdev ? FDT_VIOMMU_PCI
						: FDT_VIOMMU_MMIO,
		.smmu_base = LAYOUT_SMMU_BASE,
		.smmu_size = LAYOUT_SMMU_SIZE,
		.smmu_spi_evtq = LAYOUT_SMMU_SPI_EVTQ,
		.smmu_spi_gerror = LAYOUT_SMMU_SPI_GERROR,
		.smmu_msi_devid = cfg->smmu_wired ? 0 : LAYOUT_SMMU_ITS_DEVID,
		.viommu_devfn = vm->viommu_at && vm->viommu_at->pdev
					? vm->viommu_at->pdev->devfn
					: 0,
		.viommu_mmio = vm->viommu_at ? vm->viommu_at->mmio : 0,
		.pci_iommu_map = vm->iommu_map,
		.nr_pci_iommu_map = vm->nr_iommu_map,
		.pci_msi_window_devfn = msi_window_devfn,
		.nr_pci_msi_window = nr_msi_window,
		.msi_window_base = LAYOUT_MSI_HOLE_BASE,
		.msi_window_size = LAYOUT_MSI_HOLE_SIZE,
		.bootargs = cfg->cmdline,
		.initrd_start = bf->initrd_size ? bl->initrd_gpa : 0,
		.initrd_end =
			bf->initrd_size ? bl->initrd_gpa + bf->initrd_size : 0,
		.rng_seed = seed,
		.rng_seed_len = sizeof(seed),
	};
	/*
	 * Build in a small heap buffer, then copy the blob: fdt_create()
	 * zeroes its whole buffer, and doing that on the 2 MiB DTB window of
	 * guest RAM costs 512 page faults per boot (bench/README.md).
	 */
	for (size_t size = VM_FDT_BUF_INITIAL;; size *= 2) {
		void *grown = realloc(fdt_buf, size);

		if (!grown) {
			r = -ENOMEM;
			break;
		}
		fdt_buf = grown;
		r = fdt_build(&fp, fdt_buf, size);
		if (r != -ENOSPC || size >= ARM64_DTB_MAX_SIZE)
			break;
	}
	free(mpidr);
	dst = r > 0 ? gmem_ptr(&vm->mem, bl->dtb_gpa, r) : NULL;
	if (r < 0 || !dst) {
		snprintf(err, errlen, "cannot build the device tree: %s",
			 strerror(r < 0 ? -r : ENOSPC));
		free(fdt_buf);
		return r < 0 ? r : -ENOSPC;
	}
	memcpy(dst, fdt_buf, r);
	free(fdt_buf);
	if (cfg->dump_dtb) {
		int fd = open(cfg->dump_dtb,
			      O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd < 0 || write(fd, dst, r) != r) {
			snprintf(err, errlen, "--dump-dtb %s: %s",
				 cfg->dump_dtb, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -EIO;
		}
		close(fd);
	}
	pr_info("%s at 0x%llx, initrd at 0x%llx (%llu bytes), dtb at 0x%llx (%d bytes)",
		cfg->payload ? "payload" : "kernel",
		(unsigned long long)bl->kernel_gpa,
		(unsigned long long)bl->initrd_gpa,
		(unsigned long long)bf->initrd_size,
		(unsigned long long)bl->dtb_gpa, r);
	return vcpu_set_entry(&vm->vcpus[0], bl->kernel_gpa, bl->dtb_gpa);
}

static int host_ioeventfd(void *opaque, uint64_t addr, unsigned int len,
			  bool datamatch, uint64_t data, int fd, bool assign)
{
	struct vm *vm = opaque;
	struct kvm_ioeventfd req = {
		.datamatch = data,
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = (datamatch ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0) |
			 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	return ioctl(vm->kvm.vm_fd, KVM_IOEVENTFD, &req) < 0 ? -errno : 0;
}

static void host_set_spi(void *opaque, unsigned int spi, bool level)
{
	struct vm *vm = opaque;

	gic_set_spi(&vm->gic, spi, level);
}

static int host_msi_add(void *opaque, uint64_t addr, uint32_t data,
			uint32_t devid, int fd)
{
	return msi_route_add(&((struct vm *)opaque)->msi, addr, data, devid,
			     fd);
}

static int host_msi_update(void *opaque, int route, uint64_t addr,
			   uint32_t data, uint32_t devid)
{
	return msi_route_update(&((struct vm *)opaque)->msi, route, addr, data,
				devid);
}

static int host_spi_irqfd(void *opaque, unsigned int spi, int fd,
			  int resample_fd)
{
	return msi_route_add_spi(&((struct vm *)opaque)->msi, spi, fd,
				 resample_fd);
}

static void host_msi_del(void *opaque, int route, int fd)
{
	msi_route_del(&((struct vm *)opaque)->msi, route, fd);
}

static int host_signal_msi(void *opaque, uint64_t addr, uint32_t data,
			   uint32_t devid)
{
	struct vm *vm = opaque;
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = addr >> 32,
		.data = data,
		.flags = KVM_MSI_VALID_DEVID,
		.devid = devid,
	};

	/* 1: delivered, 0: blocked by the guest, <0: error */
	return ioctl(vm->kvm.vm_fd, KVM_SIGNAL_MSI, &msi) < 0 ? -errno : 0;
}

/*
 * Take the device-independent options out of a device's option string:
 * "bus=bridge|root" into @bridge and "iommu=on|off" into @iommu (-1 when
 * absent). Returns a malloc'd copy with the rest, for the device to parse.
 */
static char *take_common_options(const char *arg, bool *bridge, int *iommu,
				 char *err, size_t errlen)
{
	char *copy = strdup(arg), *out, *tok, *save = NULL;
	size_t len = strlen(arg) + 1;

	*bridge = false;
	*iommu = -1;
	out = calloc(1, len);
	if (!copy || !out) {
		free(copy);
		free(out);
		return NULL;
	}
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strncmp(tok, "bus=", 4)) {
			if (strcmp(tok + 4, "bridge") &&
			    strcmp(tok + 4, "root")) {
				snprintf(err, errlen,
					 "'%s': bus= takes bridge or root",
					 arg);
				goto bad;
			}
			*bridge = !strcmp(tok + 4, "bridge");
			continue;
		}
		if (!strncmp(tok, "iommu=", 6)) {
			if (strcmp(tok + 6, "on") && strcmp(tok + 6, "off")) {
				snprintf(err, errlen,
					 "'%s': iommu= takes on or off", arg);
				goto bad;
			}
			*iommu = !strcmp(tok + 6, "on");
			continue;
		}
		if (out[0])
			strcat(out, ",");
		strcat(out, tok);
	}
	free(copy);
	return out;
bad:
	free(copy);
	free(out);
	return NULL;
}

static enum transport_kind place(bool mmio, bool bridge)
{
	return mmio	? TRANSPORT_MMIO
	       : bridge ? TRANSPORT_PCI_BRIDGE
			: TRANSPORT_PCI;
}

/* A PCI function's IOMMU endpoint / StreamID: its requester ID now. */
static uint32_t pci_endpoint_id(const void *pdev)
{
	return pci_requester_id(pdev);
}

/*
 * Put @vdev on the bus the user asked for, behind the vIOMMU per @iommu
 * (-1: the default, i.e. behind it when there is one).
 */
static int attach_virtio(struct vm *vm, struct virtio_dev *vdev,
			 enum transport_kind t, int iommu, uint32_t pci_class,
			 char *err, size_t errlen)
{
	struct vm_placement *pl = &vm->placed[vm->nr_placed];
	int r;

	if (iommu == 1 && vm->cfg->iommu == IOMMU_NONE) {
		snprintf(err, errlen, "%s: iommu=on needs --iommu",
			 vdev->label);
		return -EINVAL;
	}
	*pl = (struct vm_placement){
		.vdev = vdev,
		.iommu = vm->cfg->iommu != IOMMU_NONE && iommu != 0,
	};
	vm->nr_placed++;

	if (t == TRANSPORT_PCI || t == TRANSPORT_PCI_BRIDGE) {
		bool behind = t == TRANSPORT_PCI_BRIDGE;
		const struct host_ops *host;
		struct virtio_pci *vp;

		if (behind && !vm->bridge) {
			vm->bridge = calloc(1, sizeof(*vm->bridge));
			if (!vm->bridge)
				return -ENOMEM;
			pci_bridge_init(vm->bridge, 0);
			r = pci_host_add(&vm->pci, &vm->bridge->pdev, -1);
			if (r < 0) {
				snprintf(err, errlen,
					 "no PCI slot for the bridge");
				return r;
			}
			pr_info("PCIe-to-PCI bridge at PCI 0000:00:%02x.0", r);
		}
		if (vm->nr_vpci == PCI_MAX_DEVICES) {
			snprintf(err, errlen, "%s: too many PCI devices",
				 vdev->label);
			return -ENOSPC;
		}
		vp = calloc(1, sizeof(*vp));
		if (!vp)
			return -ENOMEM;
		vm->vpci[vm->nr_vpci++] = vp;
		host = &vm->host;
		if (vm->smmu && pl->iommu) {
			/* Its MSIs are DMA writes through the SMMU too. */
			r = smmuv3_client_dma(vm->smmu, pci_endpoint_id,
					      &vp->pdev, 0, &pl->smmu_dma);
			if (r)
				return r;
			host = smmuv3_client_host(&pl->smmu_dma, &vm->host);
		}
		r = virtio_pci_init(vp, vdev, pci_class, host, !behind);
		if (!r)
			r = behind ? pci_bridge_add(vm->bridge, &vp->pdev, -1)
				   : pci_host_add(&vm->pci, &vp->pdev, -1);
		pl->pdev = &vp->pdev;
		if (r < 0) {
			snprintf(err, errlen, "%s: cannot add it to PCI: %s",
				 vdev->label, strerror(-r));
			return r;
		}
		pr_info("%s at PCI %s slot %d", vdev->label,
			behind ? "bridge bus" : "root bus", r);
		return 0;
	} else {
		unsigned int i = vm->nr_vmmio;
		uint64_t base =
			LAYOUT_VIRTIO_MMIO_BASE + i * LAYOUT_VIRTIO_MMIO_STRIDE;
		struct virtio_mmio *m;

		if (i == LAYOUT_VIRTIO_MMIO_SLOTS) {
			snprintf(err, errlen, "%s: no free virtio-mmio slot",
				 vdev->label);
			return -ENOSPC;
		}
		m = calloc(1, sizeof(*m));
		if (!m)
			return -ENOMEM;
		vm->vmmio[vm->nr_vmmio++] = m;
		pl->mmio = i;
		r = virtio_mmio_init(m, vdev, &vm->host, base,
				     LAYOUT_VIRTIO_MMIO_SPI_BASE + i);
		if (!r)
			r = mmio_bus_add(&vm->bus, base, VIRTIO_MMIO_SIZE,
					 &virtio_mmio_ops, m, vdev->label);
		if (r) {
			snprintf(err, errlen, "%s: cannot map it: %s",
				 vdev->label, strerror(-r));
			return r;
		}
		vm->mmio_fdt[i] = (struct fdt_mmio_dev){
			.base = base,
			.size = VIRTIO_MMIO_SIZE,
			.spi = LAYOUT_VIRTIO_MMIO_SPI_BASE + i,
		};
		pr_info("%s at virtio-mmio 0x%llx", vdev->label,
			(unsigned long long)base);
		return 0;
	}
}

static void uart_set_irq(void *opaque, bool level)
{
	struct vm *vm = opaque;

	gic_set_spi(&vm->gic, LAYOUT_UART_SPI, level);
}

static void uart_tx(void *opaque, uint8_t byte)
{
	console_tx(&((struct vm *)opaque)->console, byte);
}

static void uart_rx_ready(void *opaque)
{
	console_rx_ready(&((struct vm *)opaque)->console);
}

static void console_quit(void *opaque)
{
	pr_info("quit requested from the console");
	vm_request_exit(opaque, EXIT_GUEST_DONE, NULL);
}

static void signal_cb(struct evloop_source *src, int res)
{
	struct vm *vm = src->opaque;
	struct signalfd_siginfo si;

	(void)res;
	if (read(vm->signal_fd, &si, sizeof(si)) != sizeof(si))
		return;
	pr_info("signal %u: shutting down", si.ssi_signo);
	vm_request_exit(vm, EXIT_SIGNAL_BASE + (int)si.ssi_signo, NULL);
}

static void kick_handler(int sig)
{
	(void)sig;
}

/* Signals: SIGINT/SIGTERM/SIGHUP to the loop's signalfd, SIGUSR1 kicks vCPUs.
 */
static int setup_signals(struct vm *vm, sigset_t *shutdown_set)
{
	struct sigaction sa = { .sa_handler = kick_handler };

	sigaction(SIGUSR1, &sa,
		  NULL); /* no SA_RESTART: KVM_RUN returns EINTR */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(shutdown_set);
	sigaddset(shutdown_set, SIGINT);
	sigaddset(shutdown_set, SIGTERM);
	sigaddset(shutdown_set, SIGHUP);
	/* Blocked before any thread starts, so every thread inherits it. */
	if (pthread_sigmask(SIG_BLOCK, shutdown_set, NULL))
		return -EINVAL;
	vm->signal_fd = signalfd(-1, shutdown_set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (vm->signal_fd < 0)
		return -errno;
	return evloop_add(&vm->loop, &vm->signal_src, vm->signal_fd, POLLIN,
			  true, signal_cb, vm);
}

static int create_machine(struct vm *vm, char *err, size_t errlen)
{
	const struct vm_config *cfg = vm->cfg;
	struct kvm_userspace_memory_region region;
	unsigned int ipa_bits;
	int r;

	r = kvm_open(&vm->kvm, err, errlen);
	if (r)
		return r;
	r = hostcheck_config(&vm->kvm.caps, cfg, &ipa_bits, err, errlen);
	if (r)
		return r;
	r = kvm_create_vm(&vm->kvm, ipa_bits, err, errlen);
	if (r)
		return r;
	pr_info("host: %u-bit IPA (VM uses %u), up to %u vCPUs, host PMUv3: %s",
		vm->kvm.caps.ipa_bits_max ? vm->kvm.caps.ipa_bits_max
					  : LAYOUT_IPA_BITS_DEFAULT,
		ipa_bits, vm->kvm.caps.max_vcpus,
		vm->kvm.caps.has_pmu ? "yes" : "no");
	r = hostcheck_config(&vm->kvm.caps, cfg, &ipa_bits, err, errlen);
	if (r)
		return r;

	r = gmem_alloc(&vm->mem, LAYOUT_RAM_BASE, cfg->mem_size);
	if (r) {
		snprintf(err, errlen, "cannot allocate guest RAM: %s",
			 strerror(-r));
		return r;
	}
	region = (struct kvm_userspace_memory_region){
		.slot = 0,
		.guest_phys_addr = vm->mem.base,
		.memory_size = vm->mem.size,
		.userspace_addr = (__u64)(uintptr_t)vm->mem.hva,
	};
	if (ioctl(vm->kvm.vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		snprintf(err, errlen, "KVM_SET_USER_MEMORY_REGION failed: %s",
			 strerror(errno));
		return -errno;
	}

	r = gic_create(&vm->gic, vm->kvm.vm_fd, err, errlen);
	if (r)
		return r;

	vm->vcpus = calloc(cfg->cpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	for (unsigned int i = 0; i < cfg->cpus; i++) {
		r = vcpu_create(vm, &vm->vcpus[i], i, err, errlen);
		vm->nr_vcpus = i + 1;
		if (r)
			return r;
		if (vm->kvm.caps.has_pmu) {
			r = vcpu_enable_pmu(&vm->vcpus[i], false, err, errlen);
			if (r)
				return r;
		}
	}
	r = gic_finalize(&vm->gic, err, errlen);
	if (r)
		return r;
	for (unsigned int i = 0; vm->kvm.caps.has_pmu && i < vm->nr_vcpus;
	     i++) {
		r = vcpu_enable_pmu(&vm->vcpus[i], true, err, errlen);
		if (r)
			return r;
	}
	return 0;
}

/* virtio PCI class codes (base class, subclass, prog-if) */
#define PCI_CLASS_SYSTEM_OTHER 0x088000
#define PCI_CLASS_STORAGE_OTHER	      0x018000
#define PCI_CLASS_OTHERS	      0xff0000
#define PCI_CLASS_NETWORK_ETHERNET    0x020000
#define PCI_CLASS_COMMUNICATION_OTHER 0x078000

static void viommu_free(void *opaque)
{
	char line[512];

	virtio_iommu_stats(opaque, line, sizeof(line));
	pr_info("virtio-iommu: %s", line);
	virtio_iommu_destroy(opaque);
	free(opaque);
}

/* MMIO devices are endpoints above the 16-bit PCI requester IDs. */
#define VM_VIOMMU_MMIO_ID_BASE 0x10000


/* The requester ID the guest sees for the function itself. */
static uint32_t pci_own_rid(const struct pci_dev *pdev)
{
	if (pdev->bridge)
		return pci_bridge_secondary_bus(pdev->bridge) << 8 |
		       pdev->devfn;
	return pdev->requester_id;
}

/*
 * Endpoint IDs the guest may name in ATTACH/PROBE: what the DT's iommu-map
 * and iommus give it for the devices behind the vIOMMU. Behind the
 * PCIe-to-PCI bridge Linux names both the function's own RID and the
 * bridge's alias; the bridge itself is an endpoint too. Bus numbers are
 * the guest's, so this is checked when it asks.
 */
static bool viommu_endpoint_ok(void *opaque, uint32_t id)
{
	struct vm *vm = opaque;

	for (unsigned int i = 0; i < vm->nr_placed; i++) {
		const struct vm_placement *pl = &vm->placed[i];

		if (!pl->iommu)
			continue;
		if (!pl->pdev) {
			if (id == VM_VIOMMU_MMIO_ID_BASE + pl->mmio)
				return true;
			continue;
		}
		if (id == pci_own_rid(pl->pdev) ||
		    id == pci_requester_id(pl->pdev) ||
		    (pl->pdev->bridge &&
		     id == pl->pdev->bridge->pdev.requester_id))
			return true;
	}
	return false;
}

static int create_viommu(struct vm *vm, char *err, size_t errlen)
{
	const struct virtio_iommu_params params = {
		.bypass = vm->cfg->iommu_bypass,
		/* The ITS doorbell page: MSIs are not translated (5.13.6.8). */
		.msi_start = LAYOUT_GITS_BASE + LAYOUT_GITS_TRANSLATER_PAGE,
		.msi_size = LAYOUT_GITS_TRANSLATER_PAGE_SIZE,
	};
	struct virtio_iommu *v = calloc(1, sizeof(*v));
	int r;

	if (!v)
		return -ENOMEM;
	r = virtio_iommu_init(v, &vm->mem, &params);
	if (r) {
		free(v);
		return r;
	}
	virtio_iommu_set_endpoint_check(v, viommu_endpoint_ok, vm);
	vm->viommu = v;
	vm->vdevs[vm->nr_vdevs] = &v->vdev;
	vm->vdev_obj[vm->nr_vdevs] = v;
	vm->vdev_free[vm->nr_vdevs++] = viommu_free;
	r = attach_virtio(vm, &v->vdev, vm->cfg->iommu_transport, 0,
			  PCI_CLASS_SYSTEM_OTHER, err, errlen);
	vm->viommu_at = &vm->placed[vm->nr_placed - 1];
	return r;
}

static int nest_attach(void *opaque, uint32_t pt)
{
	return vfio_assigned_attach_pt(opaque, pt);
}

/*
 * Assigned devices behind the SMMUv3: the guest's stage 1 runs in the host
 * SMMU (iommu/smmu_nest.c). The guest-visible ID registers are the fixed
 * model's restricted to what the host can run, decided here, before the
 * guest first reads them.
 */
static int wire_smmu_nested(struct vm *vm, char *err, size_t errlen)
{
	struct iommufd_smmuv3_info host;
	uint32_t idr[6], iidr, aidr;
	int r;

	for (unsigned int i = 0; i < vm->nr_placed; i++) {
		struct vm_placement *pl = &vm->placed[i];
		struct vfio_assigned *a = pl->assigned;
		struct smmu_nest_dev d;

		if (!a || !pl->iommu)
			continue;
		if (pl->pdev->bridge) {
			snprintf(err, errlen,
				 "--vfio %s: behind --iommu smmuv3 an assigned device sits on the root bus (its StreamID is fixed before the guest numbers buses)",
				 a->bdf);
			return -EINVAL;
		}
		d = (struct smmu_nest_dev){
			.dev_id = a->devid,
			.vsid = pci_own_rid(pl->pdev),
			.attach = nest_attach,
			.opaque = a,
			.name = a->name,
		};
		if (vm->smmu_nest) {
			r = smmu_nest_add(vm->smmu_nest, &d, err, errlen);
			if (r)
				return r;
			continue;
		}
		r = smmu_nest_probe(&vm->iommufd, a->devid, a->name, &host, err,
				    errlen);
		if (r)
			return r;
		smmuv3_model_idr(idr, &iidr, &aidr);
		if (vm->cfg->smmu_wired)
			idr[0] &= ~IDR0_MSI;
		smmu_nest_guest_idr(&host, idr);
		smmuv3_set_idr(vm->smmu, idr);
		pr_info("SMMUv3: ID registers restricted to the host SMMU's: IDR0 0x%x IDR1 0x%x IDR3 0x%x IDR5 0x%x (host: 0x%x 0x%x 0x%x 0x%x)",
			idr[0], idr[1], idr[3], idr[5], host.idr[0], host.idr[1],
			host.idr[3], host.idr[5]);
		vm->smmu_nest = calloc(1, sizeof(*vm->smmu_nest));
		if (!vm->smmu_nest)
			return -ENOMEM;
		r = smmu_nest_init(vm->smmu_nest, &vm->iommufd, vm->smmu,
				   vm->ioas, &host, &d, err, errlen);
		if (r)
			return r;
		smmuv3_set_backend(vm->smmu, &vm->smmu_nest->backend);
		pr_info("%s: nested: the guest's stage 1 runs in the host SMMU (vIOMMU %u, StreamID 0x%x)",
			a->name, vm->smmu_nest->viommu_id, d.vsid);
	}
	return 0;
}

/*
 * The emulated SMMUv3 of the fixed model (no assigned devices behind it):
 * registers on the MMIO bus, its interrupts as MSIs through the ITS or,
 * with irq=wired, as two edge-triggered SPIs.
 */
static int create_smmu(struct vm *vm, char *err, size_t errlen)
{
	struct smmuv3_params p = {
		.mem = &vm->mem,
		.host = &vm->host,
		.spi_evtq = LAYOUT_SMMU_SPI_EVTQ,
		.spi_gerror = LAYOUT_SMMU_SPI_GERROR,
		.msi_doorbell = LAYOUT_GITS_BASE + LAYOUT_GITS_TRANSLATER_PAGE +
				LAYOUT_GITS_TRANSLATER_OFFSET,
		.msi_devid = LAYOUT_SMMU_ITS_DEVID,
	};
	int r;

	smmuv3_model_idr(p.idr, &p.iidr, &p.aidr);
	if (vm->cfg->smmu_wired) {
		p.idr[0] &= ~IDR0_MSI;
		p.msi_doorbell = 0;
	}
	vm->smmu = calloc(1, sizeof(*vm->smmu));
	if (!vm->smmu)
		return -ENOMEM;
	r = smmuv3_init(vm->smmu, &p);
	if (!r)
		r = mmio_bus_add(&vm->bus, LAYOUT_SMMU_BASE, LAYOUT_SMMU_SIZE,
				 &smmuv3_mmio_ops, vm->smmu, "smmuv3");
	if (r) {
		snprintf(err, errlen, "cannot create the SMMUv3: %s",
			 strerror(-r));
		return r;
	}
	pr_info("SMMUv3 at 0x%llx (%s interrupts)",
		(unsigned long long)LAYOUT_SMMU_BASE,
		vm->cfg->smmu_wired ? "wired" : "MSI");
	return 0;
}

/* Append iommu-map entries for the identity RID range [from, to). */
static void iommu_map_range(struct vm *vm, uint32_t from, uint32_t to)
{
	if (from >= to || vm->nr_iommu_map == FDT_IOMMU_MAP_MAX)
		return;
	vm->iommu_map[vm->nr_iommu_map++] =
		(struct fdt_iommu_map){ from, from, to - from };
}

static bool assigned_has_id(void *ctx, uint32_t id)
{
	const struct pci_dev *pdev = ctx;

	return id == pci_own_rid(pdev) || id == pci_requester_id(pdev);
}

static int assigned_attach_pt(void *ctx, uint32_t pt)
{
	const struct pci_dev *pdev = ctx;
	const struct vfio_assigned *a =
		(const void *)((const char *)pdev -
			       offsetof(struct vfio_assigned, model.pdev));

	return vfio_assigned_attach_pt(a, pt);
}

/* The host IOMMU group of a host function, or -1. */
static int host_group(const char *bdf)
{
	char path[300], link[300];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return -1;
	link[n] = '\0';
	return atoi(strrchr(link, '/') + 1);
}

/*
 * Devices of one host IOMMU group share one host address space, so the
 * guest must see them in one address space too: behind the vIOMMU that
 * means one endpoint, i.e. both behind the PCIe-to-PCI bridge.
 */
static int check_host_groups(struct vm *vm, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < vm->nr_placed; i++) {
		const struct vm_placement *p = &vm->placed[i];
		int g = p->assigned ? host_group(p->assigned->bdf) : -1;

		if (g < 0)
			continue;
		for (unsigned int j = i + 1; j < vm->nr_placed; j++) {
			const struct vm_placement *q = &vm->placed[j];

			if (!q->assigned || host_group(q->assigned->bdf) != g)
				continue;
			if (!vm->viommu ||
			    (!p->iommu && !q->iommu) ||
			    (p->iommu == q->iommu && p->pdev->bridge &&
			     q->pdev->bridge))
				continue;
			snprintf(err, errlen,
				 "--vfio: %s and %s are in host IOMMU group %d, so they share one address space; behind --iommu virtio give them one endpoint (both bus=bridge) or keep both out (iommu=off)",
				 p->assigned->bdf, q->assigned->bdf, g);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Assigned devices behind the vIOMMU: each guest domain becomes an IOAS
 * (iommu/viommu_ioas.c), the host's reserved IOVA ranges are reported to
 * the guest as RESV_MEM, and the host IOMMU must map at 4 KiB like the
 * virtio-iommu says it does.
 */
static int wire_viommu_assigned(struct vm *vm, char *err, size_t errlen)
{
	struct iommufd_range ranges[16];
	unsigned int n = 0, nr = 0;
	uint64_t next = 0;
	bool top = false;
	int r;

	r = check_host_groups(vm, err, errlen);
	if (r)
		return r;
	for (unsigned int i = 0; i < vm->nr_placed; i++)
		nr += vm->placed[i].assigned && vm->placed[i].iommu;
	if (!nr)
		return 0;
	r = iommufd_ioas_iova_ranges(&vm->iommufd, vm->ioas, ranges, 16, &n);
	if (r) {
		snprintf(err, errlen, "IOMMU_IOAS_IOVA_RANGES: %s",
			 strerror(-r));
		return r;
	}
	if (vm->iommufd.iova_alignment > VIRTIO_IOMMU_PAGE_SIZE) {
		snprintf(err, errlen,
			 "--vfio: the host IOMMU maps in %llu-byte pages, the virtio-iommu offers 4 KiB: keep the device out of it (iommu=off)",
			 (unsigned long long)vm->iommufd.iova_alignment);
		return -ENOTSUP;
	}
	/* The gaps between allowed ranges are the host's: not for MAP. */
	for (unsigned int i = 0; i < n; i++) {
		if (ranges[i].start > next)
			virtio_iommu_add_resv(vm->viommu, next,
					      ranges[i].start - 1,
					      VIRTIO_IOMMU_RESV_MEM_T_RESERVED);
		if (ranges[i].last == UINT64_MAX) {
			top = true;
			break;
		}
		next = ranges[i].last + 1;
	}
	if (!top)
		virtio_iommu_add_resv(vm->viommu, next, UINT64_MAX,
				      VIRTIO_IOMMU_RESV_MEM_T_RESERVED);
	vm->viommu_ioas = calloc(1, sizeof(*vm->viommu_ioas));
	if (!vm->viommu_ioas)
		return -ENOMEM;
	r = viommu_ioas_init(vm->viommu_ioas, &vm->iommufd, &vm->mem, vm->ioas);
	for (unsigned int i = 0; !r && i < vm->nr_placed; i++) {
		struct vm_placement *pl = &vm->placed[i];

		if (!pl->assigned || !pl->iommu)
			continue;
		r = viommu_ioas_add_dev(
			vm->viommu_ioas,
			&(struct viommu_ioas_dev){
				.name = pl->assigned->name,
				.has_id = assigned_has_id,
				.ctx = pl->pdev,
				.attach_pt = assigned_attach_pt,
				.pt = vm->ioas,
			});
	}
	if (!r)
		r = viommu_ioas_start(vm->viommu_ioas, vm->viommu);
	if (r) {
		snprintf(err, errlen, "assigned devices behind the vIOMMU: %s",
			 strerror(-r));
		return r;
	}
	virtio_iommu_set_listener(vm->viommu, &vm->viommu_ioas->listener);
	pr_info("virtio-iommu: %u assigned device(s) behind it, one IOAS per guest domain",
		nr);
	return 0;
}

/*
 * Once every device is placed: give each device behind the vIOMMU its DMA
 * space, and build the iommu-map (identity over requester IDs, leaving out
 * the IOMMU itself and the functions that are not behind it).
 */
static int wire_viommu(struct vm *vm, char *err, size_t errlen)
{
	bool root_out[256] = { false }, any_pci = false;
	int bridged = -1; /* iommu setting shared behind the bridge */
	uint32_t from = 0;
	int r;

	for (unsigned int i = 0; i < vm->nr_placed; i++) {
		struct vm_placement *pl = &vm->placed[i];
		struct dma_space dma;

		if (pl == vm->viommu_at) {
			if (pl->pdev)
				root_out[pl->pdev->devfn] = true;
			continue;
		}
		if (pl->pdev && pl->pdev->bridge) {
			/* One alias, so one endpoint and one setting. */
			if (bridged >= 0 && bridged != pl->iommu) {
				snprintf(
					err, errlen,
					"%s: devices behind the PCIe-to-PCI bridge share one requester ID, so one IOMMU endpoint: give them all the same iommu= setting",
					pl->vdev ? pl->vdev->label
						 : pl->assigned->name);
				return -EINVAL;
			}
			bridged = pl->iommu;
		} else if (pl->pdev && !pl->iommu) {
			root_out[pl->pdev->devfn] = true;
		}
		if (!pl->iommu)
			continue;
		if (pl->assigned) {
			any_pci = true;
			continue; /* the host IOMMU translates for it */
		}
		if (pl->pdev && vm->smmu) {
			any_pci = true;
			dma = pl->smmu_dma; /* made with its MSI ops */
			r = 0;
		} else if (vm->smmu) {
			r = smmuv3_client_dma(vm->smmu, NULL, NULL,
					      VM_VIOMMU_MMIO_ID_BASE + pl->mmio,
					      &dma);
			vm->mmio_fdt[pl->mmio].iommu = true;
			vm->mmio_fdt[pl->mmio].iommu_id =
				VM_VIOMMU_MMIO_ID_BASE + pl->mmio;
		} else if (pl->pdev) {
			any_pci = true;
			r = virtio_iommu_client_dma(vm->viommu, pci_endpoint_id,
						    pl->pdev, &dma);
		} else {
			r = virtio_iommu_add_endpoint(
				vm->viommu, VM_VIOMMU_MMIO_ID_BASE + pl->mmio);
			if (!r)
				r = virtio_iommu_endpoint_dma(
					vm->viommu,
					VM_VIOMMU_MMIO_ID_BASE + pl->mmio,
					&dma);
			vm->mmio_fdt[pl->mmio].iommu = true;
			vm->mmio_fdt[pl->mmio].iommu_id =
				VM_VIOMMU_MMIO_ID_BASE + pl->mmio;
		}
		if (r) {
			snprintf(err, errlen, "%s: cannot put it behind the vIOMMU: %s",
				 pl->vdev->label, strerror(-r));
			return r;
		}
		virtio_dev_set_dma(pl->vdev, &dma);
		pr_info("%s is behind the %s", pl->vdev->label,
			vm->smmu ? "SMMUv3" : "virtio-iommu");
	}
	r = vm->viommu ? wire_viommu_assigned(vm, err, errlen)
		       : wire_smmu_nested(vm, err, errlen);
	if (r)
		return r;
	if (!any_pci)
		return 0;
	if (bridged != 1 && vm->bridge)
		root_out[vm->bridge->pdev.devfn] = true;
	for (uint32_t devfn = 0; devfn < 256; devfn++) {
		if (!root_out[devfn])
			continue;
		iommu_map_range(vm, from, devfn);
		from = devfn + 1;
	}
	/* Buses behind the bridge: all of them, or none. */
	iommu_map_range(vm, from, bridged == 1 ? 0x10000 : 0x100);
	return 0;
}

int vm_memslot_alloc(struct vm *vm)
{
	for (int i = 1; i < 64; i++)
		if (!(vm->memslots_used & (1ULL << i))) {
			vm->memslots_used |= 1ULL << i;
			return i;
		}
	return -1;
}

void vm_memslot_free(struct vm *vm, int slot)
{
	if (slot > 0 && slot < 64)
		vm->memslots_used &= ~(1ULL << slot);
}

int vm_kvm_vfio_add(struct vm *vm, int fd, char *err, size_t errlen)
{
	struct kvm_device_attr attr = {
		.group = KVM_DEV_VFIO_GROUP, /* KVM_DEV_VFIO_FILE, same value */
		.attr = KVM_DEV_VFIO_GROUP_ADD, /* KVM_DEV_VFIO_FILE_ADD */
		.addr = (uint64_t)(uintptr_t)&fd,
	};

	if (vm->kvm_vfio_fd < 0) {
		struct kvm_create_device cd = { .type = KVM_DEV_TYPE_VFIO };

		if (ioctl(vm->kvm.vm_fd, KVM_CREATE_DEVICE, &cd) < 0) {
			snprintf(err, errlen,
				 "KVM has no VFIO device (CONFIG_KVM_VFIO): %s",
				 strerror(errno));
			return -errno;
		}
		vm->kvm_vfio_fd = cd.fd;
	}
	if (ioctl(vm->kvm_vfio_fd, KVM_SET_DEVICE_ATTR, &attr) < 0) {
		snprintf(err, errlen, "KVM_DEV_VFIO_FILE_ADD: %s",
			 strerror(errno));
		return -errno;
	}
	return 0;
}

/* --vfio DEV[,bus=bridge]: open, model, place on the bus, wire INTx. */
static int create_vfio(struct vm *vm, const char *spec, char *err,
		       size_t errlen)
{
	struct vfio_assigned *a;
	bool bridge;
	int iommu, r;
	char *dev = take_common_options(spec, &bridge, &iommu, err, errlen);

	bool msix_ro = false;
	char *opt;

	if (!dev)
		return -EINVAL;
	opt = strchr(dev, ',');
	if (opt) {
		*opt++ = '\0';
		if (strcmp(opt, "msix-mmap=ro") && strcmp(opt, "msix-mmap=off")) {
			snprintf(err, errlen,
				 "--vfio '%s': expected DEV[,bus=bridge|root][,iommu=on|off][,msix-mmap=ro|off]",
				 spec);
			free(dev);
			return -EINVAL;
		}
		msix_ro = !strcmp(opt, "msix-mmap=ro");
	}
	if (iommu == 1 && vm->cfg->iommu == IOMMU_NONE) {
		snprintf(err, errlen, "--vfio %s: iommu=on needs --iommu",
			 dev);
		free(dev);
		return -EINVAL;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		free(dev);
		return -ENOMEM;
	}
	vm->vfio[vm->nr_vfio++] = a;
	if (vm->smmu && iommu != 0) {
		struct dma_space dma;

		/* Its MSI addresses are IOVAs in the guest's stage 1. */
		r = smmuv3_client_dma(vm->smmu, pci_endpoint_id,
				      &a->model.pdev, 0, &dma);
		if (r) {
			free(dev);
			return r;
		}
		a->host = smmuv3_client_host(&dma, &vm->host);
	}
	r = vfio_assigned_open(a, vm, dev, msix_ro, err, errlen);
	free(dev);
	if (r)
		return r;
	if (bridge && !vm->bridge) {
		vm->bridge = calloc(1, sizeof(*vm->bridge));
		if (!vm->bridge)
			return -ENOMEM;
		pci_bridge_init(vm->bridge, 0);
		r = pci_host_add(&vm->pci, &vm->bridge->pdev, -1);
		if (r < 0) {
			snprintf(err, errlen, "no PCI slot for the bridge");
			return r;
		}
	}
	r = bridge ? pci_bridge_add(vm->bridge, &a->model.pdev, -1)
		   : pci_host_add(&vm->pci, &a->model.pdev, -1);
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot add it to PCI: %s", a->name,
			 strerror(-r));
		return r;
	}
	pr_info("%s at PCI %s slot %d", a->name,
		bridge ? "bridge bus" : "root bus", r);
	vm->placed[vm->nr_placed++] = (struct vm_placement){
		.assigned = a,
		.pdev = &a->model.pdev,
		.iommu = vm->cfg->iommu != IOMMU_NONE && iommu != 0,
	};
	return vfio_assigned_start(a, err, errlen);
}

static int create_devices(struct vm *vm, char *err, size_t errlen)
{
	const struct vm_config *cfg = vm->cfg;
	const struct pl011_backend be = {
		.tx = uart_tx,
		.set_irq = uart_set_irq,
		.rx_ready = uart_rx_ready,
		.opaque = vm,
	};
	int r;

	pl011_init(&vm->uart, &be);
	r = mmio_bus_add(&vm->bus, LAYOUT_UART_BASE, LAYOUT_UART_SIZE,
			 &pl011_mmio_ops, &vm->uart, "pl011");
	if (r) {
		snprintf(err, errlen, "cannot map the UART: %s", strerror(-r));
		return r;
	}
	vm->console_sink = (struct console_sink){
		(size_t(*)(void *, const uint8_t *, size_t))pl011_receive,
		&vm->uart,
	};

	vm->host = (struct host_ops){
		.ioeventfd = host_ioeventfd,
		.set_spi = host_set_spi,
		.spi_irqfd = host_spi_irqfd,
		.msi_route_add = host_msi_add,
		.msi_route_update = host_msi_update,
		.msi_route_del = host_msi_del,
		.signal_msi = host_signal_msi,
		.opaque = vm,
		.loop = &vm->loop,
		.intx_spi_base = LAYOUT_PCI_INTX_SPI_BASE,
	};
	msi_router_init(&vm->msi, vm->kvm.vm_fd);
	pci_host_init(&vm->pci, &vm->bus, LAYOUT_PCI_ECAM_BASE,
		      LAYOUT_PCI_ECAM_SIZE, LAYOUT_PCI_MMIO32_BASE,
		      LAYOUT_PCI_MMIO32_SIZE,
		      layout_pci_mmio64_base(vm->mem.base + vm->mem.size),
		      LAYOUT_PCI_MMIO64_SIZE);
	r = mmio_bus_add(&vm->bus, LAYOUT_PCI_ECAM_BASE, LAYOUT_PCI_ECAM_SIZE,
			 &pci_host_ecam_ops, &vm->pci, "pci-ecam");
	if (r) {
		snprintf(err, errlen, "cannot map the PCI ECAM: %s",
			 strerror(-r));
		return r;
	}

	if (cfg->iommu == IOMMU_VIRTIO || cfg->iommu == IOMMU_SMMUV3) {
		r = cfg->iommu == IOMMU_VIRTIO ? create_viommu(vm, err, errlen)
					       : create_smmu(vm, err, errlen);
		if (r)
			return r;
	}
	for (unsigned int i = 0; i < cfg->nr_vfio; i++) {
		r = create_vfio(vm, cfg->vfio[i], err, errlen);
		if (r)
			return r;
	}
	if (cfg->testdev) {
		vm->testdev = calloc(1, sizeof(*vm->testdev));
		if (!vm->testdev)
			return -ENOMEM;
		r = testdev_init(vm->testdev, &vm->host);
		if (!r)
			r = pci_host_add(&vm->pci, &vm->testdev->pdev, -1);
		if (r < 0) {
			snprintf(err, errlen, "--testdev: %s", strerror(-r));
			return r;
		}
		pr_info("testdev at PCI root bus slot %d", r);
	}
	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		struct virtio_blk_opts *o = calloc(1, sizeof(*o));
		struct virtio_blk *blk;

		if (!o)
			return -ENOMEM;
		bool bridge;
		int iommu;
		char *arg = take_common_options(cfg->disks[i], &bridge, &iommu,
						err, errlen);

		if (!arg) {
			free(o);
			return -EINVAL;
		}
		r = virtio_blk_parse(arg, o, err, errlen);
		free(arg);
		if (!r)
			r = virtio_blk_create(&blk, o, &vm->mem, &vm->loop, err,
					      errlen);
		if (r) {
			free(o);
			return r;
		}
		vm->vdevs[vm->nr_vdevs] = virtio_blk_vdev(blk);
		vm->vdev_obj[vm->nr_vdevs] = blk;
		vm->vdev_free[vm->nr_vdevs++] =
			(void (*)(void *))virtio_blk_destroy;
		r = attach_virtio(
			vm, virtio_blk_vdev(blk),
			place(o->transport == VIRTIO_TRANSPORT_MMIO, bridge),
			iommu, PCI_CLASS_STORAGE_OTHER, err, errlen);
		free(o);
		if (r)
			return r;
	}
	for (unsigned int i = 0; i < cfg->nr_nets; i++) {
		struct virtio_net_opts o;
		struct virtio_net *net;

		bool bridge;
		int iommu;
		char *arg = take_common_options(cfg->nets[i], &bridge, &iommu,
						err, errlen);

		if (!arg)
			return -EINVAL;
		r = virtio_net_parse(arg, &o, err, errlen);
		free(arg);
		if (!r)
			r = virtio_net_create(&net, &o, &vm->mem, &vm->loop,
					      err, errlen);
		if (r)
			return r;
		vm->vdevs[vm->nr_vdevs] = virtio_net_vdev(net);
		vm->vdev_obj[vm->nr_vdevs] = net;
		vm->vdev_free[vm->nr_vdevs++] =
			(void (*)(void *))virtio_net_destroy;
		r = attach_virtio(
			vm, virtio_net_vdev(net),
			place(o.transport == VIRTIO_TRANSPORT_MMIO, bridge),
			iommu, PCI_CLASS_NETWORK_ETHERNET, err, errlen);
		if (r)
			return r;
		pr_info("%s on tap %s", virtio_net_vdev(net)->label,
			virtio_net_ifname(net));
	}
	if (cfg->virtio_console) {
		const struct virtio_console_backend cbe = {
			.tx = console_write,
			.rx_ready = console_rx_ready,
			.opaque = &vm->console,
		};
		const struct console_sink sink = {
			(size_t(*)(void *, const uint8_t *,
				   size_t))virtio_console_receive,
			NULL,
		};
		struct virtio_console *vc = calloc(1, sizeof(*vc));

		if (!vc)
			return -ENOMEM;
		virtio_console_init(vc, &vm->mem, &cbe);
		vm->vdevs[vm->nr_vdevs] = virtio_console_vdev(vc);
		vm->vdev_obj[vm->nr_vdevs] = vc;
		vm->vdev_free[vm->nr_vdevs++] = free;
		r = attach_virtio(vm, virtio_console_vdev(vc),
				  cfg->virtio_console_transport,
				  cfg->virtio_console_iommu,
				  PCI_CLASS_COMMUNICATION_OTHER, err, errlen);
		if (r)
			return r;
		vm->console_sink = sink;
		vm->console_sink.dev = vc;
	}
	r = console_attach(&vm->console, &vm->loop, &vm->console_sink,
			   console_quit, vm);
	if (r)
		return r;
	if (cfg->rng) {
		struct virtio_rng *rng = calloc(1, sizeof(*rng));

		if (!rng)
			return -ENOMEM;
		virtio_rng_init(rng, &vm->mem);
		vm->vdevs[vm->nr_vdevs] = &rng->vdev;
		vm->vdev_obj[vm->nr_vdevs] = rng;
		vm->vdev_free[vm->nr_vdevs++] = free;
		r = attach_virtio(vm, &rng->vdev, cfg->rng_transport,
				  cfg->rng_iommu, PCI_CLASS_OTHERS, err, errlen);
		if (r)
			return r;
	}
	return vm->viommu || vm->smmu ? wire_viommu(vm, err, errlen) : 0;
}

/*
 * With assigned devices: are their interrupts forwarded as vLPIs (GICv4:
 * the GIC delivers them to the vCPU without KVM injecting them)? Only
 * KVM's debugfs can tell, so look every few seconds while the guest runs
 * and log when the answer changes (LPIs come and go with guest drivers).
 */
#define VM_VLPI_CHECK_SECS 2

static void vlpi_check_cb(struct evloop_source *src, int res)
{
	struct vm *vm = src->opaque;
	struct vgic_lpi_count c;
	uint64_t ticks;
	int r;

	(void)res;
	if (read(vm->vlpi_timer_fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return;
	r = vgic_state_read_lpis(getpid(), vm->kvm.vm_fd, &c);
	if (r) {
		pr_info("GICv4: cannot tell whether LPIs are forwarded (KVM's vgic-state debugfs: %s)",
			strerror(-r));
		close(vm->vlpi_timer_fd); /* it will not get better */
		vm->vlpi_timer_fd = -1;
		return;
	}
	if (c.lpis != vm->vlpi_last.lpis || c.hw != vm->vlpi_last.hw) {
		char devs[256] = "";
		size_t off = 0;

		/* Which assigned devices could own them: their bound vectors. */
		for (unsigned int i = 0; i < vm->nr_vfio && off < sizeof(devs);
		     i++)
			off += snprintf(devs + off, sizeof(devs) - off,
					"%s %s: %u bound", i ? ";" : "",
					vm->vfio[i]->name,
					vfio_pci_bound_irqs(&vm->vfio[i]->model));
		pr_info("GICv4: %u of %u LPIs of this VM forwarded as vLPIs (%s)",
			c.hw, c.lpis, devs + 1);
	}
	vm->vlpi_last = c;
	if (c.hw)
		vm->vlpi_capable = true;
	/*
	 * On a host that forwards (it did before), fewer forwarded LPIs than
	 * bound vectors of assigned devices means the guest moved or remapped
	 * an LPI and KVM fell back to software injection: bind the irqfds
	 * again so KVM resolves them through the vITS anew.
	 */
	if (vm->vlpi_capable) {
		unsigned int bound = 0;

		for (unsigned int i = 0; i < vm->nr_vfio; i++)
			bound += vfio_pci_bound_irqs(&vm->vfio[i]->model);
		if (c.hw < bound) {
			unsigned int n = 0;

			for (unsigned int i = 0; i < vm->nr_vfio; i++)
				n += vfio_pci_rebind_irqs(&vm->vfio[i]->model);
			vm->vlpi_rearms++;
			pr_info("GICv4: %u of %u vectors of assigned devices forwarded; re-armed %u",
				c.hw, bound, n);
		}
	}
}

static void veventq_cb(struct evloop_source *src, int res)
{
	struct vm *vm = src->opaque;

	(void)res;
	smmu_nest_read_events(vm->smmu_nest);
}

/* Host events of nested assigned devices, read on the event loop. */
static int start_veventq(struct vm *vm)
{
	if (!vm->smmu_nest || vm->smmu_nest->veventq_fd < 0)
		return 0;
	return evloop_add(&vm->loop, &vm->veventq_src,
			  vm->smmu_nest->veventq_fd, POLLIN, true, veventq_cb,
			  vm);
}

static int start_vlpi_check(struct vm *vm)
{
	struct itimerspec its = {
		.it_interval = { VM_VLPI_CHECK_SECS, 0 },
		.it_value = { VM_VLPI_CHECK_SECS, 0 },
	};

	vm->vlpi_timer_fd = -1;
	if (!vm->nr_vfio)
		return 0;
	vm->vlpi_timer_fd = timerfd_create(CLOCK_MONOTONIC,
					   TFD_CLOEXEC | TFD_NONBLOCK);
	if (vm->vlpi_timer_fd < 0 ||
	    timerfd_settime(vm->vlpi_timer_fd, 0, &its, NULL))
		return -errno;
	return evloop_add(&vm->loop, &vm->vlpi_src, vm->vlpi_timer_fd, POLLIN,
			  true, vlpi_check_cb, vm);
}

static void vm_teardown(struct vm *vm)
{
	atomic_store(&vm->stopping, true);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	vm->vcpus = NULL;
	gic_destroy(&vm->gic);
	if (vm->viommu)
		virtio_iommu_set_listener(vm->viommu, NULL);
	if (vm->viommu_ioas) {
		pr_info("virtio-iommu IOAS mirror: %llu device moves, %llu IOAS maps, %llu unmaps, %llu failures",
			(unsigned long long)vm->viommu_ioas->attaches,
			(unsigned long long)vm->viommu_ioas->maps,
			(unsigned long long)vm->viommu_ioas->unmaps,
			(unsigned long long)vm->viommu_ioas->failures);
		viommu_ioas_destroy(vm->viommu_ioas);
		free(vm->viommu_ioas);
	}
	if (vm->smmu_nest) {
		const struct smmu_nest_stats *st = &vm->smmu_nest->stats;

		if (vm->smmu)
			smmuv3_set_backend(vm->smmu, NULL);
		pr_info("smmuv3 nesting: %llu STE changes, %llu attaches, %llu nested HWPTs allocated; %llu commands in %llu HWPT_INVALIDATE ioctls (%llu failed); host events %llu, lost %llu",
			(unsigned long long)st->ste_changes,
			(unsigned long long)st->attaches,
			(unsigned long long)st->hwpt_allocs,
			(unsigned long long)st->commands,
			(unsigned long long)st->invalidate_ioctls,
			(unsigned long long)st->invalidate_errors,
			(unsigned long long)st->host_events,
			(unsigned long long)st->host_events_lost);
	}
	/* Assigned devices: reset them while their memory slots still exist. */
	for (unsigned int i = 0; i < vm->nr_vfio; i++) {
		vfio_assigned_close(vm->vfio[i]);
		free(vm->vfio[i]);
	}
	if (vm->kvm_vfio_fd >= 0)
		close(vm->kvm_vfio_fd);
	if (vm->ioas_ready)
		iommufd_close(&vm->iommufd);
	/* Guest RAM goes before the VM fd so KVM tears down less. */
	kvm_close(&vm->kvm);
	gmem_free(&vm->mem);
	for (unsigned int i = 0; i < vm->nr_vpci; i++) {
		msix_destroy(&vm->vpci[i]->msix);
		free(vm->vpci[i]);
	}
	for (unsigned int i = 0; i < vm->nr_vmmio; i++)
		free(vm->vmmio[i]);
	free(vm->bridge);
	if (vm->loop_ready)
		evloop_destroy(&vm->loop);
	if (vm->testdev) {
		testdev_destroy(vm->testdev);
		free(vm->testdev);
	}
	for (unsigned int i = 0; i < vm->nr_vdevs; i++)
		vm->vdev_free[i](vm->vdev_obj[i]);
	if (vm->smmu_nest) {
		smmu_nest_destroy(vm->smmu_nest); /* after the loop: its fd */
		free(vm->smmu_nest);
	}
	if (vm->smmu) {
		char line[512];

		/* after the devices: their DMA spaces point into it */
		smmuv3_stats(vm->smmu, line, sizeof(line));
		pr_info("smmuv3: %s", line);
		smmuv3_destroy(vm->smmu);
		free(vm->smmu);
	}
	if (vm->signal_fd >= 0)
		close(vm->signal_fd);
	if (vm->vlpi_timer_fd > 0)
		close(vm->vlpi_timer_fd);
	console_close(&vm->console);
	pl011_destroy(&vm->uart);
}

int vm_run(const struct vm_config *cfg)
{
	struct boot_files bf;
	struct vm *vm;
	sigset_t shutdown_set;
	char err[512] = "";
	int status, r;

	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return EXIT_HOST_FAILURE;
	vm->cfg = cfg;
	vm->signal_fd = -1;
	vm->kvm.fd = vm->kvm.vm_fd = -1;
	vm->gic.fd = vm->gic.its_fd = -1;
	vm->mem.fd = -1;
	vm->loop.stop_fd = -1;
	vm->kvm_vfio_fd = -1;
	vm->iommufd.fd = -1;
	mmio_bus_init(&vm->bus);
	bf.kernel_fd = bf.initrd_fd = -1;
	atomic_init(&vm->exit_status, -1);

	/* User errors first: files, sizes, then what the host can do. */
	r = console_open(&vm->console, cfg->console, cfg->console_path, err,
			 sizeof(err));
	if (!r)
		r = open_boot_files(cfg, &bf, err, sizeof(err));
	if (!r)
		r = create_machine(vm, err, sizeof(err));
	if (r) {
		status = EXIT_BAD_INPUT;
		goto out;
	}
	status = EXIT_HOST_FAILURE;
	r = evloop_init(&vm->loop, VM_EVLOOP_ENTRIES);
	if (r) {
		snprintf(err, sizeof(err), "cannot set up io_uring: %s",
			 strerror(-r));
		goto out;
	}
	vm->loop_ready = true;
	/* Device options are user input too: their errors are status 1. */
	r = create_devices(vm, err, sizeof(err));
	if (r) {
		if (!err[0])
			snprintf(err, sizeof(err), "device set-up failed: %s",
				 strerror(-r));
		status = EXIT_BAD_INPUT;
		goto out;
	}
	r = load_and_describe(vm, &bf, err, sizeof(err));
	if (!r)
		r = setup_signals(vm, &shutdown_set);
	if (!r)
		r = start_vlpi_check(vm);
	if (!r)
		r = start_veventq(vm);
	if (r) {
		if (!err[0])
			snprintf(err, sizeof(err), "set-up failed: %s",
				 strerror(-r));
		goto out;
	}
	close_boot_files(&bf);

	console_enter_raw(&vm->console);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		r = vcpu_start(&vm->vcpus[i]);
		if (r) {
			vm_request_exit(vm, EXIT_HOST_FAILURE, NULL);
			snprintf(err, sizeof(err),
				 "cannot start vCPU thread: %s", strerror(-r));
			break;
		}
	}
	r = evloop_run(&vm->loop);
	if (r < 0) {
		vm_request_exit(vm, EXIT_HOST_FAILURE, NULL);
		snprintf(err, sizeof(err), "event loop failed: %s",
			 strerror(-r));
	}
	status = atomic_load(&vm->exit_status);
	if (status < 0)
		status = EXIT_HOST_FAILURE;
out:
	close_boot_files(&bf);
	vm_teardown(vm);
	/* The terminal is back to normal: now reports are readable. */
	if (vm->exit_report) {
		fputs(vm->exit_report, stderr);
		free(vm->exit_report);
	}
	if (err[0])
		pr_err("%s", err);
	free(vm);
	return status;
}
