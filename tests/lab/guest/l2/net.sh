# virtio-net to a tap in L1 (link-local addresses, a private namespace of
# L1): ping, 4 MiB from L1 (wget from L1's httpd), 4 MiB to L1 (nc), with
# checksums compared on the other side.
ip link set lo up
ip link set eth0 up || { echo "NBL2: FAIL no eth0"; ls /sys/class/net; exit 1; }
ip addr add 169.254.77.2/24 dev eth0
ping -c 3 -W 5 169.254.77.1 || { echo "NBL2: FAIL ping"; exit 1; }
echo "NBL2: net ping ok"
got=$(wget -q -O - http://169.254.77.1:8080/data | md5sum | cut -d' ' -f1)
echo "NBL2: net rx sum=$got"
yes nestbox-net-pattern-up | head -c 4194304 >/tmp/up
nc 169.254.77.1 5000 </tmp/up &
# L1 publishes /ack once it holds all 4 MiB with the right checksum.
i=0
# Behind a strict vIOMMU every packet costs a MAP and an UNMAP request:
# give slow (emulated, nested) hosts time.
while [ $i -lt 300 ]; do
	if wget -q -O /tmp/ack http://169.254.77.1:8080/ack 2>/dev/null; then
		echo "NBL2: net tx acked $(cat /tmp/ack)"
		exit 0
	fi
	sleep 1
	i=$((i + 1))
done
echo "NBL2: FAIL no ack from L1"
exit 1
