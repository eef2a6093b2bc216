# lab: timeout=300
# A guest that KVM cannot run on (a load-pair from MMIO has no valid
# syndrome) ends nestbox with status 3 and a register dump.
run_vmm crash run --kernel /lab/payloads/mmio-ldp.bin --memory 64M
expect_rc crash 3
expect_out crash "P"
expect_err crash "guest crashed: vCPU 0"
expect_err crash "registers:"
expect_err crash "  pc "
expect_err crash "  esr_el1 "
# x2 held the UART address when the guest died.
expect_err crash "x2  0000000009000000"
