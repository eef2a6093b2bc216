/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The iommufd and VFIO cdev uapi nestbox uses, for building against kernel
 * headers older than the kernels it runs on: Debian bookworm ships Linux 6.1
 * headers (no <linux/iommufd.h>, no VFIO cdev ioctls, no KVM_DEV_VFIO_FILE).
 * Whatever the installed headers provide wins; each missing item is defined
 * here, guarded on its own ioctl or constant name. Numbers and layouts are
 * ABI facts of the Linux uapi; tests/unit/iommu/test_iommufd.c checks them.
 *
 * Structures whose later kernels appended fields are declared at the size
 * nestbox needs: the kernel accepts any size from its minimum up (the
 * iommufd "size"/VFIO "argsz" extensibility rule) and zero-fills the rest.
 */
#ifndef NESTBOX_UAPI_IOMMUFD_H
#define NESTBOX_UAPI_IOMMUFD_H

#include <linux/ioctl.h>
#include <linux/kvm.h>
#include <linux/types.h>
#include <linux/vfio.h>

#if __has_include(<linux/iommufd.h>)
#include <linux/iommufd.h>
#endif

/* ---- include/uapi/linux/iommufd.h ---- */

#ifndef IOMMUFD_TYPE
#define IOMMUFD_TYPE (';')
#endif

/*
 * Command numbers (the uapi's IOMMUFD_CMD_* enum, base 0x80). Own names,
 * because a newer <linux/iommufd.h> declares the uapi's as enumerators.
 */
#define NESTBOX_IOMMUFD_CMD_DESTROY	     0x80
#define NESTBOX_IOMMUFD_CMD_IOAS_ALLOC	     0x81
#define NESTBOX_IOMMUFD_CMD_IOAS_IOVA_RANGES 0x84
#define NESTBOX_IOMMUFD_CMD_IOAS_MAP	     0x85
#define NESTBOX_IOMMUFD_CMD_IOAS_UNMAP	     0x86
#define NESTBOX_IOMMUFD_CMD_HWPT_ALLOC	     0x89
#define NESTBOX_IOMMUFD_CMD_GET_HW_INFO	     0x8a
#define NESTBOX_IOMMUFD_CMD_IOAS_MAP_FILE    0x8f /* Linux 6.13 */

#ifndef IOMMU_DESTROY
/* Mirrors struct iommu_destroy of include/uapi/linux/iommufd.h. */
struct iommu_destroy {
	__u32 size;
	__u32 id;
};
#define IOMMU_DESTROY _IO(IOMMUFD_TYPE, NESTBOX_IOMMUFD_CMD_DESTROY)
#endif

#ifndef IOMMU_IOAS_ALLOC
/* Mirrors struct iommu_ioas_alloc of include/uapi/linux/iommufd.h. */
struct iommu_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
};
#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, NESTBOX_IOMMUFD_CMD_IOAS_ALLOC)
#endif

#ifndef IOMMU_IOAS_IOVA_RANGES
/* Mirrors include/uapi/linux/iommufd.h; @last is inclusive. */
struct iommu_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;
};

/*
 * Mirrors include/uapi/linux/iommufd.h. When @num_iovas is too small the
 * kernel fills what fits, sets @num_iovas to the total and fails EMSGSIZE.
 */
struct iommu_ioas_iova_ranges {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;
	__aligned_u64 out_iova_alignment;
};
#define IOMMU_IOAS_IOVA_RANGES \
	_IO(IOMMUFD_TYPE, NESTBOX_IOMMUFD_CMD_IOAS_IOVA_RANGES)
#endif

#ifndef IOMMU_IOAS_MAP
/* Mirrors enum iommufd_ioas_map_flags of include/uapi/linux/iommufd.h. */
enum iommufd_ioas_map_flags {
	IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0,
	IOMMU_IOAS_MAP_WRITEABLE = 1 << 1,
	IOMMU_IOAS_MAP_READABLE = 1 << 2,
};

/* Mirrors struct iommu_ioas_map of include/uapi/linux/iommufd.h. */
struct iommu_ioas_map {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;
};
#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, NESTBOX_IOMMUFD_CMD_IOAS_MAP)
#endif

#ifndef IOMMU_IOAS_MAP_FILE
/* Mirrors include/uapi/linux/iommufd.h (6.13): map @fd (a memfd) at @start. */
struct iommu_ioas_map_file {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__s32 fd;
	__aligned_u64 start;
	__aligned_u64 length;
	__aligned_u64 iova;
};
#define IOMMU_IOAS_MAP_FILE _IO(IOMMUFD_TYPE, NESTBOX_IOMMUFD_CMD_IOAS_MAP_FILE)
#endif

#ifndef IOMMU_IOAS_UNMAP
/* Mirrors include/uapi/linux/iommufd.h; @length returns the bytes unmapped. */
struct iommu_ioas_unmap {
	__u32 size;
	__u32 ioas_id;
	__aligned_u64 iova;
	__aligned_u64 length;
};
#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, NESTBOX_IOMMUFD_CMD_IOAS_UNMAP)
#endif

#ifndef IOMMU_GET_HW_INFO
/* Mirrors enum iommu_hw_info_type of include/uapi/linux/iommufd.h. */
enum iommu_hw_info_type {
	IOMMU_HW_INFO_TYPE_NONE = 0,
	IOMMU_HW_INFO_TYPE_DEFAULT = 0,
	IOMMU_HW_INFO_TYPE_INTEL_VTD = 1,
	IOMMU_HW_INFO_TYPE_ARM_SMMUV3 = 2,
	IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV = 3,
};

/*
 * Mirrors struct iommu_hw_info of include/uapi/linux/iommufd.h. In 6.6 the
 * union was plain out_data_type and out_max_pasid_log2 was reserved (zero).
 */
struct iommu_hw_info {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 data_len;
	__aligned_u64 data_uptr;
	union {
		__u32 in_data_type;
		__u32 out_data_type;
	};
	__u8 out_max_pasid_log2;
	__u8 __reserved[3];
	__aligned_u64 out_capabilities;
};
#define IOMMU_GET_HW_INFO _IO(IOMMUFD_TYPE, NESTBOX_IOMMUFD_CMD_GET_HW_INFO)
#endif

#ifndef IOMMU_HWPT_ALLOC
/* Mirrors enum iommufd_hwpt_alloc_flags of include/uapi/linux/iommufd.h. */
enum iommufd_hwpt_alloc_flags {
	IOMMU_HWPT_ALLOC_NEST_PARENT = 1 << 0,
	IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1,
	IOMMU_HWPT_FAULT_ID_VALID = 1 << 2,
};

/* Mirrors enum iommu_hwpt_data_type of include/uapi/linux/iommufd.h. */
enum iommu_hwpt_data_type {
	IOMMU_HWPT_DATA_NONE = 0,
	IOMMU_HWPT_DATA_VTD_S1 = 1,
	IOMMU_HWPT_DATA_ARM_SMMUV3 = 2,
};

/*
 * Mirrors struct iommu_hwpt_alloc of include/uapi/linux/iommufd.h. The 6.6
 * struct ended at data_uptr; fault_id and __reserved2 came with fault queues.
 */
struct iommu_hwpt_alloc {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 pt_id;
	__u32 out_hwpt_id;
	__u32 __reserved;
	__u32 data_type;
	__u32 data_len;
	__aligned_u64 data_uptr;
	__u32 fault_id;
	__u32 __reserved2;
};
#define IOMMU_HWPT_ALLOC _IO(IOMMUFD_TYPE, NESTBOX_IOMMUFD_CMD_HWPT_ALLOC)
#endif

/* ---- include/uapi/linux/vfio.h (VFIO cdev, 6.6) ---- */

#ifndef VFIO_DEVICE_BIND_IOMMUFD
/*
 * Mirrors struct vfio_device_bind_iommufd of include/uapi/linux/vfio.h.
 * token_uuid_ptr came later; the kernel's minimum size ends at out_devid.
 */
struct vfio_device_bind_iommufd {
	__u32 argsz;
	__u32 flags;
	__s32 iommufd;
	__u32 out_devid;
};
#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)
#endif

#ifndef VFIO_DEVICE_ATTACH_IOMMUFD_PT
/*
 * Mirrors struct vfio_device_attach_iommufd_pt of include/uapi/linux/vfio.h.
 * pasid came later; the kernel's minimum size ends at pt_id. A second
 * ATTACH replaces the first without a DETACH.
 */
struct vfio_device_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
	__u32 pt_id;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)
#endif

#ifndef VFIO_DEVICE_DETACH_IOMMUFD_PT
/* Mirrors struct vfio_device_detach_iommufd_pt of include/uapi/linux/vfio.h. */
struct vfio_device_detach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
};
#define VFIO_DEVICE_DETACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 20)
#endif

/* ---- include/uapi/linux/kvm.h ---- */

/*
 * 6.6 renamed KVM_DEV_VFIO_GROUP(_ADD/_DEL) to KVM_DEV_VFIO_FILE(_ADD/_DEL),
 * same values, and let them take a VFIO cdev fd as well as a group fd.
 * KVM_DEV_TYPE_VFIO is in 6.1 already.
 */
#ifndef KVM_DEV_VFIO_FILE
#define KVM_DEV_VFIO_FILE 1
#endif
#ifndef KVM_DEV_VFIO_FILE_ADD
#define KVM_DEV_VFIO_FILE_ADD 1
#endif
#ifndef KVM_DEV_VFIO_FILE_DEL
#define KVM_DEV_VFIO_FILE_DEL 2
#endif

#endif
