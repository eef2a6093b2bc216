# lab: timeout=600
# lab-qemu: -device edu -netdev hubport,id=hp1,hubid=0 -netdev hubport,id=hp2,hubid=0 -device e1000e,netdev=hp1,romfile= -device e1000e,netdev=hp2,romfile=
# PCI device assignment through the VFIO cdev and iommufd: QEMU's edu and
# one of two e1000e NICs of the emulated host are bound to vfio-pci in L1
# and assigned to L2, where edu answers on its mapped BAR and L2's own
# e1000e driver pings L1's other e1000e over a QEMU hub (nothing leaves
# the emulated host). Then the error cases, one line each.
EDU=$(find_fn 0x1234 0x11e8)
NIC=$(find_fn 0x8086 0x10d3 0)
PEER=$(find_fn 0x8086 0x10d3 1)
[ -n "$EDU" ] && [ -n "$NIC" ] && [ -n "$PEER" ] || fail "lab devices missing"
echo "edu $EDU, assigned NIC $NIC, L1's NIC $PEER"

# Bad input first, with the devices still on their host drivers.
run_vmm notvfio run --kernel "$L2_LAB_KERNEL" --vfio "$NIC"
expect_rc notvfio 1
expect_one_line notvfio
expect_err notvfio "bound to e1000e, not vfio-pci"
run_vmm nodev run --kernel "$L2_LAB_KERNEL" --vfio 0000:0f:1f.7
expect_rc nodev 1
expect_one_line nodev
expect_err nodev "no such PCI device"
run_vmm badspec run --kernel "$L2_LAB_KERNEL" --vfio eth0
expect_rc badspec 1
expect_one_line badspec
expect_err badspec "expected a host PCI address"

bind_vfio "$EDU"
bind_vfio "$NIC"
# A host without iommufd (here: its device node hidden).
mv /dev/iommu /dev/iommu.hidden
run_vmm noiommufd run --kernel "$L2_LAB_KERNEL" --vfio "$EDU"
mv /dev/iommu.hidden /dev/iommu
expect_rc noiommufd 1
expect_one_line noiommufd
expect_err noiommufd "no /dev/iommu: the host kernel has no iommufd"
# A cdev path that is not one.
run_vmm nocdev run --kernel "$L2_LAB_KERNEL" --vfio /dev/vfio/devices/vfio99
expect_rc nocdev 1
expect_one_line nocdev
expect_err nocdev "vfio99"

pifc=$(ls "/sys/bus/pci/devices/$PEER/net" | head -1)
ip link set "$pifc" up
ip addr add 169.254.78.1/24 dev "$pifc"

run_vmm assign run -v --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 256M --vfio "$EDU" --vfio "$NIC" \
	--cmdline "console=ttyAMA0 quiet nbl2.run=vfio-l2,pause nbl2.action=poweroff"
grep NBL2 /tmp/assign.out
ip -s link show "$pifc"
expect_rc assign 0
expect_out assign "NBL2: edu-probe: liveness ok"
expect_out assign "NBL2: edu-probe: factorial(10) = 3628800"
expect_out assign "NBL2: e1000e ping ok"
expect_out assign "NBL2: run vfio-l2 rc=0"
# A GICv3 host: no direct injection (vfio-gicv4 is the GICv4 side).
expect_err assign "GICv4: 0 of [1-9][0-9]* LPIs of this VM forwarded as vLPIs"

# msix-mmap=ro: the MSI-X table page is mapped read-only into L2. Writes
# still trap (so routes are learned and the NIC works), reads reach the
# device without an exit.
run_vmm msixro run -v --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 256M --vfio "$NIC,msix-mmap=ro" \
	--cmdline "console=ttyAMA0 quiet nbl2.run=vfio-l2 nbl2.action=poweroff"
grep NBL2 /tmp/msixro.out
expect_rc msixro 0
expect_err msixro "MSI-X table pages mapped read-only"
expect_out msixro "NBL2: e1000e ping ok"
expect_out msixro "NBL2: e1000e msi vectors=3"
# Who answers a read of the table: nestbox (trap) or the device (ro).
for mode in trap ro; do
	spec="$NIC"
	[ $mode = ro ] && spec="$NIC,msix-mmap=ro"
	run_vmm "msix$mode" run --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
		--memory 256M --vfio "$spec" \
		--cmdline "console=ttyAMA0 quiet initcall_blacklist=e1000_init_module nbl2.run=msix-table nbl2.action=poweroff"
	expect_rc "msix$mode" 0
	grep "msix vector" "/tmp/msix$mode.out"
done
expect_out msixtrap "NBL2: msix vector 0 address 0x12345000"
expect_out msixro "NBL2: msix vector 0 address 0x"
if grep -q "NBL2: msix vector 0 address 0x12345000" /tmp/msixro.out; then
	fail "msixro: the read trapped (L2 got nestbox's emulated entry)"
fi
ok "msixro: the read went to the device's own table"

# Without MSI (pci=nomsi) the NIC interrupts through INTx: an irqfd with
# resample, still no exit to nestbox.
run_vmm intx run --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 256M --vfio "$NIC" \
	--cmdline "console=ttyAMA0 quiet pci=nomsi nbl2.run=vfio-l2-intx nbl2.action=poweroff"
grep NBL2 /tmp/intx.out
expect_rc intx 0
expect_out intx "NBL2: e1000e ping ok"
expect_out intx "NBL2: e1000e intx interrupts=[1-9]"

# nestbox resets the devices on exit: a second boot gets them working again.
run_vmm again run --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 256M --vfio "$NIC" --vfio "$EDU" \
	--cmdline "console=ttyAMA0 quiet nbl2.run=vfio-l2 nbl2.action=poweroff"
expect_rc again 0
expect_out again "NBL2: e1000e ping ok"
expect_out again "NBL2: edu-probe: ok"

# A second VMM cannot take a device the first one holds.
/bin/nestbox run --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 128M --vfio "$EDU" --console none \
	--cmdline "quiet nbl2.action=shell" </dev/null >/dev/null 2>&1 &
holder=$!
sleep 5
run_vmm busy run --kernel "$L2_LAB_KERNEL" --vfio "$EDU"
kill $holder
wait $holder
expect_rc busy 1
expect_one_line busy
expect_err busy "$EDU: .*device busy"
