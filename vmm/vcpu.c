// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "vm.h"

#define CORE_REG(x)                                            \
	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | \
	 (offsetof(struct kvm_regs, x) / sizeof(__u32)))
#define SYS_REG(op0, op1, crn, crm, op2)                           \
	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM64_SYSREG | \
	 ARM64_SYS_REG_SHIFT_MASK(op0, OP0) |                      \
	 ARM64_SYS_REG_SHIFT_MASK(op1, OP1) |                      \
	 ARM64_SYS_REG_SHIFT_MASK(crn, CRN) |                      \
	 ARM64_SYS_REG_SHIFT_MASK(crm, CRM) |                      \
	 ARM64_SYS_REG_SHIFT_MASK(op2, OP2))

#define REG_MPIDR_EL1 SYS_REG(3, 0, 0, 0, 5)
#define REG_SCTLR_EL1 SYS_REG(3, 0, 1, 0, 0)
#define REG_ESR_EL1   SYS_REG(3, 0, 5, 2, 0)
#define REG_FAR_EL1   SYS_REG(3, 0, 6, 0, 0)
#define REG_VBAR_EL1  SYS_REG(3, 0, 12, 0, 0)

/* PMU overflow interrupt: PPI 7, INTID 23 (matches the DT's pmu node). */
#define PMU_INTID 23

static int get_reg(int fd, __u64 id, uint64_t *val)
{
	struct kvm_one_reg r = { .id = id, .addr = (__u64)(uintptr_t)val };

	return ioctl(fd, KVM_GET_ONE_REG, &r) < 0 ? -errno : 0;
}

static int set_reg(int fd, __u64 id, uint64_t val)
{
	struct kvm_one_reg r = { .id = id, .addr = (__u64)(uintptr_t)&val };

	return ioctl(fd, KVM_SET_ONE_REG, &r) < 0 ? -errno : 0;
}

int vcpu_create(struct vm *vm, struct vcpu *v, unsigned int id, char *err,
		size_t errlen)
{
	struct kvm_vcpu_init init;
	void *run;

	memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->id = id;
	v->fd = -1;
	v->fd = ioctl(vm->kvm.vm_fd, KVM_CREATE_VCPU, id);
	if (v->fd < 0) {
		snprintf(err, errlen, "KVM_CREATE_VCPU %u failed: %s", id,
			 strerror(errno));
		return -errno;
	}
	run = mmap(NULL, vm->kvm.run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   v->fd, 0);
	if (run == MAP_FAILED) {
		snprintf(err, errlen, "mmap of vCPU %u's kvm_run failed: %s",
			 id, strerror(errno));
		return -errno;
	}
	v->run = run;

	if (ioctl(vm->kvm.vm_fd, KVM_ARM_PREFERRED_TARGET, &init) < 0) {
		snprintf(err, errlen, "KVM_ARM_PREFERRED_TARGET failed: %s",
			 strerror(errno));
		return -errno;
	}
	init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
	/* Secondaries wait powered off for the guest's PSCI CPU_ON. */
	if (id)
		init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
	if (vm->kvm.caps.has_pmu)
		init.features[0] |= 1u << KVM_ARM_VCPU_PMU_V3;
	if (ioctl(v->fd, KVM_ARM_VCPU_INIT, &init) < 0) {
		snprintf(err, errlen, "KVM_ARM_VCPU_INIT of vCPU %u failed: %s",
			 id, strerror(errno));
		return -errno;
	}
	if (get_reg(v->fd, REG_MPIDR_EL1, &v->mpidr) < 0) {
		snprintf(err, errlen, "cannot read vCPU %u's MPIDR_EL1: %s", id,
			 strerror(errno));
		return -errno;
	}
	return 0;
}

int vcpu_enable_pmu(struct vcpu *v, bool init, char *err, size_t errlen)
{
	int irq = PMU_INTID;
	struct kvm_device_attr a = {
		.group = KVM_ARM_VCPU_PMU_V3_CTRL,
		.attr = init ? KVM_ARM_VCPU_PMU_V3_INIT
			     : KVM_ARM_VCPU_PMU_V3_IRQ,
		.addr = init ? 0 : (__u64)(uintptr_t)&irq,
	};

	if (ioctl(v->fd, KVM_SET_DEVICE_ATTR, &a) < 0) {
		snprintf(err, errlen, "cannot %s the PMU of vCPU %u: %s",
			 init ? "initialise" : "wire", v->id, strerror(errno));
		return -errno;
	}
	return 0;
}

int vcpu_set_entry(struct vcpu *v, uint64_t pc, uint64_t x0)
{
	int r = set_reg(v->fd, CORE_REG(regs.pc), pc);

	/* booting.rst: x0 = DTB, x1-x3 = 0 (KVM's reset already zeroes them).
	 */
	return r ? r : set_reg(v->fd, CORE_REG(regs.regs[0]), x0);
}

/* Describe the vCPU's state for a crash report; returns a malloc'd text. */
static char *vcpu_dump(struct vcpu *v, const char *why)
{
	static const struct {
		const char *name;
		__u64 id;
	} sys[] = {
		{ "pc", CORE_REG(regs.pc) },
		{ "pstate", CORE_REG(regs.pstate) },
		{ "sp_el0", CORE_REG(regs.sp) },
		{ "sp_el1", CORE_REG(sp_el1) },
		{ "elr_el1", CORE_REG(elr_el1) },
		{ "spsr_el1", CORE_REG(spsr[KVM_SPSR_EL1]) },
		{ "esr_el1", REG_ESR_EL1 },
		{ "far_el1", REG_FAR_EL1 },
		{ "sctlr_el1", REG_SCTLR_EL1 },
		{ "vbar_el1", REG_VBAR_EL1 },
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	uint64_t val;

	if (!f)
		return NULL;
	fprintf(f, "nestbox: guest crashed: vCPU %u: %s\n", v->id, why);
	fprintf(f, "vCPU %u registers:\n", v->id);
	for (int i = 0; i < 31; i++) {
		if (get_reg(v->fd, CORE_REG(regs.regs[i]), &val))
			fprintf(f, "  x%-2d <unreadable>   ", i);
		else
			fprintf(f, "  x%-2d %016llx", i,
				(unsigned long long)val);
		if (i % 4 == 3 || i == 30)
			fputc('\n', f);
	}
	for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++) {
		if (get_reg(v->fd, sys[i].id, &val))
			fprintf(f, "  %-9s <unreadable>\n", sys[i].name);
		else
			fprintf(f, "  %-9s %016llx\n", sys[i].name,
				(unsigned long long)val);
	}
	fclose(f);
	return buf;
}

static void vcpu_crash(struct vcpu *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void vcpu_crash(struct vcpu *v, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	vm_request_exit(v->vm, EXIT_GUEST_CRASH, vcpu_dump(v, why));
}

static void handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned int len = run->mmio.len;
	int r;

	r = mmio_bus_access(&v->vm->bus, run->mmio.phys_addr, run->mmio.data,
			    len, run->mmio.is_write);
	if (r == 0)
		return;
	/* Nothing there: reads as zero, writes ignored, logged once. */
	if (!run->mmio.is_write)
		memset(run->mmio.data, 0, sizeof(run->mmio.data));
	pr_warn_once(
		v->vm->warned_unhandled_mmio,
		"vCPU %u: guest %s of %u bytes at unmapped address 0x%llx (ignored; logged once)",
		v->id, run->mmio.is_write ? "write" : "read", len,
		(unsigned long long)run->mmio.phys_addr);
}

static void handle_system_event(struct vcpu *v)
{
	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		pr_info("guest powered off");
		vm_request_exit(v->vm, EXIT_GUEST_DONE, NULL);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		pr_info("guest rebooted");
		vm_request_exit(v->vm, EXIT_GUEST_DONE, NULL);
		break;
	case KVM_SYSTEM_EVENT_CRASH:
		vcpu_crash(
			v,
			"guest reported a crash (PSCI SYSTEM_OFF with crash)");
		break;
	default:
		vcpu_crash(v, "unknown system event %u",
			   v->run->system_event.type);
		break;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	char name[16];

	snprintf(name, sizeof(name), "vcpu%u", v->id);
	pthread_setname_np(pthread_self(), name);

	while (!atomic_load(&vm->stopping)) {
		int r = ioctl(v->fd, KVM_RUN, 0);

		if (atomic_load(&vm->stopping))
			break;
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			if (errno == ENOSYS) {
				/*
				 * A data abort without a valid syndrome (e.g.
				 * a load pair to MMIO): KVM cannot emulate it.
				 */
				vcpu_crash(
					v,
					"MMIO access KVM cannot decode (no valid ISV)");
				break;
			}
			vm_request_exit(vm, EXIT_HOST_FAILURE, NULL);
			pr_err("vCPU %u: KVM_RUN failed: %s", v->id,
			       strerror(errno));
			break;
		}
		switch (v->run->exit_reason) {
		case KVM_EXIT_MMIO:
			handle_mmio(v);
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			handle_system_event(v);
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_FAIL_ENTRY:
			vcpu_crash(
				v,
				"KVM_EXIT_FAIL_ENTRY (hardware entry failure 0x%llx)",
				(unsigned long long)v->run->fail_entry
					.hardware_entry_failure_reason);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			vcpu_crash(v, "KVM_EXIT_INTERNAL_ERROR (suberror %u)",
				   v->run->internal.suberror);
			break;
		case KVM_EXIT_ARM_NISV:
			vcpu_crash(
				v, "MMIO access KVM cannot decode at 0x%llx",
				(unsigned long long)v->run->arm_nisv.fault_ipa);
			break;
		default:
			vcpu_crash(v, "unexpected KVM exit reason %u",
				   v->run->exit_reason);
			break;
		}
	}
	return NULL;
}

int vcpu_start(struct vcpu *v)
{
	int r = pthread_create(&v->thread, NULL, vcpu_thread, v);

	if (r)
		return -r;
	v->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (!v->started)
		return;
	/* immediate_exit covers a thread that is about to enter KVM_RUN. */
	v->run->immediate_exit = 1;
	pthread_kill(v->thread, SIGUSR1);
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->started)
		pthread_join(v->thread, NULL);
	v->started = false;
	if (v->run)
		munmap(v->run, v->vm->kvm.run_size);
	if (v->fd >= 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}
