# The guest's own virtio_rng driver serves /dev/hwrng from nestbox.
hw=/sys/devices/virtual/misc/hw_random
# Another source (the host's SMCCC TRNG) may have registered first, e.g.
# when the virtio device's probe waited for its IOMMU: pick ours.
v=$(tr ' ' '\n' <$hw/rng_available 2>/dev/null | grep '^virtio_rng' | head -1)
[ -z "$v" ] || echo "$v" >$hw/rng_current
cur=$(cat $hw/rng_current 2>/dev/null)
echo "NBL2: hwrng current=$cur"
case "$cur" in virtio_rng*) ;; *) echo "NBL2: FAIL no virtio hwrng"; exit 1 ;; esac
n=$(head -c 65536 /dev/hwrng | wc -c)
echo "NBL2: hwrng bytes=$n"
[ "$n" = 65536 ] || exit 1
# Two reads must differ: it is entropy, not a constant.
a=$(head -c 32 /dev/hwrng | md5sum)
b=$(head -c 32 /dev/hwrng | md5sum)
[ "$a" != "$b" ] || { echo "NBL2: FAIL hwrng repeats"; exit 1; }
exit 0
