# A DMA of the assigned edu from an IOVA nothing maps: L1's SMMU walks
# L2's stage 1 (nested), faults, and the event reaches this kernel's
# arm-smmu-v3 driver through nestbox (vEVENTQ -> event queue).
/l2bin/edu-probe --dma-fault 0x0ff00000 | sed 's/^/NBL2: /'
i=0
until dmesg | grep -q 'event 0x10 received' || [ $i -ge 20 ]; do
	sleep 0.5
	i=$((i + 1))
done
dmesg | grep -A6 'event 0x10 received' | sed 's/^/NBL2: dmesg: /'
dmesg | grep -q 'event 0x10 received'
