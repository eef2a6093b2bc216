# Keep the guest (and its drivers' interrupts) alive a little longer, for
# observers in L1.
sleep 6
