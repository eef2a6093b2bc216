/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a fake iommufd kernel (an iommufd_ops.ioctl of a test) checks of
 * the argument structs of the nesting ioctls before acting on them, as
 * drivers/iommu/iommufd rejects them: the size the caller claims, the
 * reserved fields and flags nestbox must leave zero, the data it points
 * at. Shared by the tests of the iommufd backend and of SMMUv3 nesting,
 * whose fakes differ in what they record and how they fail.
 */
#ifndef NESTBOX_FAKE_IOMMUFD_H
#define NESTBOX_FAKE_IOMMUFD_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "iommu/uapi_iommufd.h"

static inline void fake_iommufd_check_destroy(const struct iommu_destroy *d)
{
	cr_assert_eq(d->size, sizeof(struct iommu_destroy));
}

static inline void fake_iommufd_check_hw_info(const struct iommu_hw_info *h)
{
	cr_assert_eq(h->size, sizeof(*h));
	cr_assert_eq(h->flags, 0);
	cr_assert_eq(h->data_len, sizeof(struct iommu_hw_info_arm_smmuv3));
	cr_assert_neq(h->data_uptr, 0);
}

/* GET_HW_INFO's answer: the SMMU's registers and the data type. */
static inline void
fake_iommufd_hw_info_reply(struct iommu_hw_info *h,
			   const struct iommu_hw_info_arm_smmuv3 *smmu,
			   uint32_t type)
{
	memcpy((void *)(uintptr_t)h->data_uptr, smmu, sizeof(*smmu));
	h->out_data_type = type;
}

/* Any HWPT_ALLOC; an SMMUv3 nested one carries exactly one STE. */
static inline void
fake_iommufd_check_hwpt_alloc(const struct iommu_hwpt_alloc *a)
{
	cr_assert_eq(a->size, sizeof(*a));
	cr_assert_eq(a->__reserved, 0);
	cr_assert_eq(a->fault_id, 0);
	cr_assert_eq(a->__reserved2, 0);
	if (a->data_type == IOMMU_HWPT_DATA_ARM_SMMUV3)
		cr_assert_eq(a->data_len, sizeof(struct iommu_hwpt_arm_smmuv3));
}

static inline void
fake_iommufd_check_viommu_alloc(const struct iommu_viommu_alloc *v)
{
	cr_assert_eq(v->size, sizeof(*v));
	cr_assert_eq(v->flags, 0);
	cr_assert_eq(v->data_len, 0);
	cr_assert_eq(v->__reserved, 0);
	cr_assert_eq(v->data_uptr, 0);
}

static inline void
fake_iommufd_check_invalidate(const struct iommu_hwpt_invalidate *i)
{
	cr_assert_eq(i->size, sizeof(*i));
	cr_assert_eq(i->__reserved, 0);
}

static inline void
fake_iommufd_check_veventq_alloc(const struct iommu_veventq_alloc *q)
{
	cr_assert_eq(q->size, sizeof(*q));
	cr_assert_eq(q->flags, 0);
	cr_assert_eq(q->__reserved, 0);
}

#endif
