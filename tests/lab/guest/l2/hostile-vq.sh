# Take virtio-blk over from inside the guest, give it a looping descriptor
# chain and kick: the device must report DEVICE_NEEDS_RESET while the
# console (this very output) and the virtio-rng device keep working.
vq-attack 0x1042 || { echo "NBL2: FAIL no NEEDS_RESET"; exit 1; }
n=$(head -c 4096 /dev/hwrng | wc -c)
echo "NBL2: hwrng after the attack bytes=$n"
[ "$n" = 4096 ] || exit 1
echo "NBL2: console still works"
