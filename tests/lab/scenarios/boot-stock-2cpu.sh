# lab: timeout=400
# L2 with Debian's stock arm64 kernel boots with 2 vCPU(s), all online,
# and loads its virtio modules from the initramfs.
L2_TIMEOUT=300
boot_and_count "$L2_STOCK_KERNEL" "$L2_STOCK_INITRD" 2
expect_out "boot-2" "NBL2: modules loaded: virtio"
grep -q "modprobe .* failed" /tmp/boot-2.out && fail "a module failed to load"
ok "modules loaded"
