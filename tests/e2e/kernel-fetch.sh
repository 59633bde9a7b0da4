#!/bin/sh
# iommubench kernel fetch/list: Debian kernels as data.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

require_vm
plan 12

check "fetch debian:6.1 and debian:6.12" "$IB" kernel fetch debian:6.1 debian:6.12
"$IB" kernel list > "$TEST_TMP/list"
sed 's/^/# /' "$TEST_TMP/list"
check "list shows debian-6.1 with its 6.1 release" \
	grep -Eq '^debian-6\.1 +6\.1\.[0-9]+-[0-9]+-amd64 +debian +6\.1\.' "$TEST_TMP/list"
check "list shows debian-6.12 from backports" \
	grep -Eq '^debian-6\.12 +6\.12\.[0-9]+.*-amd64 +debian +6\.12\..*bpo' "$TEST_TMP/list"

k61=$("$IB" kernel path debian:6.1)
k612=$("$IB" kernel path debian:6.12)
rel=$(sed -n 's/^  "release": "\(.*\)",$/\1/p' "$k61/kernel.json")
check "kernel.json records release and exact package version" \
	grep -q '"version": "6\.1\.' "$k61/kernel.json"
check "vmlinuz, config and depmod'ed modules are there" \
	test -s "$k61/vmlinuz" -a -s "$k61/config" -a -s "$k61/lib/modules/$rel/modules.dep"
check "the modules of 6.12 are indexed too" \
	sh -c "grep -q '/virtio-iommu.ko' $k612/lib/modules/*/modules.dep"
check "headers are usable: the arch Makefile includes the extracted common tree" \
	sh -c "grep -q '^include $k61/root/usr/src/linux-headers-.*-common/Makefile' $k61/build/Makefile"
codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release)
uri=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' |
	awk -v c="$codename" '$2 == c && $3 == "main" { print $1; exit }')
check "the private apt source is the machine's own mirror, plus backports" \
	grep -qx "URIs: $uri" "${k61%/kernels/*}/apt/sources.list.d/iommubench.sources"
check "fetching again is a no-op" "$IB" -q kernel fetch debian:6.1

"$IB" kernel fetch debian:latest > /dev/null 2>&1
check "a malformed debian spec is a usage error" test $? = 2
"$IB" kernel fetch debian:2.6 > /dev/null 2> "$TEST_TMP/err"
check "a series Debian does not have fails, naming it" grep -q 'no linux-image-amd64 2.6' "$TEST_TMP/err"
"$IB" kernel path no-such-kernel > /dev/null 2> "$TEST_TMP/err"
check "an unknown kernel name fails with a hint" grep -q 'kernel list' "$TEST_TMP/err"
finish
