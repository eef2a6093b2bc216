// SPDX-License-Identifier: GPL-2.0
#include "kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysinfo.h>
#include <unistd.h>

static int check_ext(int fd, long cap)
{
	int r = ioctl(fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : r;
}

int kvm_open(struct kvm *k, char *err, size_t errlen)
{
	struct sysinfo si;
	int version;

	memset(k, 0, sizeof(*k));
	k->vm_fd = -1;
	k->fd = open(KVM_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (k->fd < 0) {
		int e = errno;

		snprintf(err, errlen, "cannot open %s: %s%s", KVM_DEVICE_PATH,
			 strerror(e),
			 e == ENOENT
				 ? " (is KVM enabled in this host's kernel?)"
			 : e == EACCES ? " (is your user in the kvm group?)"
				       : "");
		return -e;
	}
	version = ioctl(k->fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		snprintf(err, errlen, "%s speaks KVM API %d, nestbox needs %d",
			 KVM_DEVICE_PATH, version, KVM_API_VERSION);
		kvm_close(k);
		return -ENODEV;
	}
	k->run_size = ioctl(k->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (k->run_size <= 0) {
		snprintf(err, errlen, "KVM_GET_VCPU_MMAP_SIZE failed: %s",
			 strerror(errno));
		kvm_close(k);
		return -ENODEV;
	}

	k->caps.has_psci_0_2 = check_ext(k->fd, KVM_CAP_ARM_PSCI_0_2);
	k->caps.has_one_reg = check_ext(k->fd, KVM_CAP_ONE_REG);
	k->caps.has_irqfd = check_ext(k->fd, KVM_CAP_IRQFD);
	k->caps.has_pmu = check_ext(k->fd, KVM_CAP_ARM_PMU_V3);
	k->caps.max_vcpus = check_ext(k->fd, KVM_CAP_MAX_VCPUS);
	if (!k->caps.max_vcpus)
		k->caps.max_vcpus = check_ext(k->fd, KVM_CAP_NR_VCPUS);
	k->caps.ipa_bits_max = check_ext(k->fd, KVM_CAP_ARM_VM_IPA_SIZE);
	if (sysinfo(&si) == 0)
		k->caps.host_ram = (uint64_t)si.totalram * si.mem_unit;
	/* Until the VM exists, assume the devices; kvm_create_vm() checks. */
	k->caps.has_gicv3 = k->caps.has_its = true;
	return 0;
}

static bool device_supported(int vm_fd, __u32 type)
{
	struct kvm_create_device cd = {
		.type = type,
		.flags = KVM_CREATE_DEVICE_TEST,
	};

	return ioctl(vm_fd, KVM_CREATE_DEVICE, &cd) == 0;
}

int kvm_create_vm(struct kvm *k, unsigned int ipa_bits, char *err,
		  size_t errlen)
{
	unsigned long type = 0;

	if (k->caps.ipa_bits_max)
		type = KVM_VM_TYPE_ARM_IPA_SIZE(ipa_bits);
	do {
		k->vm_fd = ioctl(k->fd, KVM_CREATE_VM, type);
	} while (k->vm_fd < 0 && errno == EINTR);
	if (k->vm_fd < 0) {
		snprintf(err, errlen, "KVM_CREATE_VM (%u-bit IPA) failed: %s",
			 ipa_bits, strerror(errno));
		return -errno;
	}
	k->caps.has_gicv3 =
		device_supported(k->vm_fd, KVM_DEV_TYPE_ARM_VGIC_V3);
	k->caps.has_its = device_supported(k->vm_fd, KVM_DEV_TYPE_ARM_VGIC_ITS);
	return 0;
}

void kvm_close(struct kvm *k)
{
	if (k->vm_fd >= 0)
		close(k->vm_fd);
	if (k->fd >= 0)
		close(k->fd);
	k->vm_fd = k->fd = -1;
}
