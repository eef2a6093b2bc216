# lab: timeout=300
# lab-qemu: -device edu
# A bare payload (--payload: a flat binary, DTB in x0) on nestbox: bench/irq's
# interrupt-latency payload sets up the GIC and ITS itself, finds --testdev on
# PCI, and measures an MMIO round trip, doorbell -> ioeventfd -> loop ->
# irqfd -> LPI, KVM_SIGNAL_MSI -> LPI, an ITS INT, SGIs between two vCPUs,
# the virtual timer, and an assigned edu's MSI (its raise register -> VFIO
# eventfd -> irqfd -> LPI). Every test must produce figures, none may fail.
EDU=$(find_fn 0x1234 0x11e8)
bind_vfio "$EDU"
run_vmm irq run -v --payload /lab/payloads/irqbench.bin --testdev --cpus 2 \
	--memory 64M --vfio "$EDU"
grep IRQBENCH /tmp/irq.out
expect_rc irq 0
for t in mmio doorbell inject its-int ipi ipi-rtt timer edu; do
	expect_out irq "IRQBENCH test=$t n=200 min=[0-9]* p50=[1-9]"
done
expect_out irq "IRQBENCH done failures=0"
if grep -q "IRQBENCH FAIL" /tmp/irq.out; then fail "a test failed"; fi
ok "no IRQBENCH FAIL line"
# A payload address outside RAM is refused with one line.
run_vmm badaddr run --payload /lab/payloads/irqbench.bin,addr=0x1000
expect_rc badaddr 1
expect_one_line badaddr
expect_err badaddr "not a 4-byte aligned address in guest RAM"
