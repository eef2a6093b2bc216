# lab: timeout=3600
# The benchmark "scenario": runs inside the emulated arm64 host (L1) as
# /lab/scenarios/nbbench.sh, started by tests/lab/guest/l1-init. It boots the
# same L2 (lab kernel, lab initramfs, vCPUs, memory, command line) under
# nestbox and under Debian's qemu-system-aarch64, alternating A B A B, and
# prints one "@@NBB {json}" line per run (see bench/lab/nbbench.c). Progress
# lines start with "[bench]". Parameters come from the kernel command line:
#   nbbench.runs=N        timed runs per VMM (default 10)
#   nbbench.trace=M       ptrace runs per VMM (default 2)
#   nbbench.warmup=W      untimed runs per VMM first (default 1)
#   nbbench.cpus=C        L2 vCPUs (default 2)
#   nbbench.mem=MIB       L2 RAM in MiB (default 512)
#   nbbench.marker=STR    the guest's first userspace line (default
#                         NBL2-USERSPACE; "_" stands for a space)
#   nbbench.timeout=SEC   per run (default 180)

runs=10
trace=2
warmup=1
cpus=2
mem=512
marker=NBL2-USERSPACE
timeout=180
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	nbbench.runs=*) runs=${arg#*=} ;;
	nbbench.trace=*) trace=${arg#*=} ;;
	nbbench.warmup=*) warmup=${arg#*=} ;;
	nbbench.cpus=*) cpus=${arg#*=} ;;
	nbbench.mem=*) mem=${arg#*=} ;;
	nbbench.marker=*) marker=$(echo "${arg#*=}" | tr _ ' ') ;;
	nbbench.timeout=*) timeout=${arg#*=} ;;
	esac
done

L2_CMDLINE="console=ttyAMA0 quiet nbl2.action=poweroff"

# Both VMMs, their libraries and the loader on a ramfs: mapped pages of its
# files count as RssFile, as they would from a disk. (On the initramfs' tmpfs
# they would count as RssShmem, mixed up with the guest RAM memfd.)
mkdir -p /bench-ro
mount -t ramfs ramfs /bench-ro || { echo "[bench] cannot mount a ramfs"; exit 1; }
mkdir -p /bench-ro/lib
cp /bin/nestbox /usr/bin/qemu-system-aarch64 /bench-ro/ &&
	cp /usr/lib/aarch64-linux-gnu/* /bench-ro/lib/ &&
	cp /lib/ld-linux-aarch64.so.1 /bench-ro/ &&
	mount -o bind /bench-ro/lib /usr/lib/aarch64-linux-gnu &&
	mount -o bind /bench-ro/ld-linux-aarch64.so.1 /lib/ld-linux-aarch64.so.1 ||
	{ echo "[bench] cannot set up /bench-ro"; exit 1; }
NESTBOX=/bench-ro/nestbox
QEMU=/bench-ro/qemu-system-aarch64

# run_nbbench MODE LABEL RUN [nbbench options]: one measured run of VMM LABEL
# (nestbox or qemu); prints its JSON line as "@@NBB {...}".
run_nbbench() {
	mode=$1 label=$2 run=$3
	shift 3
	if [ "$label" = nestbox ]; then
		out=$(/lab/bench/nbbench "$mode" --label nestbox --run "$run" \
			--marker "$marker" --timeout "$timeout" \
			--stderr /tmp/nestbox.err "$@" -- \
			$NESTBOX run --kernel "$L2_LAB_KERNEL" \
			--initrd "$L2_LAB_INITRD" --cpus "$cpus" \
			--memory "${mem}M" --cmdline "$L2_CMDLINE")
	else
		out=$(/lab/bench/nbbench "$mode" --label qemu --run "$run" \
			--marker "$marker" --timeout "$timeout" \
			--stderr /tmp/qemu.err "$@" -- \
			$QEMU -M virt,gic-version=3 -accel kvm -cpu host \
			-smp "$cpus" -m "${mem}M" \
			-object "memory-backend-memfd,id=ram,size=${mem}M,share=on" \
			-machine memory-backend=ram \
			-kernel "$L2_LAB_KERNEL" -initrd "$L2_LAB_INITRD" \
			-append "$L2_CMDLINE" \
			-nic none -display none -monitor none -serial stdio \
			-no-reboot)
	fi
	rc=$?
	if [ -n "$out" ]; then
		echo "@@NBB $out"
	else
		echo "[bench]   nbbench failed (status $rc)"
	fi
	if ! echo "$out" | grep -q '"status":0,'; then
		echo "[bench]   $label run $run did not end with status 0; its stderr:"
		sed 's/^/[bench]     /' "/tmp/$label.err" | tail -20
	fi
}

echo "[bench] L1: $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs, $(sed -n 's/MemTotal: *//p' /proc/meminfo) RAM"
echo "[bench] L2: $cpus vCPUs, ${mem} MiB, cmdline '$L2_CMDLINE', marker '$marker'"
echo "[bench] nestbox: $($NESTBOX --version 2>&1)"
if ! $QEMU --version >/tmp/qemu.version 2>&1; then
	echo "[bench] qemu-system-aarch64 does not start:"
	sed 's/^/[bench]   /' /tmp/qemu.version
	exit 1
fi
echo "[bench] qemu: $(head -1 /tmp/qemu.version)"
ls /sys/kernel/debug/kvm >/dev/null 2>&1 ||
	echo "[bench] warning: no /sys/kernel/debug/kvm: no first-KVM_RUN times, no exit stats"
echo "@@NBB-META {\"runs\":$runs,\"trace_runs\":$trace,\"warmup\":$warmup,\"cpus\":$cpus,\"mem_mib\":$mem,\"l1_kernel\":\"$(uname -r)\",\"qemu\":\"$(head -1 /tmp/qemu.version)\",\"marker\":\"$marker\",\"l2_cmdline\":\"$L2_CMDLINE\"}"

i=1
while [ $i -le "$warmup" ]; do
	for vmm in nestbox qemu; do
		echo "[bench] warm-up $i/$warmup: $vmm (not counted)"
		run_nbbench run $vmm "-$i"
	done
	i=$((i + 1))
done

total=$((runs * 2))
k=0
i=1
while [ $i -le "$runs" ]; do
	for vmm in nestbox qemu; do
		k=$((k + 1))
		echo "[bench] run $k/$total: $vmm"
		run_nbbench run $vmm $i
	done
	i=$((i + 1))
done

total=$((trace * 2))
k=0
i=1
while [ $i -le "$trace" ]; do
	for vmm in nestbox qemu; do
		k=$((k + 1))
		echo "[bench] ptrace run $k/$total: $vmm (syscalls, exits to userspace)"
		tl=""
		[ $i = 1 ] && tl="--timeline 4000"
		run_nbbench trace $vmm $i $tl
	done
	i=$((i + 1))
done
echo "@@NBB-DONE"
