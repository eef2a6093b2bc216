# lab: timeout=300
# SIGTERM to nestbox while the guest runs: clean shutdown, status 128+15.
timeout -s KILL 200 /bin/nestbox run --kernel "$L2_LAB_KERNEL" \
	--initrd "$L2_LAB_INITRD" --cpus 2 --memory 256M \
	--cmdline "console=ttyAMA0 quiet" </dev/null >/tmp/term.out 2>/tmp/term.err &
pid=$!
wait_for /tmp/term.out "NBL2: shell ready" 120 || { cat /tmp/term.out; fail "no L2 shell"; }
kill -TERM $pid
wait $pid
RC=$?
cat /tmp/term.err
[ $RC = 143 ] || fail "exit status $RC after SIGTERM, expected 143"
ok "SIGTERM: exit status 143"
