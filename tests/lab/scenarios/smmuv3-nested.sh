# lab: timeout=900
# lab-qemu: -device edu -netdev hubport,id=hp1,hubid=0 -netdev hubport,id=hp2,hubid=0 -device e1000e,netdev=hp1,romfile= -device e1000e,netdev=hp2,romfile=
# Assigned devices behind nestbox's SMMUv3 with the guest's stage 1 run by
# L1's SMMU (iommufd nesting): L2's arm-smmu-v3 driver owns the tables,
# L1's SMMU walks them in hardware through nestbox's stage 2. L2's
# e1000e driver moves 4 MiB in strict mode (a map and an unmap per
# buffer), the MSI window is a direct region of L2's groups, and an edu
# DMA from an IOVA L2 never mapped faults in L1's SMMU and reaches L2's
# event queue through the vEVENTQ.
EDU=$(find_fn 0x1234 0x11e8 0)
NIC=$(find_fn 0x8086 0x10d3 0)
PEER=$(find_fn 0x8086 0x10d3 1)
echo "edu $EDU, NIC $NIC, L1's NIC $PEER"
for f in "$EDU" "$NIC"; do bind_vfio "$f"; done
pifc=$(ls "/sys/bus/pci/devices/$PEER/net" | head -1)
ip link set lo up
ip link set "$pifc" up
ip addr add 169.254.78.1/24 dev "$pifc"
mkdir -p /tmp/www
yes nestbox-nest-pattern-down | head -c 4194304 >/tmp/www/data
down=$(md5sum </tmp/www/data | cut -d' ' -f1)
httpd -p 169.254.78.1:8080 -h /tmp/www

run_vmm nest run -v --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 256M --iommu smmuv3 --vfio "$NIC" --vfio "$EDU" \
	--cmdline "console=ttyAMA0 quiet iommu.passthrough=0 iommu.strict=1 nbl2.run=smmu,vfio-l2,nest-net,edu-fault nbl2.action=poweroff"
grep -E 'NBL2' /tmp/nest.out
killall httpd 2>/dev/null
expect_rc nest 0
expect_err nest "SMMUv3: ID registers restricted to the host SMMU's"
expect_err nest "nested: the guest's stage 1 runs in the host SMMU"
expect_out nest "NBL2: iommu group .* type=DMA devices=0000:00:0"
# The window the host maps its doorbell at is 1:1 in L2's domains.
expect_out nest "NBL2: iommu group .* resv: .*0x0000000008000000 0x00000000080fffff direct"
expect_out nest "NBL2: edu-probe: ok"
expect_out nest "NBL2: e1000e ping ok"
expect_out nest "NBL2: e1000e msi vectors=[1-9]"
expect_out nest "NBL2: nest rx sum=$down"
expect_out nest "NBL2: dmesg: .*event: F_TRANSLATION .*sid: 0x10"
expect_out nest "NBL2: run edu-fault rc=0"
# L1's kernel made the vIOMMU (our lab patch's one-time notice) ...
dmesg | grep -q "TEST ONLY: vIOMMU allowed" || fail "L1's kernel allocated no vIOMMU"
ok "L1's arm-smmu-v3 driver allocated a vIOMMU"
# ... nestbox attached the devices to nested HWPTs of L2's STEs, sent
# L2's invalidations to L1, and the fault came back as a host event.
nest_stats() { # "STE_CHANGES ATTACHES HWPTS COMMANDS IOCTLS FAILED EVENTS LOST"
	sed -n 's/.*smmuv3 nesting: \([0-9]*\) STE changes, \([0-9]*\) attaches, \([0-9]*\) nested HWPTs allocated; \([0-9]*\) commands in \([0-9]*\) HWPT_INVALIDATE ioctls (\([0-9]*\) failed); host events \([0-9]*\), lost \([0-9]*\).*/\1 \2 \3 \4 \5 \6 \7 \8/p' /tmp/nest.err
}
set -- $(nest_stats)
echo "nesting: ste=$1 attaches=$2 hwpts=$3 commands=$4 ioctls=$5 failed=$6 events=$7 lost=$8"
[ "${3:-0}" -ge 2 ] || fail "fewer than 2 nested HWPTs (one per domain)"
[ "${4:-0}" -gt 100 ] && [ "${6:-1}" = 0 ] || fail "invalidations: $4 commands, $6 failed ioctls"
[ "${7:-0}" -ge 1 ] || fail "no host event"
ok "nesting: $3 nested HWPTs, $4 invalidation commands in $5 ioctls, $7 host event(s)"
# nestbox walked nothing for DMA: the hardware did (the MSI routes are
# the only translations it made).
expect_err nest "smmuv3: .*walks=[0-9]\{1,2\} "

# Emulated and nested devices behind one vSMMU: the rng's DMA is walked by
# nestbox, the edu's by L1's SMMU, and the edu's fault still arrives.
run_vmm mixed run -v --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 256M --iommu smmuv3 --vfio "$EDU" --rng \
	--cmdline "console=ttyAMA0 quiet iommu.passthrough=0 iommu.strict=1 nbl2.run=smmu,rng,edu-fault nbl2.action=poweroff"
grep -E 'NBL2: (run|iommu groups|hwrng)' /tmp/mixed.out
expect_rc mixed 0
expect_out mixed "NBL2: iommu groups=2"
expect_out mixed "NBL2: run rng rc=0"
expect_out mixed "NBL2: dmesg: .*event: F_TRANSLATION .*sid: 0x8 "
expect_out mixed "NBL2: run edu-fault rc=0"
expect_err mixed "smmuv3: .*walks=[1-9][0-9]* "
expect_err mixed "smmuv3 nesting: .*host events [1-9]"
