# lab: timeout=300
# Input typed into the L2 shell reaches it through the UART's receive path
# and the shell's output comes back: the console is two-way.
mkfifo /tmp/in
timeout -s KILL 200 /bin/nestbox run --kernel "$L2_LAB_KERNEL" \
	--initrd "$L2_LAB_INITRD" --memory 256M --cmdline "console=ttyAMA0 quiet" \
	</tmp/in >/tmp/echo.raw 2>/tmp/echo.err &
pid=$!
exec 3>/tmp/in
wait_for /tmp/echo.raw "NBL2: shell ready" 120 || { cat /tmp/echo.raw; fail "no L2 shell"; }
ok "L2 shell is up"
sleep 1
# The shell computes 6*7: only a shell that received the line prints 42.
echo 'echo "typed-$((6*7))-back"' >&3
wait_for /tmp/echo.raw "typed-42-back" 60 || { cat /tmp/echo.raw; fail "typed line not echoed"; }
ok "typed input reached the L2 shell and its answer came back"
# A longer burst than the UART FIFO holds (back-pressure, nothing lost).
long=$(printf 'x%.0s' $(seq 1 200))
echo "echo LEN=\$(echo $long | wc -c)" >&3
wait_for /tmp/echo.raw "LEN=201" 60 || { cat /tmp/echo.raw; fail "200-byte line was cut"; }
ok "a 200-byte line arrived whole"
echo 'poweroff -f' >&3
wait $pid
RC=$?
exec 3>&-
[ $RC = 0 ] || { cat /tmp/echo.err; fail "exit status $RC after poweroff"; }
ok "exit status 0"
