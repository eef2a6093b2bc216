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
#define NESTBOX_IOMMUFD_CMD_HWPT_INVALIDATE  0x8d /* Linux 6.8 */
#define NESTBOX_IOMMUFD_CMD_IOAS_MAP_FILE    0x8f /* Linux 6.13 */
#define NESTBOX_IOMMUFD_CMD_VIOMMU_ALLOC     0x90 /* Linux 6.13 */
#define NESTBOX_IOMMUFD_CMD_VDEVICE_ALLOC    0x91 /* Linux 6.13 */
#define NESTBOX_IOMMUFD_CMD_VEVENTQ_ALLOC    0x93 /* Linux 6.15 */

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

#ifndef IOMMU_HWPT_INVALIDATE
/*
 * Mirrors enum iommu_hwpt_invalidate_data_type of
 * include/uapi/linux/iommufd.h; ARM_SMMUV3 came with the vIOMMU (6.13).
 */
enum iommu_hwpt_invalidate_data_type {
	IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 = 0,
	IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 = 1,
};

/*
 * Mirrors struct iommu_hwpt_invalidate of include/uapi/linux/iommufd.h.
 * @entry_num is in/out: the kernel writes back how many entries it handled,
 * on failure too (the failing entry is the first not handled).
 */
struct iommu_hwpt_invalidate {
	__u32 size;
	__u32 hwpt_id;
	__aligned_u64 data_uptr;
	__u32 data_type;
	__u32 entry_len;
	__u32 entry_num;
	__u32 __reserved;
};
#define IOMMU_HWPT_INVALIDATE \
	_IO(IOMMUFD_TYPE, NESTBOX_IOMMUFD_CMD_HWPT_INVALIDATE)
#endif

/*
 * SMMUv3 nesting (Linux 6.13): vIOMMU, vDEVICE and the SMMUv3 data
 * structures came together, so they share the IOMMU_VIOMMU_ALLOC guard.
 */
#ifndef IOMMU_VIOMMU_ALLOC
/*
 * Mirrors struct iommu_hw_info_arm_smmuv3 of include/uapi/linux/iommufd.h:
 * the raw SMMU_IDR0..5, SMMU_IIDR and SMMU_AIDR registers (SMMUv3 6.3.1-6.3.6).
 */
struct iommu_hw_info_arm_smmuv3 {
	__u32 flags;
	__u32 __reserved;
	__u32 idr[6];
	__u32 iidr;
	__u32 aidr;
};

/*
 * Mirrors struct iommu_hwpt_arm_smmuv3 of include/uapi/linux/iommufd.h: the
 * first two double words of the guest's STE (SMMUv3 5.2), little-endian.
 */
struct iommu_hwpt_arm_smmuv3 {
	__aligned_le64 ste[2];
};

/*
 * Mirrors struct iommu_viommu_arm_smmuv3_invalidate of
 * include/uapi/linux/iommufd.h: one 128-bit CMDQ command, little-endian.
 */
struct iommu_viommu_arm_smmuv3_invalidate {
	__aligned_le64 cmd[2];
};

/* Mirrors enum iommu_viommu_type of include/uapi/linux/iommufd.h. */
enum iommu_viommu_type {
	IOMMU_VIOMMU_TYPE_DEFAULT = 0,
	IOMMU_VIOMMU_TYPE_ARM_SMMUV3 = 1,
	IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV = 2,
};

/*
 * Mirrors struct iommu_viommu_alloc of include/uapi/linux/iommufd.h. The
 * 6.13 struct ended at out_viommu_id; data_len, __reserved and data_uptr
 * came with driver-specific vIOMMU data and stay zero here.
 */
struct iommu_viommu_alloc {
	__u32 size;
	__u32 flags;
	__u32 type;
	__u32 dev_id;
	__u32 hwpt_id;
	__u32 out_viommu_id;
	__u32 data_len;
	__u32 __reserved;
	__aligned_u64 data_uptr;
};
#define IOMMU_VIOMMU_ALLOC _IO(IOMMUFD_TYPE, NESTBOX_IOMMUFD_CMD_VIOMMU_ALLOC)

/*
 * Mirrors struct iommu_vdevice_alloc of include/uapi/linux/iommufd.h;
 * @virt_id is the device's ID as the guest sees it (SMMUv3: the vSID).
 */
struct iommu_vdevice_alloc {
	__u32 size;
	__u32 viommu_id;
	__u32 dev_id;
	__u32 out_vdevice_id;
	__aligned_u64 virt_id;
};
#define IOMMU_VDEVICE_ALLOC _IO(IOMMUFD_TYPE, NESTBOX_IOMMUFD_CMD_VDEVICE_ALLOC)
#endif

/* vEVENTQ (Linux 6.15). */
#ifndef IOMMU_VEVENTQ_ALLOC
/* Mirrors enum iommu_veventq_flag of include/uapi/linux/iommufd.h. */
enum iommu_veventq_flag {
	IOMMU_VEVENTQ_FLAG_LOST_EVENTS = (1U << 0),
};

/*
 * Mirrors struct iommufd_vevent_header of include/uapi/linux/iommufd.h.
 * @sequence runs over [0, INT_MAX] and wraps to 0. A LOST_EVENTS header
 * has no data after it and carries the sequence of the last lost event.
 */
struct iommufd_vevent_header {
	__u32 flags;
	__u32 sequence;
};

/* Mirrors enum iommu_veventq_type of include/uapi/linux/iommufd.h. */
enum iommu_veventq_type {
	IOMMU_VEVENTQ_TYPE_DEFAULT = 0,
	IOMMU_VEVENTQ_TYPE_ARM_SMMUV3 = 1,
	IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV = 2,
};

/*
 * Mirrors struct iommu_vevent_arm_smmuv3 of include/uapi/linux/iommufd.h:
 * a 256-bit event record (SMMUv3 7.3), little-endian, whose StreamID field
 * holds the virtual ID given to IOMMU_VDEVICE_ALLOC.
 */
struct iommu_vevent_arm_smmuv3 {
	__aligned_le64 evt[4];
};

/* Mirrors struct iommu_veventq_alloc of include/uapi/linux/iommufd.h. */
struct iommu_veventq_alloc {
	__u32 size;
	__u32 flags;
	__u32 viommu_id;
	__u32 type;
	__u32 veventq_depth;
	__u32 out_veventq_id;
	__u32 out_veventq_fd;
	__u32 __reserved;
};
#define IOMMU_VEVENTQ_ALLOC _IO(IOMMUFD_TYPE, NESTBOX_IOMMUFD_CMD_VEVENTQ_ALLOC)
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
