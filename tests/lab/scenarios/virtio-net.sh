# lab: timeout=900
# virtio-net on a tap that nestbox creates in a private network namespace
# of L1 (link-local addresses; nothing leaves the emulated host): ping and
# 4 MiB each way with checksums, over PCI, behind the PCIe-to-PCI bridge,
# over MMIO, and over PCI behind the virtio-iommu (L2 in strict and lazy
# DMA modes).
mkdir -p /tmp/www
yes nestbox-net-pattern-down | head -c 4194304 >/tmp/www/data
down=$(md5sum </tmp/www/data | cut -d' ' -f1)
up=$(yes nestbox-net-pattern-up | head -c 4194304 | md5sum | cut -d' ' -f1)

for t in pci bridge mmio viommu viommu-lazy; do
	spec="tap=nbtap0,transport=$t"
	extra=""
	kargs=""
	[ $t = bridge ] && spec="tap=nbtap0,bus=bridge"
	case $t in viommu*)
		spec="tap=nbtap0"
		extra="--iommu virtio"
		kargs="iommu.passthrough=0 iommu.strict=1"
		[ $t = viommu-lazy ] && kargs="iommu.passthrough=0 iommu.strict=0"
	esac
	rm -f /tmp/www/ack /tmp/up.recv
	unshare -n sh -c "
		ip link set lo up
		timeout -s KILL 300 /bin/nestbox run -v --kernel $L2_LAB_KERNEL \
			--initrd $L2_LAB_INITRD --memory 256M \
			--net $spec $extra \
			--cmdline 'console=ttyAMA0 quiet $kargs nbl2.run=net nbl2.action=poweroff' \
			</dev/null >/tmp/net-$t.raw 2>/tmp/net-$t.err &
		pid=\$!
		i=0
		# sysfs shows the old namespace; ask the kernel directly.
		while ! ip link show nbtap0 >/dev/null 2>&1 && [ \$i -lt 300 ]; do
			sleep 0.1; i=\$((i + 1)); done
		ip addr add 169.254.77.1/24 dev nbtap0
		ip link set nbtap0 up
		httpd -p 169.254.77.1:8080 -h /tmp/www
		: >/tmp/up.recv
		# A background job's stdin is /dev/null; at its EOF busybox nc would
		# close the connection, so feed it a pipe that stays open.
		sleep 600 | nc -l -p 5000 >/tmp/up.recv &
		# Acknowledge the upload once it is complete and correct.
		i=0
		while [ \$i -lt 1200 ] && kill -0 \$pid 2>/dev/null; do
			if [ \"\$(md5sum </tmp/up.recv | cut -d' ' -f1)\" = $up ]; then
				echo $up >/tmp/www/ack
				break
			fi
			sleep 0.2; i=\$((i + 1))
		done
		wait \$pid
		echo \$? >/tmp/net-$t.rc
		echo \"L1 received \$(wc -c </tmp/up.recv) bytes, md5 \$(md5sum </tmp/up.recv)\"
		killall httpd nc sleep 2>/dev/null
	"
	tr -d '\r' </tmp/net-$t.raw >/tmp/net-$t.out
	RC=$(cat /tmp/net-$t.rc)
	grep NBL2 /tmp/net-$t.out
	cat /tmp/net-$t.err
	expect_rc net-$t 0
	expect_out net-$t "NBL2: net ping ok"
	expect_out net-$t "NBL2: net rx sum=$down"
	expect_out net-$t "NBL2: net tx acked $up"
	expect_out net-$t "NBL2: run net rc=0"
done
# Translated: the guest mapped its buffers and nestbox translated them.
expect_err net-viommu "virtio-net.* is behind the virtio-iommu"
expect_err net-viommu "virtio-iommu: requests .* map=[1-9][0-9]* .*translations=[1-9][0-9]*; faults reported=0"
expect_err net-viommu-lazy "virtio-iommu: requests .* map=[1-9][0-9]* .*translations=[1-9][0-9]*; faults reported=0"
