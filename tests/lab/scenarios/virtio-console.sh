# lab: timeout=400
# virtio-console as the guest's console (console=hvc0), over PCI, behind
# the PCIe-to-PCI bridge and over MMIO: the guest's output and shell reach
# the host through it, and typed input comes back.
for t in pci bridge mmio; do
	rm -f /tmp/vcin
	mkfifo /tmp/vcin
	timeout -s KILL 200 /bin/nestbox run --kernel "$L2_LAB_KERNEL" \
		--initrd "$L2_LAB_INITRD" --memory 256M --virtio-console=$t \
		--cmdline "console=hvc0 quiet" </tmp/vcin >/tmp/vc.raw 2>/tmp/vc.err &
	pid=$!
	exec 3>/tmp/vcin
	wait_for /tmp/vc.raw "NBL2: shell ready" 120 ||
		{ cat /tmp/vc.raw /tmp/vc.err; fail "$t: no shell on hvc0"; }
	ok "$t: the L2 shell came up on hvc0"
	sleep 1
	echo 'echo "hvc-$((6*7))-back $(cat /sys/class/tty/console/active)"' >&3
	wait_for /tmp/vc.raw "hvc-42-back hvc0" 60 ||
		{ cat /tmp/vc.raw; fail "$t: input over virtio-console lost"; }
	ok "$t: typed input reached the shell over virtio-console"
	echo 'poweroff -f' >&3
	wait $pid
	RC=$?
	exec 3>&-
	[ $RC = 0 ] || { cat /tmp/vc.err; fail "$t: exit status $RC"; }
	ok "$t: exit status 0"
done
