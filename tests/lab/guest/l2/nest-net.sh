# The assigned e1000e (brought up by vfio-l2) under load: 4 MiB from L1's
# httpd, checksummed. In strict mode L2's driver maps and unmaps every
# receive buffer in its stage-1 tables, which L1's SMMU walks (nested).
ifc=$(ls /sys/class/net | grep -v lo | head -1)
got=$(wget -q -O - http://169.254.78.1:8080/data | md5sum | cut -d' ' -f1)
echo "NBL2: nest rx sum=$got"
grep -E "$ifc" /proc/interrupts | sed 's/^/NBL2: irq /'
