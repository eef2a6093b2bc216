# A read-only disk: the kernel sees it read-only and writes fail.
echo "NBL2: blk ro=$(cat /sys/block/vda/ro)"
[ "$(cat /sys/block/vda/ro)" = 1 ] || exit 1
if dd if=/dev/zero of=/dev/vda bs=4096 count=16 conv=fsync 2>/dev/null; then
	echo "NBL2: FAIL write to a read-only disk succeeded"
	exit 1
fi
dd if=/dev/vda bs=65536 count=16 2>/dev/null | md5sum | cut -d' ' -f1 | sed 's/^/NBL2: blk sum=/'
exit 0
