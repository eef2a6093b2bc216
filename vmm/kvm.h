/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NESTBOX_KVM_H
#define NESTBOX_KVM_H

#include <stddef.h>

#include "hostcheck.h"

#define KVM_DEVICE_PATH "/dev/kvm"

struct kvm {
	int fd;	   /* /dev/kvm */
	int vm_fd; /* -1 until kvm_create_vm() */
	int run_size;
	struct host_caps caps;
};

/* Open /dev/kvm and read the system-wide capabilities. */
int kvm_open(struct kvm *k, char *err, size_t errlen);
/* Create the VM with an IPA space of @ipa_bits and probe GICv3/ITS support. */
int kvm_create_vm(struct kvm *k, unsigned int ipa_bits, char *err,
		  size_t errlen);
void kvm_close(struct kvm *k);

#endif
