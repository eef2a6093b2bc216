// SPDX-License-Identifier: GPL-2.0
/*
 * Host SMMUv3 nesting (iommu/smmu_nest.c) against a fake iommufd kernel
 * that checks each ioctl's argument struct, records the calls and hands
 * out object IDs: the probe of the host SMMU, the guest IDRs, the object
 * sequence of smmu_nest_init() and its failures, and the emulated SMMU
 * driven the way Linux drives it (registers, stream table, command queue
 * in guest RAM) with smmu_nest as its backend: STE changes re-attach the
 * assigned device, invalidations are batched into HWPT_INVALIDATE, and
 * vEVENTQ records reach the guest's event queue.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "iommu/iommufd.h"
#include "iommu/smmu_nest.h"
#include "iommu/smmuv3.h"
#include "iommu/uapi_iommufd.h"

#include "fake_iommufd.h"

#define RAM	  0x80000000ull
#define RAM_SIZE  (4ull << 20)
#define L1TAB	  (RAM + 0x10000)
#define L2TAB	  (RAM + 0x20000)
#define CDTAB	  (RAM + 0x30000)
#define CMDQ	  (RAM + 0x40000)
#define EVTQ	  (RAM + 0x80000)
#define CMDQ_LOG2 10 /* room for more than SMMU_NEST_BATCH commands */
#define EVTQ_LOG2 6

#include "smmu_guest.h"

#define IOAS	 3
#define DEV_ID	 40 /* iommufd device IDs */
#define DEV2_ID	 41
#define VSID	 0x10 /* StreamIDs the guest sees for them */
#define VSID2	 0x11
#define EMU_SID	 0x20 /* an emulated device's StreamID */
#define FIRST_ID 100  /* first object ID the fake kernel hands out */

/* Not an ioctl: a call of the device's attach callback, in the same log. */
#define FAKE_ATTACH 1ul

#define MAX_CALLS    256
#define MAX_INV_CMDS 1024

/* A host SMMU that can nest, with more than the model offers. */
#define HOST_IDR0                                                          \
	(IDR0_S1P | IDR0_S2P | IDR0_TTF_AARCH64 | IDR0_COHACC | IDR0_HYP | \
	 IDR0_ATS | IDR0_ASID16 | IDR0_MSI | IDR0_PRI | IDR0_VMID16 |      \
	 IDR0_TTENDIAN_LE | IDR0_TERM_MODEL | IDR0_ST_LEVEL_2LVL)
#define HOST_IDR1 ((8u << 21) | (8u << 16) | (20u << 6) | 32u)
#define HOST_IDR3 (IDR3_RIL | (1u << 12)) /* RIL, BBML1 */
#define HOST_IDR5                                                           \
	(IDR5_GRAN4K | IDR5_GRAN16K | IDR5_GRAN64K | (1u << 10) /* VAX */ | \
	 6u /* 52-bit OAS */)

struct fake_call {
	unsigned long req;
	union {
		struct iommu_destroy destroy;
		struct iommu_hw_info hw_info;
		struct iommu_hwpt_alloc hwpt;
		struct iommu_viommu_alloc viommu;
		struct iommu_vdevice_alloc vdevice;
		struct iommu_hwpt_invalidate inv;
		struct iommu_veventq_alloc veventq;
		struct {
			int dev; /* which fake_dev */
			uint32_t pt;
		} attach;
	};
	uint64_t ste[2];	/* HWPT_ALLOC of a nested HWPT */
	unsigned int first_cmd; /* HWPT_INVALIDATE: index in inv_cmds */
};

struct fake_kernel {
	struct fake_call calls[MAX_CALLS];
	unsigned int ncalls;
	uint32_t next_id;
	uint32_t hw_info_type;
	struct iommu_hw_info_arm_smmuv3 smmu;
	/* The @fail_nth (0-based; -1: every) call of @fail_req fails. */
	unsigned long fail_req;
	int fail_nth;
	int fail_err;
	/* Every command HWPT_INVALIDATE was given, in order. */
	uint64_t inv_cmds[MAX_INV_CMDS][2];
	unsigned int ninv_cmds;
	int event_wr; /* write end of the vEVENTQ pipe */
};

struct fake_dev {
	int idx;
	uint32_t pt;
	int attach_err;
};

static struct fake_kernel k;
static struct iommufd ifd;
static struct fake_dev fdev[2];
static struct host_ops host;
static struct smmu_nest n;

static unsigned int count_req(unsigned long req)
{
	unsigned int c = 0;

	for (unsigned int i = 0; i < k.ncalls; i++)
		c += k.calls[i].req == req;
	return c;
}

static struct fake_call *nth_call(unsigned long req, unsigned int nth)
{
	for (unsigned int i = 0; i < k.ncalls; i++)
		if (k.calls[i].req == req && nth-- == 0)
			return &k.calls[i];
	cr_assert_fail("no call 0x%lx #%u", req, nth);
	return NULL;
}

static struct fake_call *new_call(unsigned long req, int *err)
{
	unsigned int seen = count_req(req);
	struct fake_call *c;

	cr_assert_lt(k.ncalls, MAX_CALLS);
	c = &k.calls[k.ncalls++];
	memset(c, 0, sizeof(*c));
	c->req = req;
	*err = 0;
	if (k.fail_req == req && (k.fail_nth < 0 || (int)seen == k.fail_nth))
		*err = k.fail_err;
	return c;
}

static int fake_ioctl(void *opaque, int fd, unsigned long req, void *arg)
{
	struct fake_kernel *fk = opaque;
	struct fake_call *c;
	int err;

	cr_assert_eq(fk, &k);
	cr_assert_eq(fd, -1);
	c = new_call(req, &err);

	switch (req) {
	case IOMMU_DESTROY:
		c->destroy = *(struct iommu_destroy *)arg;
		fake_iommufd_check_destroy(&c->destroy);
		return err;
	case IOMMU_GET_HW_INFO: {
		struct iommu_hw_info *h = arg;

		fake_iommufd_check_hw_info(h);
		c->hw_info = *h;
		if (err)
			return err;
		fake_iommufd_hw_info_reply(h, &k.smmu, k.hw_info_type);
		return 0;
	}
	case IOMMU_HWPT_ALLOC: {
		struct iommu_hwpt_alloc *a = arg;

		fake_iommufd_check_hwpt_alloc(a);
		if (a->data_type == IOMMU_HWPT_DATA_ARM_SMMUV3) {
			cr_assert_eq(a->flags, 0);
			memcpy(c->ste, (void *)(uintptr_t)a->data_uptr,
			       sizeof(c->ste));
		} else {
			cr_assert_eq(a->data_type, IOMMU_HWPT_DATA_NONE);
			cr_assert_eq(a->data_len, 0);
			cr_assert_eq(a->data_uptr, 0);
		}
		c->hwpt = *a;
		if (err)
			return err;
		a->out_hwpt_id = k.next_id++;
		c->hwpt.out_hwpt_id = a->out_hwpt_id;
		return 0;
	}
	case IOMMU_VIOMMU_ALLOC: {
		struct iommu_viommu_alloc *v = arg;

		fake_iommufd_check_viommu_alloc(v);
		c->viommu = *v;
		if (err)
			return err;
		v->out_viommu_id = k.next_id++;
		c->viommu.out_viommu_id = v->out_viommu_id;
		return 0;
	}
	case IOMMU_VDEVICE_ALLOC: {
		struct iommu_vdevice_alloc *v = arg;

		cr_assert_eq(v->size, sizeof(*v));
		c->vdevice = *v;
		if (err)
			return err;
		v->out_vdevice_id = k.next_id++;
		c->vdevice.out_vdevice_id = v->out_vdevice_id;
		return 0;
	}
	case IOMMU_HWPT_INVALIDATE: {
		struct iommu_hwpt_invalidate *i = arg;

		fake_iommufd_check_invalidate(i);
		cr_assert_eq(i->data_type,
			     IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3);
		cr_assert_eq(i->entry_len,
			     sizeof(struct iommu_viommu_arm_smmuv3_invalidate));
		cr_assert_leq(i->entry_num, IOMMUFD_INVALIDATE_BATCH);
		c->inv = *i;
		c->first_cmd = k.ninv_cmds;
		cr_assert_leq(k.ninv_cmds + i->entry_num, MAX_INV_CMDS);
		memcpy(k.inv_cmds[k.ninv_cmds], (void *)(uintptr_t)i->data_uptr,
		       i->entry_num * sizeof(k.inv_cmds[0]));
		k.ninv_cmds += i->entry_num;
		if (err) {
			i->entry_num = 0; /* the first command failed */
			return err;
		}
		return 0;
	}
	case IOMMU_VEVENTQ_ALLOC: {
		struct iommu_veventq_alloc *q = arg;
		int p[2];

		fake_iommufd_check_veventq_alloc(q);
		c->veventq = *q;
		if (err)
			return err;
		/* A pipe stands in for the vEVENTQ file. */
		cr_assert_eq(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
		k.event_wr = p[1];
		q->out_veventq_id = k.next_id++;
		q->out_veventq_fd = p[0];
		c->veventq.out_veventq_id = q->out_veventq_id;
		c->veventq.out_veventq_fd = p[0];
		return 0;
	}
	default:
		cr_assert_fail("unexpected ioctl 0x%lx", req);
		return -ENOTTY;
	}
}

static const struct iommufd_ops fake_ops = { .ioctl = fake_ioctl };

/* The VFIO device's VFIO_DEVICE_ATTACH_IOMMUFD_PT. */
static int fake_attach(void *opaque, uint32_t pt)
{
	struct fake_dev *d = opaque;
	struct fake_call *c;
	int err;

	c = new_call(FAKE_ATTACH, &err);
	c->attach.dev = d->idx;
	c->attach.pt = pt;
	if (d->attach_err)
		return d->attach_err;
	if (err)
		return err;
	d->pt = pt;
	return 0;
}

static void fail(unsigned long req, int nth, int err)
{
	k.fail_req = req;
	k.fail_nth = nth;
	k.fail_err = err;
}

/* ---- capturing the log (stderr) ---- */

static FILE *cap_file;
static int cap_saved = -1;

static void capture_start(void)
{
	fflush(stderr);
	cap_file = tmpfile();
	cr_assert_not_null(cap_file);
	cap_saved = dup(2);
	cr_assert_geq(cap_saved, 0);
	cr_assert_geq(dup2(fileno(cap_file), 2), 0);
}

/* Stop capturing; how many log lines contain @needle (all with ""). */
static unsigned int capture_lines(const char *needle)
{
	char line[2048];
	unsigned int c = 0;

	fflush(stderr);
	dup2(cap_saved, 2);
	close(cap_saved);
	cap_saved = -1;
	rewind(cap_file);
	while (fgets(line, sizeof(line), cap_file))
		c += strstr(line, needle) != NULL;
	fclose(cap_file);
	cap_file = NULL;
	return c;
}

/* ---- the emulated SMMU, driven like Linux's arm-smmu-v3 ---- */

static void host_info(struct iommufd_smmuv3_info *h)
{
	*h = (struct iommufd_smmuv3_info){
		.idr = { HOST_IDR0, HOST_IDR1, 0, HOST_IDR3, 0, HOST_IDR5 },
		.iidr = 0x43b,
		.aidr = 2,
	};
}

static void setup(void)
{
	struct iommufd_smmuv3_info h;
	struct smmuv3_params p = { .mem = &mem, .host = &host };

	memset(&k, 0, sizeof(k));
	k.next_id = FIRST_ID;
	k.event_wr = -1;
	k.hw_info_type = IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
	iommufd_init_fake(&ifd, &fake_ops, &k);
	fdev[0] = (struct fake_dev){ .idx = 0 };
	fdev[1] = (struct fake_dev){ .idx = 1 };
	memset(&n, 0, sizeof(n));
	n.veventq_fd = -1;

	cr_assert_eq(gmem_alloc(&mem, RAM, RAM_SIZE), 0);
	host = (struct host_ops){ 0 };
	host_info(&h);
	smmuv3_model_idr(p.idr, &p.iidr, &p.aidr);
	smmu_nest_guest_idr(&h, p.idr);
	cr_assert_eq(smmuv3_init(&smmu, &p), 0);
	cmd_prod = 0;
}

static void teardown(void)
{
	smmuv3_set_backend(&smmu, NULL);
	smmu_nest_destroy(&n);
	if (k.event_wr >= 0)
		close(k.event_wr);
	smmuv3_destroy(&smmu);
	gmem_free(&mem);
	iommufd_close(&ifd);
}

TestSuite(smmu_nest, .init = setup, .fini = teardown);

static struct smmu_nest_dev dev(int i)
{
	return (struct smmu_nest_dev){
		.dev_id = i ? DEV2_ID : DEV_ID,
		.vsid = i ? VSID2 : VSID,
		.attach = fake_attach,
		.opaque = &fdev[i],
		.name = i ? "0000:01:00.1" : "0000:01:00.0",
	};
}

static int init(char *err, size_t errlen)
{
	struct iommufd_smmuv3_info h;
	struct smmu_nest_dev d = dev(0);

	host_info(&h);
	return smmu_nest_init(&n, &ifd, &smmu, IOAS, &h, &d, err, errlen);
}

/* smmu_nest up and plugged into the SMMU; the call log starts empty. */
static void nest_up(void)
{
	char err[256] = "";

	cr_assert_eq(init(err, sizeof(err)), 0, "%s", err);
	smmuv3_set_backend(&smmu, &n.backend);
	cr_assert_eq(fdev[0].pt, n.bypass_hwpt);
	k.ncalls = 0;
}

/* No interrupts: the tests read the event queue themselves. */
static void enable(void)
{
	smmu_guest_enable(NULL);
}

/* Hand the queued commands over: one write of CMDQ_PROD. */
static void doorbell(void)
{
	w32(SMMU_CMDQ_PROD, cmd_prod);
	cr_assert_eq(r32(SMMU_CMDQ_CONS), cmd_prod, "every command consumed");
	cr_assert_eq(r32(SMMU_GERROR) & GERROR_CMDQ_ERR, 0);
}

/* Write the STE of @sid and invalidate it, like arm_smmu_write_ste(). */
static void set_ste(uint32_t sid, uint64_t w0, uint64_t w1)
{
	memset(ste(sid), 0, 64);
	ste(sid)[0] = w0;
	ste(sid)[1] = w1;
	put_cmd(CMD_CFGI_STE | (uint64_t)sid << 32, 1);
	put_cmd(CMD_SYNC, 0);
	doorbell();
}

/* Linux's stage-1 STE (arm_smmu_make_cdtable_ste()): CD table at @cd. */
#define S1_W1                                                          \
	((1ull << 2) /* S1CIR WBRA */ | (1ull << 4) /* S1COR WBRA */ | \
	 (3ull << 6) /* S1CSH ISH */ | (1ull << 44) /* SHCFG incoming */)
#define S1_W1_GUEST 0xd4ull /* what of S1_W1 the guest may choose */

static uint64_t s1_w0(uint64_t cd)
{
	return 1 | (uint64_t)STE_CFG_S1 << 1 | cd;
}

static unsigned int attaches(void)
{
	return count_req(FAKE_ATTACH);
}

/* ---- smmu_nest_probe() ---- */

static int probe(uint32_t idr0, uint32_t idr5, char *err, size_t errlen,
		 struct iommufd_smmuv3_info *info)
{
	k.smmu.idr[0] = idr0;
	k.smmu.idr[1] = HOST_IDR1;
	k.smmu.idr[3] = HOST_IDR3;
	k.smmu.idr[5] = idr5;
	k.smmu.iidr = 0x43b;
	k.smmu.aidr = 2;
	return smmu_nest_probe(&ifd, DEV_ID, "0000:01:00.0", info, err, errlen);
}

/* One line, naming the device and containing @why. */
static void expect_one_line(const char *err, const char *why)
{
	cr_assert_gt(strlen(err), 0);
	cr_assert_null(strchr(err, '\n'), "one line: %s", err);
	cr_assert_not_null(strstr(err, why), "'%s' in: %s", why, err);
}

Test(smmu_nest, probe_accepts_an_smmuv3_with_both_stages)
{
	struct iommufd_smmuv3_info info;
	char err[256] = "";

	cr_assert_eq(probe(HOST_IDR0, HOST_IDR5, err, sizeof(err), &info), 0);
	cr_assert_str_empty(err);
	cr_assert_eq(nth_call(IOMMU_GET_HW_INFO, 0)->hw_info.dev_id, DEV_ID);
	cr_assert_eq(info.idr[0], HOST_IDR0);
	cr_assert_eq(info.idr[1], HOST_IDR1);
	cr_assert_eq(info.idr[3], HOST_IDR3);
	cr_assert_eq(info.idr[5], HOST_IDR5);
	cr_assert_eq(info.iidr, 0x43b);
	cr_assert_eq(info.aidr, 2);
	/* TTF 0b11: AArch32 and AArch64 tables will do. */
	cr_assert_eq(probe(HOST_IDR0 | (3u << IDR0_TTF_SHIFT), HOST_IDR5, err,
			   sizeof(err), &info),
		     0);
	/* 4K alone is enough. */
	cr_assert_eq(probe(HOST_IDR0, IDR5_GRAN4K | 5, err, sizeof(err), &info),
		     0);
}

Test(smmu_nest, probe_refuses_an_iommu_that_is_not_an_smmuv3)
{
	struct iommufd_smmuv3_info info;
	char err[256] = "";

	k.hw_info_type = IOMMU_HW_INFO_TYPE_INTEL_VTD;
	cr_assert_eq(probe(HOST_IDR0, HOST_IDR5, err, sizeof(err), &info),
		     -EOPNOTSUPP);
	expect_one_line(err, "not an SMMUv3");
	expect_one_line(err, "0000:01:00.0");
	expect_one_line(err, "type 1");
}

Test(smmu_nest, probe_refuses_an_smmu_without_stage_2)
{
	struct iommufd_smmuv3_info info;
	char err[256] = "";

	cr_assert_eq(probe(HOST_IDR0 & ~IDR0_S2P, HOST_IDR5, err, sizeof(err),
			   &info),
		     -EOPNOTSUPP);
	expect_one_line(err, "stage 2");
	expect_one_line(err, "0000:01:00.0");
}

Test(smmu_nest, probe_refuses_an_smmu_without_stage_1)
{
	struct iommufd_smmuv3_info info;
	char err[256] = "";

	cr_assert_eq(probe(HOST_IDR0 & ~IDR0_S1P, HOST_IDR5, err, sizeof(err),
			   &info),
		     -EOPNOTSUPP);
	expect_one_line(err, "stage 1");
}

Test(smmu_nest, probe_refuses_an_smmu_without_aarch64_tables)
{
	struct iommufd_smmuv3_info info;
	char err[256] = "";
	uint32_t aarch32_only =
		(HOST_IDR0 & ~(3u << IDR0_TTF_SHIFT)) | (1u << IDR0_TTF_SHIFT);

	cr_assert_eq(probe(aarch32_only, HOST_IDR5, err, sizeof(err), &info),
		     -EOPNOTSUPP);
	expect_one_line(err, "AArch64");
}

Test(smmu_nest, probe_refuses_an_smmu_without_4k_granule)
{
	struct iommufd_smmuv3_info info;
	char err[256] = "";

	cr_assert_eq(probe(HOST_IDR0, HOST_IDR5 & ~IDR5_GRAN4K, err,
			   sizeof(err), &info),
		     -EOPNOTSUPP);
	expect_one_line(err, "4 KiB");
}

Test(smmu_nest, probe_reports_get_hw_info_failing)
{
	struct iommufd_smmuv3_info info;
	char err[256] = "";

	fail(IOMMU_GET_HW_INFO, 0, -ENOTTY);
	cr_assert_eq(probe(HOST_IDR0, HOST_IDR5, err, sizeof(err), &info),
		     -ENOTTY);
	expect_one_line(err, "IOMMU_GET_HW_INFO");
	expect_one_line(err, "0000:01:00.0");
}

/* ---- smmu_nest_guest_idr() ---- */

static void guest_idr(const uint32_t host_idr[6], uint32_t idr[6])
{
	struct iommufd_smmuv3_info h = { 0 };
	uint32_t iidr, aidr;

	memcpy(h.idr, host_idr, sizeof(h.idr));
	smmuv3_model_idr(idr, &iidr, &aidr);
	smmu_nest_guest_idr(&h, idr);
}

/* Nothing the model lacks; OAS (a number, not a bit set) no larger. */
static void expect_within_model(const uint32_t idr[6])
{
	uint32_t model[6], iidr, aidr;

	smmuv3_model_idr(model, &iidr, &aidr);
	for (int i = 0; i < 6; i++) {
		uint32_t bits = i == 5 ? ~7u : ~0u;

		cr_assert_eq(idr[i] & bits & ~model[i], 0, "IDR%d gains 0x%x",
			     i, idr[i] & bits & ~model[i]);
	}
	cr_assert_leq(IDR5_OAS(idr[5]), IDR5_OAS(model[5]));
}

Test(smmu_nest, guest_idr_of_a_rich_host_is_the_model)
{
	const uint32_t h[6] = { HOST_IDR0, HOST_IDR1, 0x3,
				HOST_IDR3, 0xff,      HOST_IDR5 };
	uint32_t idr[6], model[6], iidr, aidr;

	guest_idr(h, idr);
	smmuv3_model_idr(model, &iidr, &aidr);
	for (int i = 0; i < 6; i++)
		cr_assert_eq(idr[i], model[i], "IDR%d 0x%x, model 0x%x", i,
			     idr[i], model[i]);
	expect_within_model(idr);
}

Test(smmu_nest, guest_idr_never_gains_what_the_model_lacks)
{
	const uint32_t h[6] = { ~0u, ~0u, ~0u, ~0u, ~0u, ~0u };
	uint32_t idr[6];

	guest_idr(h, idr);
	expect_within_model(idr);
	cr_assert_not(idr[0] & IDR0_S2P);
	cr_assert_not(idr[0] & IDR0_ATS);
	cr_assert_not(idr[0] & IDR0_PRI);
	cr_assert_not(idr[0] & IDR0_HYP);
	cr_assert_eq(IDR1_SSIDSIZE(idr[1]), 0, "no substreams");
}

Test(smmu_nest, guest_idr_drops_what_the_host_lacks)
{
	const uint32_t h[6] = {
		HOST_IDR0 & ~(IDR0_ASID16 | IDR0_COHACC),
		HOST_IDR1,
		0,
		0, /* no RIL */
		0,
		IDR5_GRAN4K | IDR5_GRAN64K | 4 /* 44 bits */,
	};
	uint32_t idr[6], model[6], iidr, aidr;

	guest_idr(h, idr);
	smmuv3_model_idr(model, &iidr, &aidr);
	cr_assert_not(idr[0] & IDR0_ASID16);
	cr_assert_not(idr[0] & IDR0_COHACC);
	cr_assert_eq(idr[0] | IDR0_ASID16 | IDR0_COHACC, model[0],
		     "nothing else of IDR0 changes");
	cr_assert_not(idr[3] & IDR3_RIL);
	cr_assert(idr[5] & IDR5_GRAN4K);
	cr_assert_not(idr[5] & IDR5_GRAN16K);
	cr_assert(idr[5] & IDR5_GRAN64K);
	cr_assert_eq(IDR5_OAS(idr[5]), 4, "the host's 44-bit OAS");
	cr_assert_eq(idr[1], model[1]);
	expect_within_model(idr);
}

Test(smmu_nest, guest_idr_keeps_each_host_feature_alone)
{
	/* Each feature present on the host alone keeps it in the guest. */
	const uint32_t h[6] = { IDR0_ASID16, 0, 0, 0, 0, IDR5_GRAN16K | 6 };
	uint32_t idr[6];

	guest_idr(h, idr);
	cr_assert(idr[0] & IDR0_ASID16);
	cr_assert_not(idr[0] & IDR0_COHACC);
	cr_assert_not(idr[3] & IDR3_RIL);
	cr_assert_eq(idr[5] & (IDR5_GRAN4K | IDR5_GRAN16K | IDR5_GRAN64K),
		     IDR5_GRAN16K);
	cr_assert_eq(IDR5_OAS(idr[5]), 5, "a 52-bit host: the model's 48");
}

/* ---- smmu_nest_init() ---- */

Test(smmu_nest, init_builds_the_nesting_objects_in_order)
{
	char err[256] = "";
	struct fake_call *c;

	cr_assert_eq(init(err, sizeof(err)), 0, "%s", err);
	cr_assert_str_empty(err);
	cr_assert_eq(k.ncalls, 8);

	c = &k.calls[0]; /* the nesting parent, on the IOAS */
	cr_assert_eq(c->req, IOMMU_HWPT_ALLOC);
	cr_assert_eq(c->hwpt.flags, IOMMU_HWPT_ALLOC_NEST_PARENT);
	cr_assert_eq(c->hwpt.dev_id, DEV_ID);
	cr_assert_eq(c->hwpt.pt_id, IOAS);
	cr_assert_eq(c->hwpt.data_type, IOMMU_HWPT_DATA_NONE);
	cr_assert_eq(n.parent_hwpt, c->hwpt.out_hwpt_id);

	c = &k.calls[1]; /* the device on it, before the vIOMMU */
	cr_assert_eq(c->req, FAKE_ATTACH);
	cr_assert_eq(c->attach.pt, n.parent_hwpt);

	c = &k.calls[2];
	cr_assert_eq(c->req, IOMMU_VIOMMU_ALLOC);
	cr_assert_eq(c->viommu.type, IOMMU_VIOMMU_TYPE_ARM_SMMUV3);
	cr_assert_eq(c->viommu.dev_id, DEV_ID);
	cr_assert_eq(c->viommu.hwpt_id, n.parent_hwpt);
	cr_assert_eq(n.viommu_id, c->viommu.out_viommu_id);

	c = &k.calls[3]; /* abort: V, Config 0b000 */
	cr_assert_eq(c->req, IOMMU_HWPT_ALLOC);
	cr_assert_eq(c->hwpt.pt_id, n.viommu_id);
	cr_assert_eq(c->hwpt.dev_id, DEV_ID);
	cr_assert_eq(c->hwpt.data_type, IOMMU_HWPT_DATA_ARM_SMMUV3);
	cr_assert_eq(c->ste[0], 0x1);
	cr_assert_eq(c->ste[1], 0);
	cr_assert_eq(n.abort_hwpt, c->hwpt.out_hwpt_id);

	c = &k.calls[4]; /* bypass: V, Config 0b100 */
	cr_assert_eq(c->req, IOMMU_HWPT_ALLOC);
	cr_assert_eq(c->hwpt.pt_id, n.viommu_id);
	cr_assert_eq(c->hwpt.data_type, IOMMU_HWPT_DATA_ARM_SMMUV3);
	cr_assert_eq(c->ste[0], 0x9);
	cr_assert_eq(c->ste[1], 0);
	cr_assert_eq(n.bypass_hwpt, c->hwpt.out_hwpt_id);
	cr_assert_neq(n.bypass_hwpt, n.abort_hwpt);

	c = &k.calls[5];
	cr_assert_eq(c->req, IOMMU_VEVENTQ_ALLOC);
	cr_assert_eq(c->veventq.viommu_id, n.viommu_id);
	cr_assert_eq(c->veventq.type, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3);
	cr_assert_eq(c->veventq.veventq_depth, SMMU_NEST_EVQ_DEPTH);
	cr_assert_eq(n.veventq_id, c->veventq.out_veventq_id);
	cr_assert_eq(n.veventq_fd, (int)c->veventq.out_veventq_fd);

	c = &k.calls[6];
	cr_assert_eq(c->req, IOMMU_VDEVICE_ALLOC);
	cr_assert_eq(c->vdevice.viommu_id, n.viommu_id);
	cr_assert_eq(c->vdevice.dev_id, DEV_ID);
	cr_assert_eq(c->vdevice.virt_id, VSID);
	cr_assert_eq(n.devs[0].vdevice_id, c->vdevice.out_vdevice_id);

	c = &k.calls[7]; /* SMMU off, GBPA.ABORT clear: DMA goes through */
	cr_assert_eq(c->req, FAKE_ATTACH);
	cr_assert_eq(c->attach.pt, n.bypass_hwpt);
	cr_assert_eq(n.nr_devs, 1);
	cr_assert_eq(n.devs[0].hwpt, n.bypass_hwpt);
	cr_assert_eq(fdev[0].pt, n.bypass_hwpt);
	cr_assert_eq(n.backend.opaque, &n);
}

Test(smmu_nest, add_puts_a_second_endpoint_on_the_same_viommu)
{
	char err[256] = "";
	struct smmu_nest_dev d = dev(1);
	struct fake_call *c;

	nest_up();
	cr_assert_eq(smmu_nest_add(&n, &d, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(k.ncalls, 3);
	cr_assert_eq(k.calls[0].req, FAKE_ATTACH);
	cr_assert_eq(k.calls[0].attach.dev, 1);
	cr_assert_eq(k.calls[0].attach.pt, n.parent_hwpt);
	c = &k.calls[1];
	cr_assert_eq(c->req, IOMMU_VDEVICE_ALLOC);
	cr_assert_eq(c->vdevice.viommu_id, n.viommu_id);
	cr_assert_eq(c->vdevice.dev_id, DEV2_ID);
	cr_assert_eq(c->vdevice.virt_id, VSID2);
	cr_assert_eq(k.calls[2].req, FAKE_ATTACH);
	cr_assert_eq(k.calls[2].attach.pt, n.bypass_hwpt);
	cr_assert_eq(n.nr_devs, 2);
	cr_assert_eq(fdev[1].pt, n.bypass_hwpt);
}

/* Step @req #@nth (or the attach callback) fails with @e. */
static void expect_init_error(unsigned long req, int nth, int e,
			      const char *why)
{
	char err[256] = "";

	fail(req, nth, e);
	cr_assert_eq(init(err, sizeof(err)), e, "%s", err);
	expect_one_line(err, why);
	expect_one_line(err, "0000:01:00.0");
	expect_one_line(err, strerror(-e));
	smmu_nest_destroy(&n); /* after a failed init: no crash */
}

Test(smmu_nest, init_fails_at_the_nesting_parent)
{
	expect_init_error(IOMMU_HWPT_ALLOC, 0, -ENOMEM, "nesting parent");
	cr_assert_eq(k.ncalls, 1);
}

Test(smmu_nest, init_fails_attaching_to_the_nesting_parent)
{
	expect_init_error(FAKE_ATTACH, 0, -EBUSY, "nesting parent");
	cr_assert_eq(count_req(IOMMU_VIOMMU_ALLOC), 0);
}

Test(smmu_nest, init_fails_at_viommu_alloc_naming_s2fwb)
{
	expect_init_error(IOMMU_VIOMMU_ALLOC, 0, -EOPNOTSUPP, "S2FWB");
}

Test(smmu_nest, viommu_alloc_eopnotsupp_mentions_canwbs)
{
	char err[256] = "";

	fail(IOMMU_VIOMMU_ALLOC, 0, -EOPNOTSUPP);
	cr_assert_eq(init(err, sizeof(err)), -EOPNOTSUPP);
	expect_one_line(err, "IOMMU_VIOMMU_ALLOC");
	expect_one_line(err, "CANWBS");
	cr_assert_eq(count_req(IOMMU_HWPT_ALLOC), 1, "nothing after it");
}

Test(smmu_nest, viommu_alloc_other_error_has_no_s2fwb_hint)
{
	char err[256] = "";

	fail(IOMMU_VIOMMU_ALLOC, 0, -ENOMEM);
	cr_assert_eq(init(err, sizeof(err)), -ENOMEM);
	expect_one_line(err, "IOMMU_VIOMMU_ALLOC");
	cr_assert_null(strstr(err, "S2FWB"), "%s", err);
}

Test(smmu_nest, init_fails_at_the_abort_hwpt)
{
	expect_init_error(IOMMU_HWPT_ALLOC, 1, -EIO, "abort");
}

Test(smmu_nest, init_fails_at_the_bypass_hwpt)
{
	expect_init_error(IOMMU_HWPT_ALLOC, 2, -EIO, "bypass");
	cr_assert_eq(count_req(IOMMU_VEVENTQ_ALLOC), 0);
}

Test(smmu_nest, init_fails_at_vdevice_alloc)
{
	expect_init_error(IOMMU_VDEVICE_ALLOC, 0, -EEXIST,
			  "IOMMU_VDEVICE_ALLOC");
	cr_assert_eq(n.nr_devs, 0);
}

Test(smmu_nest, init_fails_attaching_to_bypass)
{
	char err[256] = "";

	fail(FAKE_ATTACH, 1, -EINVAL);
	capture_start();
	cr_assert_eq(init(err, sizeof(err)), -EIO);
	capture_lines("");
	expect_one_line(err, "0000:01:00.0");
	expect_one_line(err, "nested HWPT");
	smmu_nest_destroy(&n);
}

Test(smmu_nest, missing_veventq_is_only_a_warning)
{
	char err[256] = "";

	fail(IOMMU_VEVENTQ_ALLOC, 0, -ENOTTY);
	capture_start();
	cr_assert_eq(init(err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(capture_lines("warning: smmuv3 nesting: no vEVENTQ"), 1);
	cr_assert_str_empty(err);
	cr_assert_eq(n.veventq_fd, -1);
	cr_assert_eq(count_req(IOMMU_VDEVICE_ALLOC), 1);
	cr_assert_eq(fdev[0].pt, n.bypass_hwpt);
	smmu_nest_read_events(&n); /* nothing to read, nothing breaks */
	cr_assert_eq(n.stats.host_events, 0);
}

/* ---- STE changes, through the emulated SMMU ---- */

Test(smmu_nest, gbpa_abort_blocks_the_device_while_the_smmu_is_off)
{
	nest_up();
	w32(SMMU_GBPA, GBPA_ABORT | GBPA_UPDATE);
	cr_assert_eq(fdev[0].pt, n.abort_hwpt);
	w32(SMMU_GBPA, GBPA_UPDATE);
	cr_assert_eq(fdev[0].pt, n.bypass_hwpt);
	cr_assert_eq(count_req(IOMMU_HWPT_ALLOC), 0);
}

Test(smmu_nest, enabling_with_an_invalid_ste_aborts_without_an_event)
{
	nest_up();
	enable(); /* the STE of VSID is still zero: V = 0 */
	cr_assert_eq(fdev[0].pt, n.abort_hwpt);
	cr_assert_eq(n.devs[0].hwpt, n.abort_hwpt);
	cr_assert_eq(events(), 0);
	cr_assert_eq(attaches(), 1);
}

Test(smmu_nest, cfgi_ste_reattaches_abort_bypass_and_stage1)
{
	struct fake_call *c;

	nest_up();
	enable();
	set_ste(VSID, 1 | STE_CFG_BYPASS << 1, 0);
	cr_assert_eq(fdev[0].pt, n.bypass_hwpt);
	set_ste(VSID, 1 | STE_CFG_ABORT << 1, 0);
	cr_assert_eq(fdev[0].pt, n.abort_hwpt);
	cr_assert_eq(count_req(IOMMU_HWPT_ALLOC), 0, "both preallocated");

	/* Stage 1: the guest's fields of words 0-1 go to the host. */
	set_ste(VSID, s1_w0(CDTAB), S1_W1);
	cr_assert_eq(count_req(IOMMU_HWPT_ALLOC), 1);
	c = nth_call(IOMMU_HWPT_ALLOC, 0);
	cr_assert_eq(c->hwpt.pt_id, n.viommu_id);
	cr_assert_eq(c->hwpt.dev_id, DEV_ID);
	cr_assert_eq(c->hwpt.data_type, IOMMU_HWPT_DATA_ARM_SMMUV3);
	cr_assert_eq(c->ste[0], s1_w0(CDTAB));
	cr_assert_eq(c->ste[1], S1_W1_GUEST, "SHCFG is the host's: 0x%llx",
		     (unsigned long long)c->ste[1]);
	cr_assert_eq(fdev[0].pt, c->hwpt.out_hwpt_id);
	cr_assert_eq(n.devs[0].hwpt, c->hwpt.out_hwpt_id);
	cr_assert_eq(events(), 0);

	/* Disabling the SMMU: GBPA (bypass) again. */
	w32(SMMU_CR0, CR0_CMDQEN | CR0_EVTQEN);
	cr_assert_eq(fdev[0].pt, n.bypass_hwpt);
}

/* Linux's arm_smmu_device_reset() ends with CFGI_ALL (range 31). */
Test(smmu_nest, cfgi_all_reattaches_the_assigned_streams)
{
	nest_up();
	enable();
	cr_assert_eq(fdev[0].pt, n.abort_hwpt);
	ste(VSID)[0] = 1 | STE_CFG_BYPASS << 1; /* no CFGI_STE for it */
	put_cmd(CMD_CFGI_STE_RANGE, 31);
	put_cmd(CMD_SYNC, 0);
	doorbell();
	cr_assert_eq(fdev[0].pt, n.bypass_hwpt);
	/* A range that does not cover the StreamID leaves it alone. */
	ste(VSID)[0] = 1 | STE_CFG_ABORT << 1;
	put_cmd(CMD_CFGI_STE_RANGE | (uint64_t)EMU_SID << 32, 3);
	put_cmd(CMD_SYNC, 0);
	doorbell();
	cr_assert_eq(fdev[0].pt, n.bypass_hwpt);
}

Test(smmu_nest, cfgi_ste_of_an_emulated_stream_is_not_seen)
{
	nest_up();
	enable();
	set_ste(VSID, 1 | STE_CFG_BYPASS << 1, 0);
	k.ncalls = 0;
	set_ste(EMU_SID, s1_w0(CDTAB), S1_W1);
	set_ste(EMU_SID, 0x3 << 1 | 1, 0); /* even a malformed one */
	cr_assert_eq(k.ncalls, 0);
	cr_assert_eq(fdev[0].pt, n.bypass_hwpt);
}

Test(smmu_nest, the_same_stage1_ste_reuses_its_nested_hwpt)
{
	uint32_t hwpt;

	nest_up();
	enable();
	set_ste(VSID, s1_w0(CDTAB), S1_W1);
	hwpt = fdev[0].pt;
	set_ste(VSID, s1_w0(CDTAB), S1_W1);
	cr_assert_eq(fdev[0].pt, hwpt);
	set_ste(VSID, 1 | STE_CFG_BYPASS << 1, 0);
	cr_assert_eq(fdev[0].pt, n.bypass_hwpt);
	set_ste(VSID, s1_w0(CDTAB), S1_W1);
	cr_assert_eq(fdev[0].pt, hwpt);
	cr_assert_eq(count_req(IOMMU_HWPT_ALLOC), 1);
	cr_assert_eq(count_req(IOMMU_DESTROY), 0);
	/* abort (enable), S1, bypass, S1: the repeat attached nothing */
	cr_assert_eq(attaches(), 4);
	cr_assert_eq(n.stats.hwpt_allocs, 1);
}

/* A malformed STE: abort, and C_BAD_STE for the guest. */
static void expect_bad_ste(uint64_t w0, uint64_t w1, const char *what)
{
	unsigned int before = events();

	set_ste(VSID, 1 | STE_CFG_BYPASS << 1, 0);
	cr_assert_eq(fdev[0].pt, n.bypass_hwpt);
	set_ste(VSID, w0, w1);
	cr_assert_eq(fdev[0].pt, n.abort_hwpt, "%s", what);
	cr_assert_eq(events(), before + 1, "%s", what);
	cr_assert_eq(event(before)[0] & 0xff, EVT_C_BAD_STE, "%s", what);
	cr_assert_eq(event(before)[0] >> 32, VSID, "%s", what);
}

Test(smmu_nest, malformed_stes_abort_and_report_c_bad_ste)
{
	nest_up();
	enable();
	capture_start();
	expect_bad_ste(1 | 1 << 1, 0, "reserved Config 0b001");
	expect_bad_ste(1 | 6 << 1, 0, "stage 2 without S2P");
	expect_bad_ste(1 | 7 << 1 | CDTAB, 0, "nested without S2P");
	expect_bad_ste(s1_w0(CDTAB) | 1ull << 59, S1_W1, "S1CDMax 1");
	expect_bad_ste(s1_w0(CDTAB), S1_W1 | 2ull << 30, "STRW EL2");
	expect_bad_ste(s1_w0(CDTAB), S1_W1 | 1ull << 30, "STRW reserved");
	expect_bad_ste(s1_w0(1ull << 50), S1_W1, "CD beyond the OAS");
	capture_lines("");
	cr_assert_eq(count_req(IOMMU_HWPT_ALLOC), 0, "none reached the host");

	/* V = 0 is how Linux rewrites an STE: abort, no event. */
	set_ste(VSID, 1 | STE_CFG_BYPASS << 1, 0);
	w32(SMMU_EVENTQ_CONS, r32(SMMU_EVENTQ_PROD));
	set_ste(VSID, s1_w0(CDTAB) & ~1ull, S1_W1);
	cr_assert_eq(fdev[0].pt, n.abort_hwpt);
	cr_assert_eq(events(), 0);
}

Test(smmu_nest, host_refusing_a_nested_hwpt_attaches_abort)
{
	nest_up();
	enable();
	set_ste(VSID, 1 | STE_CFG_BYPASS << 1, 0);
	fail(IOMMU_HWPT_ALLOC, -1, -EIO);
	capture_start();
	set_ste(VSID, s1_w0(CDTAB), S1_W1);
	set_ste(VSID, s1_w0(CDTAB + 64), S1_W1);
	cr_assert_eq(capture_lines("refused the guest's STE"), 1,
		     "logged once");
	cr_assert_eq(fdev[0].pt, n.abort_hwpt);
	cr_assert_eq(count_req(IOMMU_HWPT_ALLOC), 2);
	cr_assert_eq(events(), 2);
	cr_assert_eq(event(0)[0] & 0xff, EVT_C_BAD_STE);
	cr_assert_eq(event(0)[0] >> 32, VSID);
	/* Nothing was cached: once the host accepts, it is allocated. */
	fail(0, 0, 0);
	set_ste(VSID, s1_w0(CDTAB), S1_W1);
	cr_assert_eq(count_req(IOMMU_HWPT_ALLOC), 3);
	cr_assert_eq(fdev[0].pt,
		     nth_call(IOMMU_HWPT_ALLOC, 2)->hwpt.out_hwpt_id);
}

Test(smmu_nest, failing_attach_keeps_the_old_hwpt_and_logs_once)
{
	nest_up();
	enable();
	set_ste(VSID, 1 | STE_CFG_BYPASS << 1, 0);
	fdev[0].attach_err = -EBUSY;
	capture_start();
	set_ste(VSID, 1 | STE_CFG_ABORT << 1, 0);
	set_ste(VSID, s1_w0(CDTAB), S1_W1);
	cr_assert_eq(capture_lines("attaching HWPT"), 1);
	cr_assert_eq(n.devs[0].hwpt, n.bypass_hwpt);
	fdev[0].attach_err = 0;
	set_ste(VSID, 1 | STE_CFG_ABORT << 1, 0);
	cr_assert_eq(n.devs[0].hwpt, n.abort_hwpt);
}

/* The nested HWPT the cache holds for the STE with CD pointer @cd. */
static uint32_t cached(uint64_t cd)
{
	for (unsigned int i = 0; i < SMMU_NEST_S1_CACHE; i++)
		if (n.s1[i].used && n.s1[i].ste[0] == s1_w0(cd))
			return n.s1[i].hwpt;
	return 0;
}

static bool destroyed(uint32_t id)
{
	for (unsigned int i = 0; i < k.ncalls; i++)
		if (k.calls[i].req == IOMMU_DESTROY &&
		    k.calls[i].destroy.id == id)
			return true;
	return false;
}

#define CD(i) (CDTAB + (i)*64ull)

Test(smmu_nest, more_stage1_stes_than_the_cache_evict_the_oldest)
{
	uint32_t first, second, third, fourth;

	nest_up();
	enable();
	for (unsigned int i = 0; i < SMMU_NEST_S1_CACHE; i++)
		set_ste(VSID, s1_w0(CD(i)), S1_W1);
	cr_assert_eq(count_req(IOMMU_HWPT_ALLOC), SMMU_NEST_S1_CACHE);
	cr_assert_eq(count_req(IOMMU_DESTROY), 0);
	first = cached(CD(0));
	second = cached(CD(1));
	third = cached(CD(2));
	fourth = cached(CD(3));
	cr_assert(first && second && third && fourth);

	/* Using #0 again makes #1 the least recently used. */
	set_ste(VSID, s1_w0(CD(0)), S1_W1);
	cr_assert_eq(fdev[0].pt, first);
	set_ste(VSID, s1_w0(CD(100)), S1_W1);
	cr_assert_eq(count_req(IOMMU_HWPT_ALLOC), SMMU_NEST_S1_CACHE + 1);
	cr_assert_eq(count_req(IOMMU_DESTROY), 1);
	cr_assert(destroyed(second));
	cr_assert_eq(cached(CD(1)), 0);
	cr_assert_eq(cached(CD(0)), first);

	set_ste(VSID, s1_w0(CD(101)), S1_W1);
	cr_assert(destroyed(third));
	/* #1 comes back as a new HWPT, in place of #3. */
	set_ste(VSID, s1_w0(CD(1)), S1_W1);
	cr_assert_eq(count_req(IOMMU_HWPT_ALLOC), SMMU_NEST_S1_CACHE + 3);
	cr_assert(destroyed(fourth));
	cr_assert_neq(fdev[0].pt, second);
	cr_assert_eq(fdev[0].pt, cached(CD(1)));
	cr_assert_eq(n.stats.hwpt_frees, 3);
	cr_assert_eq(events(), 0);
}

Test(smmu_nest, an_attached_nested_hwpt_is_never_evicted)
{
	char err[256] = "";
	struct smmu_nest_dev d = dev(1);
	uint32_t pinned;

	nest_up();
	cr_assert_eq(smmu_nest_add(&n, &d, err, sizeof(err)), 0, "%s", err);
	enable();
	/* The second endpoint holds the oldest entry. */
	set_ste(VSID2, s1_w0(CD(0)), S1_W1);
	pinned = fdev[1].pt;
	cr_assert_eq(pinned, cached(CD(0)));
	for (unsigned int i = 1; i < 3 * SMMU_NEST_S1_CACHE; i++) {
		set_ste(VSID, s1_w0(CD(i)), S1_W1);
		cr_assert_eq(fdev[0].pt, cached(CD(i)));
		cr_assert_eq(cached(CD(0)), pinned, "round %u", i);
	}
	cr_assert_not(destroyed(pinned));
	cr_assert_eq(fdev[1].pt, pinned);
	for (unsigned int i = 0; i < k.ncalls; i++)
		if (k.calls[i].req == IOMMU_DESTROY)
			cr_assert_neq(k.calls[i].destroy.id, fdev[0].pt,
				      "the attached one");
}

/* ---- invalidation ---- */

/* The commands of HWPT_INVALIDATE #@nth. */
static void expect_invalidate(unsigned int nth, const uint64_t (*cmds)[2],
			      unsigned int nr)
{
	struct fake_call *c = nth_call(IOMMU_HWPT_INVALIDATE, nth);

	cr_assert_eq(c->inv.hwpt_id, n.viommu_id);
	cr_assert_eq(c->inv.entry_num, nr);
	for (unsigned int i = 0; i < nr; i++) {
		cr_assert_eq(k.inv_cmds[c->first_cmd + i][0], cmds[i][0],
			     "command %u", i);
		cr_assert_eq(k.inv_cmds[c->first_cmd + i][1], cmds[i][1],
			     "command %u", i);
	}
}

Test(smmu_nest, tlbis_go_to_the_host_in_one_ioctl_per_sync)
{
	const uint64_t tlbi[][2] = {
		{ CMD_TLBI_NH_VA | 5ull << 48, 0x200000 | 1ull << 10 | 1 },
		{ CMD_TLBI_NH_ASID | 5ull << 48, 0 },
		{ CMD_TLBI_NH_VAA, 0x7000 | 1ull << 10 },
		{ CMD_TLBI_NH_ALL, 0 },
		{ CMD_TLBI_NSNH_ALL, 0 },
	};

	nest_up();
	enable();
	set_ste(VSID, s1_w0(CDTAB), S1_W1);
	k.ncalls = 0;
	for (unsigned int i = 0; i < 5; i++)
		put_cmd(tlbi[i][0], tlbi[i][1]);
	put_cmd(CMD_SYNC, 0);
	doorbell();
	cr_assert_eq(count_req(IOMMU_HWPT_INVALIDATE), 1);
	expect_invalidate(0, tlbi, 5);
	cr_assert_eq(n.stats.commands, 5);
	cr_assert_eq(n.stats.invalidate_ioctls, 1);

	/* Two syncs in one doorbell: two ioctls, each with its commands. */
	k.ncalls = 0;
	put_cmd(tlbi[0][0], tlbi[0][1]);
	put_cmd(tlbi[1][0], tlbi[1][1]);
	put_cmd(CMD_SYNC, 0);
	put_cmd(tlbi[4][0], tlbi[4][1]);
	put_cmd(CMD_SYNC, 0);
	put_cmd(CMD_SYNC, 0); /* nothing queued: no ioctl */
	doorbell();
	cr_assert_eq(count_req(IOMMU_HWPT_INVALIDATE), 2);
	expect_invalidate(0, tlbi, 2);
	expect_invalidate(1, &tlbi[4], 1);
}

Test(smmu_nest, commands_without_a_sync_still_reach_the_host)
{
	const uint64_t tlbi[][2] = { { CMD_TLBI_NH_ASID | 9ull << 48, 0 } };

	nest_up();
	enable();
	k.ncalls = 0;
	put_cmd(tlbi[0][0], tlbi[0][1]);
	doorbell();
	cr_assert_eq(count_req(IOMMU_HWPT_INVALIDATE), 1);
	expect_invalidate(0, tlbi, 1);
}

Test(smmu_nest, cfgi_cd_and_atc_inv_only_for_owned_streams)
{
	uint32_t idr[6];
	const uint64_t owned[][2] = {
		{ CMD_CFGI_CD | (uint64_t)VSID << 32, 1 },
		{ CMD_CFGI_CD_ALL | (uint64_t)VSID << 32, 0 },
		{ CMD_ATC_INV | (uint64_t)VSID << 32, 0x1000 | 12 },
	};

	nest_up();
	/* ATC_INV is illegal without ATS, which the guest is not offered. */
	memcpy(idr, smmu.idr, sizeof(idr));
	idr[0] |= IDR0_ATS;
	smmuv3_set_idr(&smmu, idr);
	enable();
	k.ncalls = 0;
	put_cmd(CMD_CFGI_CD | (uint64_t)EMU_SID << 32, 1);
	put_cmd(owned[0][0], owned[0][1]);
	put_cmd(CMD_ATC_INV | (uint64_t)EMU_SID << 32, 0x1000 | 12);
	put_cmd(owned[1][0], owned[1][1]);
	put_cmd(CMD_CFGI_CD_ALL | (uint64_t)EMU_SID << 32, 0);
	put_cmd(owned[2][0], owned[2][1]);
	put_cmd(CMD_SYNC, 0);
	doorbell();
	cr_assert_eq(count_req(IOMMU_HWPT_INVALIDATE), 1);
	expect_invalidate(0, owned, 3);
}

Test(smmu_nest, commands_of_emulated_streams_are_not_sent)
{
	nest_up();
	enable();
	k.ncalls = 0;
	put_cmd(CMD_CFGI_CD | (uint64_t)EMU_SID << 32, 1);
	put_cmd(CMD_CFGI_CD_ALL | (uint64_t)EMU_SID << 32, 0);
	put_cmd(CMD_CFGI_STE | (uint64_t)EMU_SID << 32, 1);
	put_cmd(CMD_CFGI_STE_RANGE | (uint64_t)EMU_SID << 32, 0);
	put_cmd(CMD_PREFETCH_CONFIG | (uint64_t)EMU_SID << 32, 0);
	put_cmd(CMD_SYNC, 0);
	doorbell();
	cr_assert_eq(k.ncalls, 0);
	cr_assert_eq(n.stats.commands, 0);
}

Test(smmu_nest, a_failing_invalidate_is_counted_and_logged_once)
{
	const uint64_t tlbi[][2] = { { CMD_TLBI_NH_ASID | 3ull << 48, 0 } };

	nest_up();
	enable();
	k.ncalls = 0;
	fail(IOMMU_HWPT_INVALIDATE, -1, -EIO);
	capture_start();
	for (int i = 0; i < 3; i++) {
		put_cmd(tlbi[0][0], tlbi[0][1]);
		put_cmd(CMD_SYNC, 0);
		doorbell(); /* the guest's queue goes on */
	}
	cr_assert_eq(capture_lines("IOMMU_HWPT_INVALIDATE"), 1);
	cr_assert_eq(count_req(IOMMU_HWPT_INVALIDATE), 3);
	cr_assert_eq(n.stats.invalidate_errors, 3);
	cr_assert_eq(n.nr_batch, 0, "the failed batch is not sent again");
	/* Once the host accepts again, commands go through. */
	fail(0, 0, 0);
	put_cmd(tlbi[0][0], tlbi[0][1]);
	put_cmd(CMD_SYNC, 0);
	doorbell();
	cr_assert_eq(count_req(IOMMU_HWPT_INVALIDATE), 4);
	expect_invalidate(3, tlbi, 1);
	cr_assert_eq(n.stats.invalidate_errors, 3);
}

Test(smmu_nest, a_batch_above_smmu_nest_batch_is_split)
{
	enum { NR = SMMU_NEST_BATCH + 44 };
	static uint64_t sent[NR][2];
	unsigned int total = 0;

	nest_up();
	enable();
	k.ncalls = 0;
	for (unsigned int i = 0; i < NR; i++) {
		sent[i][0] = CMD_TLBI_NH_VA | (uint64_t)(i & 0xffff) << 48;
		sent[i][1] = (0x1000ull * i) | 1ull << 10;
		put_cmd(sent[i][0], sent[i][1]);
	}
	put_cmd(CMD_SYNC, 0);
	doorbell();
	cr_assert_geq(count_req(IOMMU_HWPT_INVALIDATE), 2);
	for (unsigned int i = 0; i < count_req(IOMMU_HWPT_INVALIDATE); i++) {
		struct fake_call *c = nth_call(IOMMU_HWPT_INVALIDATE, i);

		cr_assert_gt(c->inv.entry_num, 0);
		cr_assert_leq(c->inv.entry_num, IOMMUFD_INVALIDATE_BATCH);
		cr_assert_eq(c->first_cmd, total, "in order, none lost");
		total += c->inv.entry_num;
	}
	cr_assert_eq(total, NR);
	cr_assert_eq(k.ninv_cmds, NR);
	cr_assert_eq(memcmp(k.inv_cmds, sent, sizeof(sent)), 0);
	cr_assert_eq(n.stats.commands, NR);
	cr_assert_eq(n.stats.invalidate_ioctls,
		     count_req(IOMMU_HWPT_INVALIDATE));
	cr_assert_eq(n.nr_batch, 0);
}

/* ---- events from the vEVENTQ ---- */

/* A vEVENT as the kernel writes it: header, then (unless lost) a record. */
static void put_vevent(uint32_t flags, uint32_t seq, uint64_t tag)
{
	struct iommufd_vevent_header h = { .flags = flags, .sequence = seq };
	/* F_TRANSLATION from the vSID, @tag as the input address */
	uint64_t evt[4] = { EVT_F_TRANSLATION | (uint64_t)VSID << 32,
			    1ull << 35, tag, 0 };
	uint8_t buf[IOMMUFD_VEVENT_SMMUV3_BYTES];
	size_t len = sizeof(h);

	memcpy(buf, &h, sizeof(h));
	if (!(flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS)) {
		memcpy(buf + sizeof(h), evt, sizeof(evt));
		len += sizeof(evt);
	}
	cr_assert_eq(write(k.event_wr, buf, len), (ssize_t)len);
}

static void expect_guest_event(unsigned int i, uint64_t tag)
{
	cr_assert_eq(event(i)[0], EVT_F_TRANSLATION | (uint64_t)VSID << 32,
		     "event %u", i);
	cr_assert_eq(event(i)[1], 1ull << 35);
	cr_assert_eq(event(i)[2], tag, "event %u", i);
	cr_assert_eq(event(i)[3], 0);
}

static void events_up(void)
{
	nest_up();
	enable();
	cr_assert_geq(n.veventq_fd, 0);
	cr_assert_geq(k.event_wr, 0);
	cr_assert(fcntl(n.veventq_fd, F_GETFL) & O_NONBLOCK);
}

Test(smmu_nest, host_events_reach_the_guest_in_order)
{
	events_up();
	smmu_nest_read_events(&n); /* nothing yet: returns at once */
	cr_assert_eq(events(), 0);
	for (uint32_t s = 0; s < 3; s++)
		put_vevent(0, s, 0x1000 * (s + 1));
	smmu_nest_read_events(&n);
	cr_assert_eq(events(), 3);
	for (unsigned int i = 0; i < 3; i++)
		expect_guest_event(i, 0x1000 * (i + 1));
	cr_assert_eq(n.stats.host_events, 3);
	cr_assert_eq(n.stats.host_events_lost, 0);
	cr_assert_not(r32(SMMU_EVENTQ_PROD) & SMMU_Q_OVF);

	/* The sequence goes on across calls without a false loss. */
	put_vevent(0, 3, 0x4000);
	smmu_nest_read_events(&n);
	cr_assert_eq(events(), 4);
	expect_guest_event(3, 0x4000);
	cr_assert_eq(n.stats.host_events_lost, 0);
	cr_assert_not(r32(SMMU_EVENTQ_PROD) & SMMU_Q_OVF);
}

Test(smmu_nest, more_events_than_one_read_buffer)
{
	const unsigned int nr = 40; /* the reader takes 32 per read() */

	events_up();
	for (uint32_t s = 0; s < nr; s++)
		put_vevent(0, s, 0x1000ull * s);
	smmu_nest_read_events(&n);
	cr_assert_eq(events(), nr);
	for (unsigned int i = 0; i < nr; i++)
		expect_guest_event(i, 0x1000ull * i);
	cr_assert_eq(n.stats.host_events_lost, 0);
	cr_assert_not(r32(SMMU_EVENTQ_PROD) & SMMU_Q_OVF);
}

Test(smmu_nest, a_sequence_gap_counts_lost_events_and_overflows)
{
	events_up();
	put_vevent(0, 0, 0x1000);
	put_vevent(0, 3, 0x4000); /* 1 and 2 were dropped */
	smmu_nest_read_events(&n);
	cr_assert_eq(events(), 2);
	expect_guest_event(0, 0x1000);
	expect_guest_event(1, 0x4000);
	cr_assert_eq(n.stats.host_events_lost, 2);
	cr_assert_eq(n.vevents.lost, 2);
	cr_assert(r32(SMMU_EVENTQ_PROD) & SMMU_Q_OVF);
	cr_assert(r32(SMMU_EVENTQ_PROD_P0) & SMMU_Q_OVF);
}

Test(smmu_nest, a_lost_events_header_counts_and_overflows)
{
	events_up();
	put_vevent(0, 0, 0x1000);
	put_vevent(IOMMU_VEVENTQ_FLAG_LOST_EVENTS, 5, 0); /* 1..5 dropped */
	put_vevent(0, 6, 0x7000);
	smmu_nest_read_events(&n);
	cr_assert_eq(events(), 2);
	expect_guest_event(0, 0x1000);
	expect_guest_event(1, 0x7000);
	cr_assert_eq(n.stats.host_events_lost, 5);
	cr_assert(r32(SMMU_EVENTQ_PROD) & SMMU_Q_OVF);

	/* The guest acknowledges; a later loss flags it again. */
	w32(SMMU_EVENTQ_CONS, r32(SMMU_EVENTQ_PROD));
	cr_assert_not((r32(SMMU_EVENTQ_PROD) ^ r32(SMMU_EVENTQ_CONS)) &
		      SMMU_Q_OVF);
	put_vevent(IOMMU_VEVENTQ_FLAG_LOST_EVENTS, 7, 0);
	smmu_nest_read_events(&n);
	cr_assert_eq(n.stats.host_events_lost, 6);
	cr_assert((r32(SMMU_EVENTQ_PROD) ^ r32(SMMU_EVENTQ_CONS)) & SMMU_Q_OVF);
}

Test(smmu_nest, a_first_read_with_a_lost_header_counts_one)
{
	events_up();
	put_vevent(IOMMU_VEVENTQ_FLAG_LOST_EVENTS, 9, 0);
	smmu_nest_read_events(&n);
	cr_assert_eq(events(), 0);
	cr_assert_eq(n.stats.host_events_lost, 1);
	cr_assert(r32(SMMU_EVENTQ_PROD) & SMMU_Q_OVF);
}

Test(smmu_nest, malformed_vevent_data_is_logged_once)
{
	const uint32_t bad[2] = { 0x80, 0 }; /* unknown header flag */

	events_up();
	capture_start();
	put_vevent(0, 0, 0x1000);
	cr_assert_eq(write(k.event_wr, bad, sizeof(bad)), (ssize_t)sizeof(bad));
	smmu_nest_read_events(&n);
	cr_assert_eq(write(k.event_wr, bad, sizeof(bad)), (ssize_t)sizeof(bad));
	smmu_nest_read_events(&n);
	cr_assert_eq(capture_lines("malformed vEVENTQ"), 1);
	cr_assert_eq(events(), 1, "records before the bad spot are kept");
	expect_guest_event(0, 0x1000);
}
