# lab: timeout=300
# lab-qemu: -device edu
# lab-l1-cmdline: arm_smmu_v3.test_force_canwbs=0
# What the vSMMU needs from the host is checked before the guest runs.
# Here L1's SMMU cannot nest: it has no S2FWB and a DT boot has no CANWBS
# (our lab patch that lets the vIOMMU through is switched off again on
# L1's command line), so an assigned device behind --iommu smmuv3 is
# refused with one line naming why. Set-ups nestbox cannot express are
# refused too; the same device with iommu=off boots.
EDU=$(find_fn 0x1234 0x11e8 0)
bind_vfio "$EDU"
K=$L2_LAB_KERNEL

run_vmm nonest run --kernel "$K" --iommu smmuv3 --vfio "$EDU"
expect_rc nonest 1
expect_one_line nonest
expect_err nonest "--iommu smmuv3: vIOMMU (IOMMU_VIOMMU_ALLOC) for vfio $EDU: Operation not supported (the host SMMU needs S2FWB, or a root complex with CANWBS, to nest)"

run_vmm bridged run --kernel "$K" --iommu smmuv3 --vfio "$EDU,bus=bridge"
expect_rc bridged 1
expect_one_line bridged
expect_err bridged "behind --iommu smmuv3 an assigned device sits on the root bus"

run_vmm badopt run --kernel "$K" --iommu smmuv3,irq=level
expect_rc badopt 2
expect_one_line badopt
expect_err badopt "expected virtio.* or smmuv3\[,irq=msi|wired\]"

run_vmm off run -v --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 256M --iommu smmuv3 --vfio "$EDU,iommu=off" --rng \
	--cmdline "console=ttyAMA0 quiet iommu.passthrough=0 nbl2.run=smmu,rng nbl2.action=poweroff"
grep NBL2 /tmp/off.out
expect_rc off 0
expect_out off "NBL2: run rng rc=0"
# Only the rng is behind the SMMU: one group, the edu has none.
expect_out off "NBL2: iommu groups=1"
