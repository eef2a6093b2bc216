# Helpers for scenarios, sourced in L1. A scenario is a sh fragment whose
# exit status is its verdict; it runs in a subshell with `set -e` off.

L2_LAB_KERNEL=/l2/lab/Image
L2_LAB_INITRD=/l2/initrd-lab.cpio
L2_STOCK_KERNEL=/l2/stock/Image
L2_STOCK_INITRD=/l2/initrd-stock.cpio
L2_TIMEOUT=${L2_TIMEOUT:-300}

fail() {
	echo "FAIL: $*"
	exit 1
}

ok() {
	echo "ok: $*"
}

# run_vmm NAME [nestbox args...]: run nestbox with no console input,
# bounded in time; stdout in /tmp/NAME.out, stderr in /tmp/NAME.err, exit
# status in $RC.
run_vmm() {
	name=$1
	shift
	timeout -s KILL "$L2_TIMEOUT" /bin/nestbox "$@" </dev/null \
		>"/tmp/$name.raw" 2>"/tmp/$name.err"
	RC=$?
	# The guest's tty writes CR LF; keep plain lines for the checks.
	tr -d '\r' <"/tmp/$name.raw" >"/tmp/$name.out"
	echo "--- $name: exit status $RC; stderr:"
	cat "/tmp/$name.err"
	return 0
}

show_out() {
	echo "--- $1: guest output:"
	cat "/tmp/$1.out"
}

expect_rc() {
	[ "$RC" = "$2" ] || { show_out "$1"; fail "$1: exit status $RC, expected $2"; }
	ok "$1: exit status $2"
}

expect_out() {
	grep -q -- "$2" "/tmp/$1.out" || { show_out "$1"; fail "$1: guest output lacks '$2'"; }
	ok "$1: guest said '$2'"
}

expect_err() {
	grep -q -- "$2" "/tmp/$1.err" || fail "$1: stderr lacks '$2'"
	ok "$1: stderr has '$2'"
}

# The one-line rule for bad input: exactly one line on stderr.
expect_one_line() {
	n=$(grep -c . "/tmp/$1.err")
	[ "$n" = 1 ] || fail "$1: $n lines on stderr, expected 1"
}

# wait_for FILE PATTERN SECONDS
wait_for() {
	i=0
	while ! grep -q -- "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le $(($3 * 10)) ] || return 1
		sleep 0.1
	done
	return 0
}

# boot_and_count KERNEL INITRD CPUS: boot, expect all CPUs online, power off.
boot_and_count() {
	name=boot-$3
	run_vmm "$name" run -v --kernel "$1" --initrd "$2" --cpus "$3" \
		--memory 512M --cmdline "console=ttyAMA0 quiet nbl2.action=poweroff"
	grep NBL2 "/tmp/$name.out"
	expect_rc "$name" 0
	expect_out "$name" "NBL2: init reached"
	expect_out "$name" "cpus=$3 "
	if [ "$3" = 1 ]; then
		expect_out "$name" "online=0\$"
	else
		expect_out "$name" "online=0-$(($3 - 1))"
	fi
	expect_out "$name" "NBL2: powering off"
	expect_out "$name" "NBL2: its present"
	# The guest sees a PMU exactly when the host offered one.
	if grep -q "host PMUv3: yes" "/tmp/$name.err"; then
		expect_out "$name" "NBL2: pmu present"
	else
		expect_err "$name" "host PMUv3: no"
		grep -q "NBL2: pmu present" "/tmp/$name.out" && fail "PMU without host PMU"
	fi
}

# find_fn VENDOR DEVICE [N]: the N-th (from 0) host PCI function with
# those IDs, e.g. find_fn 0x1234 0x11e8.
find_fn() {
	n=0
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = "$1" ] && [ "$(cat "$d/device")" = "$2" ] || continue
		if [ "$n" = "${3:-0}" ]; then basename "$d"; return; fi
		n=$((n + 1))
	done
}

# bind_vfio BDF: hand a host function to vfio-pci (driver_override).
bind_vfio() {
	echo vfio-pci >"/sys/bus/pci/devices/$1/driver_override"
	[ -e "/sys/bus/pci/devices/$1/driver" ] &&
		echo "$1" >"/sys/bus/pci/devices/$1/driver/unbind"
	echo "$1" >/sys/bus/pci/drivers_probe
	[ -e "/sys/bus/pci/devices/$1/vfio-dev" ] || fail "$1: not on vfio-pci"
	ok "$1 bound to vfio-pci (group $(basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"))"
}

# net_vmm NAME UP_MD5 SECONDS [nestbox run args...]: run nestbox in a
# private network namespace of L1 whose tap nbtap0 it creates (link-local
# 169.254.77.0/24 only), with L1's side serving /tmp/www over HTTP on
# 169.254.77.1:8080 and taking an upload on port 5000; /tmp/www/ack is
# published once the upload's md5 is UP_MD5. Output and status as for
# run_vmm (/tmp/NAME.out, /tmp/NAME.err, $RC).
net_vmm() {
	_n=$1 _up=$2 _t=$3
	shift 3
	rm -f /tmp/www/ack /tmp/up.recv
	unshare -n sh -c '
		n=$1 up=$2 t=$3
		shift 3
		ip link set lo up
		timeout -s KILL "$t" /bin/nestbox run "$@" \
			</dev/null >"/tmp/$n.raw" 2>"/tmp/$n.err" &
		pid=$!
		i=0
		# sysfs shows the old namespace; ask the kernel directly.
		while ! ip link show nbtap0 >/dev/null 2>&1 && [ $i -lt 300 ]; do
			sleep 0.1; i=$((i + 1)); done
		ip addr add 169.254.77.1/24 dev nbtap0
		ip link set nbtap0 up
		httpd -p 169.254.77.1:8080 -h /tmp/www
		: >/tmp/up.recv
		# A background job'"'"'s stdin is /dev/null; at its EOF busybox nc
		# would close the connection, so feed it a pipe that stays open.
		sleep 600 | nc -l -p 5000 >/tmp/up.recv &
		i=0
		while [ $i -lt $((t * 5)) ] && kill -0 $pid 2>/dev/null; do
			if [ "$(md5sum </tmp/up.recv | cut -d" " -f1)" = "$up" ]; then
				echo "$up" >/tmp/www/ack
				break
			fi
			sleep 0.2; i=$((i + 1))
		done
		wait $pid
		echo $? >"/tmp/$n.rc"
		echo "L1 received $(wc -c </tmp/up.recv) bytes, md5 $(md5sum </tmp/up.recv)"
		killall httpd nc sleep 2>/dev/null
	' sh "$_n" "$_up" "$_t" "$@"
	tr -d '\r' <"/tmp/$_n.raw" >"/tmp/$_n.out"
	RC=$(cat "/tmp/$_n.rc")
	echo "--- $_n: exit status $RC; stderr:"
	cat "/tmp/$_n.err"
}
