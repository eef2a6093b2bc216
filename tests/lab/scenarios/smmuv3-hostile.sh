# lab: timeout=300
# A hostile L2 against nestbox's SMMUv3: the kernel's arm-smmu-v3 driver is
# kept off (initcall_blacklist) and a program drives the SMMU through
# /dev/mem with its queues and tables in pinned pages: a command queue and
# a stream table outside RAM, illegal opcodes, CMD_SYNC with an MSI
# address outside RAM, malformed STEs and CDs, an event queue outside RAM,
# with DMA from a virtio-blk device it takes over. It checks each
# architected answer (GERROR/GERRORN, CMDQ_CONS.ERR, event records) by
# reading back. A virtio-rng left out of the SMMU (iommu=off) keeps
# delivering; nestbox logs each kind of error once, counts the rest, and
# exits 0 when the guest powers off.
dd if=/dev/zero of=/tmp/hostile.img bs=1048576 count=8 2>/dev/null
run_vmm hostile run -v --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 256M --iommu smmuv3 --disk /tmp/hostile.img --rng=pci,iommu=off \
	--cmdline "console=ttyAMA0 quiet initcall_blacklist=arm_smmu_driver_init nbl2.run=smmu-hostile nbl2.action=poweroff"
grep -E 'NBL2|smmu-attack' /tmp/hostile.out
expect_rc hostile 0
expect_out hostile "NBL2: smmuv3 instances=0"
expect_out hostile "smmu-attack: ok: CR0 is 0: no driver owns the SMMU"
grep -q "smmu-attack: FAIL" /tmp/hostile.out &&
	fail "hostile: $(grep -c 'smmu-attack: FAIL' /tmp/hostile.out) architected answer(s) wrong"
n=$(grep -c "smmu-attack: ok:" /tmp/hostile.out)
[ "$n" -ge 20 ] || fail "hostile: only $n checks ran"
ok "hostile: all $n checks of smmu-attack held"
expect_out hostile "smmu-attack: all checks held"
expect_out hostile "NBL2: smmu-attack rc=0"
expect_out hostile "NBL2: blk after the attack bytes=1048576"
expect_out hostile "NBL2: hwrng after the attack bytes=4096"
expect_out hostile "NBL2: hwrng bytes=65536"
expect_out hostile "NBL2: run smmu-hostile rc=0"
expect_err hostile "virtio-blk.* is behind the SMMUv3"
grep -q "virtio-rng.* is behind the SMMUv3" /tmp/hostile.err &&
	fail "hostile: the iommu=off rng was put behind the SMMU"
ok "hostile: the rng is outside the SMMU"
# Each kind of error logged once, the rest counted.
once() { # pattern what
	c=$(grep -c -- "$1" /tmp/hostile.err)
	[ "$c" = 1 ] || fail "hostile: $2 logged $c times, expected once"
	ok "hostile: $2 logged once"
}
once "smmuv3: illegal command 0x7f" "the illegal command"
once "smmuv3: the command queue is not in guest RAM" "the command queue abort"
once "smmuv3: CMD_SYNC MSI to 0x8000000 is neither guest RAM nor the ITS doorbell" "the CMD_SYNC MSI abort"
once "smmuv3: StreamID 0x[0-9a-f]*: malformed STE (C_BAD_STE)" "the first configuration error"
once "smmuv3: StreamID" "a configuration error"
once "smmuv3: the event queue at 0x8000000 is not guest RAM" "the event queue abort"
once "virtio-blk.*bad size or ring address" "the device's failed start"
set -- $(sed -n 's/.*smmuv3: commands=[0-9]* .* errors=\([0-9]*\); .* faults=[0-9]*; events=\([0-9]*\) lost=\([0-9]*\) config-errors=\([0-9]*\).*/\1 \2 \3 \4/p' /tmp/hostile.err)
read=$(sed -n 's/^smmu-attack: events read=\([0-9]*\)$/\1/p' /tmp/hostile.out)
echo "hostile: errors=$1 events=$2 lost=$3 config-errors=$4; the guest read $read events"
[ "${1:-0}" = 3 ] || fail "hostile: nestbox counted ${1:-?} command errors, the guest caused 3"
[ -n "$read" ] && [ "${2:-x}" = "$read" ] ||
	fail "hostile: nestbox posted ${2:-?} events, the guest read ${read:-?}"
[ "${3:-0}" -ge 1 ] || fail "hostile: the event lost to the bad queue was not counted"
[ "${4:-0}" -ge 11 ] || fail "hostile: only ${4:-?} configuration errors counted, expected >= 11"
ok "hostile: nestbox counted 3 command errors, $2 events (all read), $3 lost, $4 configuration errors"
