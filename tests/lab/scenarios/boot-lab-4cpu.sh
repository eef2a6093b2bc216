# lab: timeout=300
# L2 with our minimal kernel boots to /init with 4 vCPU(s), all online.
boot_and_count "$L2_LAB_KERNEL" "$L2_LAB_INITRD" 4
