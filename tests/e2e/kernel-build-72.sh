#!/bin/sh
# Linux 7.2 from source: 'kernel build --source debian:7.2' builds sid's
# linux-source-7.2 with this machine's gcc (12 on bookworm; Linux 7.2
# wants gcc 8 or newer) and kernel-patches/configs/qemu-bench.config on
# tinyconfig, every fragment line kept; the kernel boots under 'vm run'
# with strict, lazy and identity verified on the NVMe disk behind an
# emulated VT-d, and dmabench.ko for it builds on the host (no chroot:
# the kernel's compiler is the machine's) and maps through a strict
# domain.  Only with IB_CHECK_KERNEL=1, which 'make check-kernel' sets:
# the first build takes about an hour on two shared cores
# (docs/kernel-build.md); later runs find it cached by key.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

[ "${IB_CHECK_KERNEL:-0}" = 1 ] ||
	skip_all "builds Linux 7.2 from source (long): 'make check-kernel' runs it"
require_vm
plan 15

# The default name (debian-7.2-<key>) is the one a plain 'kernel build
# --source debian:7.2' installs: the test and the user share the build.
# IB_SRC72_PREBUILT=NAME takes a kernel built so as it is (while
# developing: another build in the slot makes the key check wait for it).
if [ -n "${IB_SRC72_PREBUILT:-}" ]; then
	"$IB" kernel path "$IB_SRC72_PREBUILT" \
		> "$TEST_TMP/build.out" 2> "$TEST_TMP/build.err"
else
	"$IB" kernel build --source debian:7.2 \
		> "$TEST_TMP/build.out" 2> "$TEST_TMP/build.err"
fi
echo $? > "$TEST_TMP/build.rc"
sed 's/^/# /' "$TEST_TMP/build.err" | tail -8
check "7.2 builds from Debian's linux-source-7.2" rc_is build 0
K=$(cat "$TEST_TMP/build.out")
[ -d "$K" ] || bail "no kernel directory for 7.2"
KN=$(basename "$K")

check "every line of the qemu-bench fragment is kept on 7.2" \
	sh -c "! grep -q 'did not stick' '$TEST_TMP/build.err'"
host_cc=$(gcc --version | head -n 1)
echo "# this machine: $host_cc; the kernel: $(grep '^CONFIG_CC_VERSION_TEXT=' "$K/config")"
check "it was built with this machine's gcc" \
	grep -qxF "CONFIG_CC_VERSION_TEXT=\"$host_cc\"" "$K/config"
check "its release is 7.2.x-iommubench" \
	sh -c "sed -n 's/.*\"release\": *\"\([^\"]*\)\".*/\1/p' '$K/kernel.json' |
	       grep -qx '7\.2\.[0-9]*-iommubench'"

policy_cases "$KN" intel

"$IB" kernel modules "$K" > "$TEST_TMP/mod.out" 2> "$TEST_TMP/mod.err"
echo $? > "$TEST_TMP/mod.rc"
sed 's/^/# /' "$TEST_TMP/mod.err"
check "dmabench.ko builds for it" rc_is mod 0
check "... on the host, not in a chroot" \
	sh -c "! grep -q chroot '$TEST_TMP/mod.err'"
check "... with the kernel's vermagic" \
	sh -c "modinfo -F vermagic \"\$(cat '$TEST_TMP/mod.out')\" |
	       grep -q '^7\.2\.[0-9]*-iommubench '"

vm dmabench --kernel "$K" --disk none --testdev --policy strict -- \
	"dmabench --device 0000:00:05.0 --ops 2000 --json | grep -o '\"iommu_domain\": *\"[^\"]*\"'"
check "dmabench runs on it" rc_is dmabench 0
check "dmabench maps pci-testdev through a DMA (strict) domain" \
	out_has dmabench '"iommu_domain": *"DMA"'
finish
