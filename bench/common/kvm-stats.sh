# Sourced by the bench scenarios that run in the lab's L1 (bench/smmu's
# smmubench.sh, bench/vfio's vfiobench.sh), which their bench/*/run pack as
# /lab/kvm-stats.sh beside tests/lab/guest/lib.sh.

# kvm_vm_json: the JSON members (no braces) "global_exits":N (L1 KVM's
# global exits, null without debugfs) and, while a VM runs, "vm":{...} with
# every numeric stat of its debugfs directory (one VM at a time).
kvm_vm_json() {
	j="\"global_exits\":$(cat /sys/kernel/debug/kvm/exits 2>/dev/null || echo null)"
	d=$(ls -d /sys/kernel/debug/kvm/*-* 2>/dev/null | head -1)
	if [ -n "$d" ]; then
		v=""
		for f in "$d"/*; do
			[ -f "$f" ] || continue
			x=$(cat "$f" 2>/dev/null) || continue
			case "$x" in '' | *[!0-9]*) continue ;; esac
			v="$v,\"$(basename "$f")\":$x"
		done
		j="$j,\"vm\":{${v#,}}"
	fi
	echo "$j"
}
