# Who answers a read of the assigned e1000e's MSI-X table (no driver bound
# in L2; the enable bit stays off): L2 writes vector 0's message address
# and reads it back. When the table page traps, nestbox's emulated entry
# answers (the value just written); with msix-mmap=ro the read goes to the
# device, whose real entry the trapped write never changed.
nic=$(for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/device)" = 0x10d3 ] && basename $d; done | head -1)
[ -n "$nic" ] || { echo "NBL2: FAIL no e1000e"; exit 1; }
echo 1 >"/sys/bus/pci/devices/$nic/enable"
addr=$(/l2bin/bar-read "$nic" 3 0 0x12345000)
echo "NBL2: msix vector 0 address $addr"
