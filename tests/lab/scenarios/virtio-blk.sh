# lab: timeout=600
# virtio-blk over PCI (MSI-X LPIs) and MMIO: 8 MiB written and read back
# with a checksum that L1 also finds in the image file; the data survives a
# second boot; a read-only disk refuses writes.
blk_boot() { # name image-spec l2-checks
	run_vmm "$1" run --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
		--memory 256M --disk "$2" \
		--cmdline "console=ttyAMA0 quiet nbl2.run=$3 nbl2.action=poweroff"
	grep NBL2 "/tmp/$1.out"
	expect_rc "$1" 0
}
want=$(yes nestbox-blk-pattern-0123456789 | head -c 8388608 | md5sum | cut -d' ' -f1)

for t in pci mmio; do
	img=/tmp/disk-$t.img
	dd if=/dev/zero of=$img bs=1048576 count=16 2>/dev/null
	checks=blk-write
	[ $t = pci ] && checks=blk-write,msix
	blk_boot "w$t" "$img,transport=$t" $checks
	expect_out "w$t" "NBL2: run blk-write rc=0"
	got=$(head -c 8388608 $img | md5sum | cut -d' ' -f1)
	[ "$got" = "$want" ] || fail "$t: image file holds $got, guest wrote $want"
	ok "$t: the image file holds what the guest wrote"
	blk_boot "v$t" "$img,transport=$t" blk-verify
	expect_out "v$t" "NBL2: run blk-verify rc=0"
done
expect_out wpci "NBL2: run msix rc=0"

before=$(md5sum </tmp/disk-pci.img)
blk_boot ro "/tmp/disk-pci.img,readonly" blk-readonly
expect_out ro "NBL2: run blk-readonly rc=0"
[ "$(md5sum </tmp/disk-pci.img)" = "$before" ] || fail "read-only image changed"
ok "read-only image unchanged"

# Multi-queue: two request queues, both used by the guest's blk-mq.
dd if=/dev/zero of=/tmp/disk-mq.img bs=1048576 count=16 2>/dev/null
run_vmm mq run --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 256M --cpus 2 --disk /tmp/disk-mq.img,queues=2 \
	--cmdline "console=ttyAMA0 quiet nbl2.run=blk-mq,blk-write nbl2.action=poweroff"
grep NBL2 /tmp/mq.out
expect_rc mq 0
expect_out mq "NBL2: blk hw queues=2"
expect_out mq "NBL2: run blk-write rc=0"

run_vmm baddisk run --kernel "$L2_LAB_KERNEL" --disk /nonexistent.img
expect_rc baddisk 1
expect_one_line baddisk
expect_err baddisk "/nonexistent.img"
