# lab: timeout=300 keys=console-tty.keys
# nestbox on a real terminal (L1's serial console, typed into by the lab
# runner): raw mode, input to the L2 shell, Ctrl-A x to quit, and the
# terminal settings restored afterwards, also after a guest crash and a
# SIGTERM.
[ -t 0 ] || fail "stdin is not a terminal"
ok "stdin is a terminal"
before=$(stty -g)
# Bounded: if raw mode were broken, Ctrl-A x would sit in a line buffer.
timeout -s KILL 120 /bin/nestbox run --kernel "$L2_LAB_KERNEL" \
	--initrd "$L2_LAB_INITRD" --memory 256M --cmdline "console=ttyAMA0 quiet"
rc=$?
[ "$rc" = 0 ] || fail "Ctrl-A x: exit status $rc"
ok "Ctrl-A x: exit status 0"
[ "$(stty -g)" = "$before" ] || fail "terminal not restored after Ctrl-A x"
ok "terminal restored after Ctrl-A x"

/bin/nestbox run --kernel /lab/payloads/mmio-ldp.bin --memory 64M 2>/tmp/crash.err
rc=$?
[ "$rc" = 3 ] || fail "crash on a tty: exit status $rc"
[ "$(stty -g)" = "$before" ] || fail "terminal not restored after a guest crash"
ok "terminal restored after a guest crash"

( sleep 15; killall -TERM nestbox ) &
/bin/nestbox run --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 256M --cmdline "console=ttyAMA0 quiet"
rc=$?
[ "$rc" = 143 ] || fail "SIGTERM on a tty: exit status $rc"
[ "$(stty -g)" = "$before" ] || fail "terminal not restored after SIGTERM"
ok "terminal restored after SIGTERM"
