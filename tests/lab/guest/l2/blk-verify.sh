# After a fresh boot: the pattern written by blk-write is still there.
want=$(yes nestbox-blk-pattern-0123456789 | head -c 8388608 | md5sum | cut -d' ' -f1)
got=$(dd if=/dev/vda bs=65536 count=128 2>/dev/null | md5sum | cut -d' ' -f1)
echo "NBL2: blk sum=$got"
[ "$got" = "$want" ]
