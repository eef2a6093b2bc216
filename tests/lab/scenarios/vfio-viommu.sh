# lab: timeout=600
# lab-qemu: -device edu -netdev hubport,id=hp1,hubid=0 -netdev hubport,id=hp2,hubid=0 -device e1000e,netdev=hp1,romfile= -device e1000e,netdev=hp2,romfile= -device edu,addr=6.0,multifunction=on -device edu,addr=6.1
# Assigned devices behind nestbox's virtio-iommu: each guest domain is an
# iommufd IOAS in L1, so the e1000e's DMA in L2 (translated mode) goes
# through exactly the mappings L2's virtio_iommu driver made. Two edu
# functions of one multi-function slot without ACS share a host IOMMU
# group: nestbox refuses to give them two guest endpoints. (Behind a
# PCIe-to-PCI bridge of the emulated host they would alias to one StreamID,
# which L1's arm-smmu-v3 driver refuses for the second device.)
EDU=$(find_fn 0x1234 0x11e8 0)
EDU2=$(find_fn 0x1234 0x11e8 1)
EDU3=$(find_fn 0x1234 0x11e8 2)
NIC=$(find_fn 0x8086 0x10d3 0)
PEER=$(find_fn 0x8086 0x10d3 1)
echo "edu $EDU, edus of one slot $EDU2 $EDU3, NIC $NIC, L1's NIC $PEER"
for f in "$EDU" "$EDU2" "$EDU3" "$NIC"; do bind_vfio "$f"; done
pifc=$(ls "/sys/bus/pci/devices/$PEER/net" | head -1)
ip link set "$pifc" up
ip addr add 169.254.78.1/24 dev "$pifc"

run_vmm vi run -v --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 256M --iommu virtio --vfio "$NIC" --vfio "$EDU" \
	--cmdline "console=ttyAMA0 quiet iommu.passthrough=0 nbl2.run=viommu,vfio-l2 nbl2.action=poweroff"
grep NBL2 /tmp/vi.out
expect_rc vi 0
expect_err vi "assigned device(s) behind it, one IOAS per guest domain"
expect_out vi "NBL2: iommu group .* type=DMA devices=0000:00:0"
expect_out vi "NBL2: edu-probe: ok"
expect_out vi "NBL2: e1000e ping ok"
expect_out vi "NBL2: run vfio-l2 rc=0"
expect_err vi "virtio-iommu: requests attach=[1-9][0-9]* .* map=[1-9][0-9]*"
# The devices left the identity IOAS for their domains' IOAS, which got the
# guest's mappings, and nothing failed.
expect_err vi "IOAS mirror: [1-9][0-9]* device moves, [1-9][0-9]* IOAS maps, [0-9]* unmaps, 0 failures"

# VFIO inside L2 on the virtio-iommu: edu's DMA engine and MSI, end to end.
run_vmm edu run -v --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 256M --iommu virtio --vfio "$EDU" \
	--cmdline "console=ttyAMA0 quiet iommu.passthrough=0 nbl2.run=edu-vfio nbl2.action=poweroff"
grep NBL2 /tmp/edu.out
expect_rc edu 0
expect_out edu "NBL2: edu-vfio: dma 10 rounds ok, interrupts=20"
expect_out edu "NBL2: edu-vfio: raised interrupt received"
expect_out edu "NBL2: edu-vfio: after unmap: memory unchanged"
expect_out edu "NBL2: edu-vfio: ok"
expect_err edu "IOAS mirror: [1-9][0-9]* device moves, [1-9][0-9]* IOAS maps, [1-9][0-9]* unmaps, 0 failures"

# A group that is not viable for us: another nestbox holds the other
# function of the same host IOMMU group.
/bin/nestbox run --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 128M --vfio "$EDU3" --console none \
	--cmdline "quiet nbl2.action=shell" </dev/null >/dev/null 2>&1 &
holder=$!
sleep 5
run_vmm notviable run --kernel "$L2_LAB_KERNEL" --vfio "$EDU2"
kill $holder
wait $holder
expect_rc notviable 1
expect_one_line notviable
expect_err notviable "$EDU2: host IOMMU group [0-9]* is not viable"

# One host group, two guest endpoints: refused, naming the group.
run_vmm split run --kernel "$L2_LAB_KERNEL" --iommu virtio \
	--vfio "$EDU2" --vfio "$EDU3"
expect_rc split 1
expect_one_line split
expect_err split "are in host IOMMU group [0-9]*, so they share one address space"
# Behind the guest's bridge they share one endpoint: accepted.
run_vmm shared run --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 256M --iommu virtio --vfio "$EDU2,bus=bridge" \
	--vfio "$EDU3,bus=bridge" \
	--cmdline "console=ttyAMA0 quiet iommu.passthrough=0 nbl2.run=viommu-groups nbl2.action=poweroff"
grep NBL2 /tmp/shared.out
expect_rc shared 0
g1=$(sed -n 's/^NBL2: pci 0000:01:00.0 .* group=\([0-9]*\)$/\1/p' /tmp/shared.out)
g2=$(sed -n 's/^NBL2: pci 0000:01:01.0 .* group=\([0-9]*\)$/\1/p' /tmp/shared.out)
[ -n "$g1" ] && [ "$g1" = "$g2" ] || fail "shared: groups '$g1' and '$g2'"
ok "shared: both edus in L2 IOMMU group $g1"
