# Write 8 MiB of a known pattern to /dev/vda through the guest's virtio_blk
# driver, flush, drop the guest's cache and read it back.
dev=/dev/vda
[ -b $dev ] || { echo "NBL2: FAIL no $dev"; ls /dev; exit 1; }
echo "NBL2: blk size=$(cat /sys/block/vda/size) ro=$(cat /sys/block/vda/ro)"
yes nestbox-blk-pattern-0123456789 | head -c 8388608 >/tmp/pat
want=$(md5sum </tmp/pat | cut -d' ' -f1)
dd if=/tmp/pat of=$dev bs=65536 conv=fsync 2>/dev/null || { echo "NBL2: FAIL write"; exit 1; }
blockdev --flushbufs $dev
got=$(dd if=$dev bs=65536 count=128 2>/dev/null | md5sum | cut -d' ' -f1)
echo "NBL2: blk sum=$got"
[ "$got" = "$want" ]
