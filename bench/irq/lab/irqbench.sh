# lab: timeout=3600
# The interrupt-latency suite "scenario", run in the emulated arm64 host (L1)
# as /lab/scenarios/irqbench.sh by tests/lab/guest/l1-init (lib.sh sourced).
# bench/irq/run boots one host per GIC version with QEMU's edu; here edu is
# bound to vfio-pci and, per round, every payload of /lab/irqb (one test
# each, built with -t TEST -H HOLD) runs as
#   nestbox run -v --payload P --testdev --vfio EDU --cpus 2 --memory 64M
# The payload spins quietly for HOLD ms after "IRQBENCH info hold=before"
# and again after "IRQBENCH done"; a 0.1 s poller reads the nestbox VM's
# KVM debugfs counters (/sys/kernel/debug/kvm/PID-FD/*) in the first hold
# (snapshot a), in the second (b) and about 1 s later (c: the background
# rate of exits of two spinning vCPUs, host timer ticks). Per run, on the
# serial console:
#   @@IRQB-LOG gic=G round=R test=T <a line of the payload's output>
#   @@IRQB-V4 gic=G round=R test=T <nestbox's "GICv4: ..." line>
#   @@IRQB-KVM gic=G round=R test=T snap=a|b|c t=UPTIME out_bytes=B
#              kvm=NAME:V,NAME:V...
#   @@IRQB-RUN gic=G round=R test=T rc=RC
# Progress lines start with "[irqbench]". Parameters: irqb.runs=N irqb.gic=G
runs=1
gic=3
tests="mmio doorbell inject edu its-int ipi timer"
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	irqb.runs=*) runs=${arg#*=} ;;
	irqb.gic=*) gic=${arg#*=} ;;
	irqb.tests=*) tests=$(echo "${arg#*=}" | tr ',' ' ') ;;
	esac
done
say() { echo "[irqbench] $*"; }

dmesg | grep -iE 'gicv4|vgic' | head -5 | sed 's/^/[irqbench] dmesg: /'
EDU=$(find_fn 0x1234 0x11e8)
[ -n "$EDU" ] || { say "no edu on the emulated host"; exit 1; }
bind_vfio "$EDU"
say "GICv$gic host, edu $EDU on vfio-pci; $runs round(s) of: $tests"

# kvm_stats PID: the VM's numeric debugfs counters as NAME:VALUE,...
kvm_stats() {
	d=$(ls -d /sys/kernel/debug/kvm/$1-* 2>/dev/null | head -1)
	[ -n "$d" ] || return
	s=
	for f in "$d"/*; do
		[ -f "$f" ] || continue
		v=$(cat "$f" 2>/dev/null) || continue
		case "$v" in '' | *[!0-9]*) continue ;; esac
		s="$s${s:+,}$(basename "$f"):$v"
	done
	echo "$s"
}

# snap NAME: one @@IRQB-KVM line into /tmp/irqb.kvm (uses $pid, $tag).
snap() {
	snap_t=$(cut -d' ' -f1 /proc/uptime)
	snap_b=$(wc -c </tmp/irqb.out)
	snap_k=$(kvm_stats $pid)
	[ -n "$snap_k" ] || return 1
	echo "@@IRQB-KVM $tag snap=$1 t=$snap_t out_bytes=$snap_b kvm=$snap_k" >>/tmp/irqb.kvm
}

bad=0
r=1
while [ $r -le "$runs" ]; do
	for t in $tests; do
		tag="gic=$gic round=$r test=$t"
		: >/tmp/irqb.out
		: >/tmp/irqb.kvm
		/bin/nestbox run -v --payload "/lab/irqb/$t.bin" --testdev \
			--vfio "$EDU" --cpus 2 --memory 64M \
			</dev/null >/tmp/irqb.out 2>/tmp/irqb.err &
		pid=$!
		snaps=
		tb=
		i=0
		while kill -0 $pid 2>/dev/null; do
			case "$snaps" in
			'')
				grep -q 'IRQBENCH info hold=before' /tmp/irqb.out &&
					snap a && snaps=a ;;
			a)
				grep -q 'IRQBENCH done' /tmp/irqb.out &&
					snap b && snaps=ab && tb=$snap_t ;;
			ab)
				# c about 1 s after b, still inside the second hold
				awk -v b="$tb" '{ exit !($1 >= b + 1.0) }' /proc/uptime &&
					snap c && snaps=abc ;;
			esac
			sleep 0.1
			i=$((i + 1))
			if [ $i -ge 3000 ]; then
				say "$tag: no exit after 300 s, killing nestbox"
				kill -9 $pid
			fi
		done
		wait $pid
		rc=$?
		tr -d '\r' </tmp/irqb.out | grep IRQBENCH | sed "s/^/@@IRQB-LOG $tag /"
		grep 'GICv4:' /tmp/irqb.err | sed "s/^/@@IRQB-V4 $tag /"
		cat /tmp/irqb.kvm
		echo "@@IRQB-RUN $tag rc=$rc"
		line=$(tr -d '\r' </tmp/irqb.out | grep "IRQBENCH test=$t " | head -1)
		say "$tag rc=$rc ${line:-$(tr -d '\r' </tmp/irqb.out | grep -E 'IRQBENCH (FAIL|SKIP)' | head -2 | tr '\n' ' ')}"
		if [ $rc != 0 ] || [ "$snaps" != abc ] || grep -q 'IRQBENCH FAIL' /tmp/irqb.out; then
			bad=1
			tail -5 /tmp/irqb.err | sed "s/^/[irqbench] stderr: /"
		fi
	done
	r=$((r + 1))
done
exit $bad
