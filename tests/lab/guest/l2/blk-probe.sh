# Whether the disk's DMA works at all (bypass tests): read 64 KiB.
if [ -b /dev/vda ] && dd if=/dev/vda of=/dev/null bs=4096 count=16 2>/dev/null; then
	echo "NBL2: blk readable"
else
	echo "NBL2: blk not readable"
fi
