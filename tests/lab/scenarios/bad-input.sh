# lab: timeout=300
# Each kind of bad input gets one clear line on stderr and a non-zero
# status; nothing hangs or crashes.
K=$L2_LAB_KERNEL
I=$L2_LAB_INITRD

run_vmm help --help
expect_rc help 0
grep -q "usage: nestbox run" /tmp/help.out || fail "--help prints no usage"
run_vmm version --version
expect_rc version 0
grep -q "^nestbox [0-9]" /tmp/version.out || fail "--version prints no version"

run_vmm usage run --kernel "$K" --frobnicate
expect_rc usage 2
expect_one_line usage
expect_err usage "unknown option '--frobnicate'"

run_vmm nokernel run --kernel /nonexistent/Image
expect_rc nokernel 1
expect_one_line nokernel
expect_err nokernel "--kernel /nonexistent/Image: No such file or directory"

run_vmm dirkernel run --kernel /lab
expect_rc dirkernel 1
expect_one_line dirkernel
expect_err dirkernel "not a regular file"

run_vmm noinitrd run --kernel "$K" --initrd /nonexistent.cpio
expect_rc noinitrd 1
expect_one_line noinitrd
expect_err noinitrd "--initrd /nonexistent.cpio: No such file"

: >/tmp/empty.cpio
run_vmm emptyinitrd run --kernel "$K" --initrd /tmp/empty.cpio
expect_rc emptyinitrd 1
expect_one_line emptyinitrd
expect_err emptyinitrd "the file is empty"

run_vmm notimage run --kernel /bin/busybox
expect_rc notimage 1
expect_one_line notimage
expect_err notimage "not an arm64 Linux Image"

{ printf '\037\213\010\000'; head -c 4096 /dev/zero; } >/tmp/Image.gz
run_vmm gzimage run --kernel /tmp/Image.gz
expect_rc gzimage 1
expect_one_line gzimage
expect_err gzimage "gzip-compressed"

head -c 40 "$K" >/tmp/short
run_vmm short run --kernel /tmp/short
expect_rc short 1
expect_one_line short
expect_err short "too short"

run_vmm memsmall run --kernel "$K" --memory 16M
expect_rc memsmall 1
expect_one_line memsmall
expect_err memsmall "less than the minimum"

dd if=/dev/zero of=/tmp/big.cpio bs=1048576 count=40 2>/dev/null
run_vmm memfit run --kernel "$K" --initrd /tmp/big.cpio --memory 32M
expect_rc memfit 1
expect_one_line memfit
expect_err memfit "too small"

run_vmm memhost run --kernel "$K" --memory 64G
expect_rc memhost 1
expect_one_line memhost
expect_err memhost "more than this host's"

run_vmm memipa run --kernel "$K" --memory 16777215T
expect_rc memipa 1
expect_one_line memipa
expect_err memipa "guest physical address space"

run_vmm cpus run --kernel "$K" --cpus 513
expect_rc cpus 1
expect_one_line cpus
expect_err cpus "at most 512 vCPUs"

run_vmm badsize run --kernel "$K" --memory 12Q
expect_rc badsize 2
expect_one_line badsize

run_vmm badconsole run --kernel "$K" --console file:/nonexistent/dir/log
expect_rc badconsole 1
expect_one_line badconsole
expect_err badconsole "/nonexistent/dir/log"

run_vmm badiommu run --kernel "$K" --iommu smmu
expect_rc badiommu 2
expect_one_line badiommu
expect_err badiommu "--iommu 'smmu': expected virtio"

: >/tmp/bad.img
dd if=/dev/zero of=/tmp/bad.img bs=4096 count=16 2>/dev/null
run_vmm iommuon run --kernel "$K" --disk /tmp/bad.img,iommu=on
expect_rc iommuon 1
expect_one_line iommuon
expect_err iommuon "iommu=on needs --iommu"

run_vmm iommusplit run --kernel "$K" --iommu virtio \
	--disk /tmp/bad.img,bus=bridge --rng=bridge,iommu=off
expect_rc iommusplit 1
expect_one_line iommusplit
expect_err iommusplit "behind the PCIe-to-PCI bridge share one requester ID"

mv /dev/kvm /dev/kvm.hidden
run_vmm nokvm run --kernel "$K" --initrd "$I"
mv /dev/kvm.hidden /dev/kvm
expect_rc nokvm 1
expect_one_line nokvm
expect_err nokvm "cannot open /dev/kvm: No such file or directory"
