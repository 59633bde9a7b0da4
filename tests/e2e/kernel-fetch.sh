#!/bin/sh
# iommubench kernel fetch/list: Debian kernels as data, by series or suite.
# The versions chosen are checked against apt-cache madison run through the
# same private apt view, so the test holds whatever the mirror carries.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

require_vm
plan 26

"$IB" kernel fetch debian:6.1 debian:6.12 debian:7.2 debian:trixie \
	> "$TEST_TMP/fetch.out" 2> "$TEST_TMP/fetch.err"
check "fetch debian:6.1, debian:6.12, debian:7.2 and debian:trixie" test $? = 0
sed 's/^/# /' "$TEST_TMP/fetch.err"
"$IB" kernel list > "$TEST_TMP/list"
sed 's/^/# /' "$TEST_TMP/list"

k61=$("$IB" kernel path debian:6.1)
k612=$("$IB" kernel path debian:6.12)
k72=$("$IB" kernel path debian:7.2)
ktrixie=$("$IB" kernel path debian:trixie)
# The cache directory as iommubench finds it (lib/util.c, cache_dir()).
cache=${IOMMUBENCH_CACHE:-${XDG_CACHE_HOME:+$XDG_CACHE_HOME/iommubench}}
cache=${cache:-${HOME:-/root}/.cache/iommubench}
apt_dir=$cache/apt

# The private view, read with apt-cache alone (its own cache file, none
# shared with the code under test).
view() {
	apt-cache -o "Dir::Etc::SourceList=$apt_dir/sources.list" \
		-o "Dir::Etc::SourceParts=$apt_dir/sources.list.d" \
		-o "Dir::State::Lists=$apt_dir/lists" \
		-o "Dir::Cache=$apt_dir/cache" \
		-o "Dir::Cache::pkgcache=$TEST_TMP/pkgcache.bin" \
		-o Dir::State::status=/dev/null -o Debug::NoLocking=1 -qq "$@"
}

# @1 as an extended regular expression matching itself.
esc() {
	printf '%s\n' "$1" | sed 's/[][\.*^$+?(){}|]/\\&/g'
}

# "version suite" lines on stdin: print the newest (dpkg's order), first
# of equals.
newest() {
	best=
	while read -r v s; do
		if [ -z "$best" ] || dpkg --compare-versions "$v" gt "${best% *}"; then
			best="$v $s"
		fi
	done
	echo "$best"
}

# madison's "pkg | version | URI suite/main amd64 Packages" as "version suite".
ver_suite() {
	awk -F' *[|] *' '{ split($3, u, " "); sub("/.*", "", u[2]); print $2, u[2] }'
}

# Generic amd64 images of series $1, as "version suite".
series_versions() {
	view madison $(view pkgnames "linux-image-$1" |
		grep -E "^linux-image-$(esc "$1")[.+~-].*-amd64\$" |
		grep -Ev -- '-(cloud|rt)-amd64$') | ver_suite |
		grep -E "^$(esc "$1")[.+~-]"
}

codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release)

# The newest of series $1 in the machine's own release, else anywhere.
series_newest() {
	series_versions "$1" > "$TEST_TMP/versions"
	own=$(grep -E " $codename(-[a-z]+)?\$" "$TEST_TMP/versions" | newest)
	[ -n "$own" ] && echo "$own" || newest < "$TEST_TMP/versions"
}

meta() {
	sed -n "s/^  \"$2\": \"\(.*\)\",\{0,1\}\$/\1/p" "$1/kernel.json"
}

# A cached kernel is kept; a newer one is reported, not fetched.
has_newest() {
	want=$1
	dir=$2
	[ -n "$want" ] || return 1
	[ "$(meta "$dir" version) $(meta "$dir" suite)" = "$want" ] ||
		grep -Eq "$(basename "$dir") is cached with .*; $(esc "${want% *}") \(.*\) from ${want#* } is newer: 'iommubench kernel fetch --refresh" \
			"$TEST_TMP/fetch.err"
}

want72=$(series_newest 7.2)
echo "# newest 7.2: $want72"
check "debian:7.2 is the newest 7.2 image in any suite ($want72)" \
	test -n "$want72" -a "$(meta "$k72" version) $(meta "$k72" suite)" = "$want72"
rel72=$(meta "$k72" release)
check "debian:7.2 comes in the split layout (linux-binary, -modules, -base)" \
	sh -c "grep -q '\"linux-binary-$rel72=' $k72/kernel.json &&
	       grep -q '\"linux-modules-$rel72=' $k72/kernel.json &&
	       grep -q '\"linux-base-$rel72=' $k72/kernel.json"
check "7.2: vmlinuz and config are taken from /usr/lib/modules" \
	test -s "$k72/vmlinuz" -a -s "$k72/config"
check "7.2: the compressed modules are depmod'ed" \
	grep -q '/nvme\.ko\.xz:' "$k72/lib/modules/$rel72/modules.dep"
check "7.2: headers and kbuild are there, the Makefile points at the extracted tree" \
	sh -c "grep -q '\"linux-kbuild-' $k72/kernel.json &&
	       grep -q '^include $k72/root/usr/src/linux-headers-.*-common/Makefile' $k72/build/Makefile"

want612=$(series_newest 6.12)
echo "# newest 6.12 (the machine's own release first): $want612"
check "debian:6.12 is (or is reported as) the newest 6.12 of $codename ($want612)" \
	has_newest "$want612" "$k612"
want61=$(series_newest 6.1)
echo "# newest 6.1: $want61"
check "debian:6.1 is (or is reported as) the newest 6.1 across $codename and its security suite ($want61)" \
	has_newest "$want61" "$k61"

wanttrixie=$(view madison linux-image-amd64 | ver_suite |
	grep -E ' trixie(-updates|-security)?$' | newest)
echo "# trixie's linux-image-amd64, newest across trixie, -updates, -security: $wanttrixie"
check "debian:trixie is the newest default kernel of trixie and its -updates/-security ($wanttrixie)" \
	test -n "$wanttrixie" -a "$(meta "$ktrixie" version) $(meta "$ktrixie" suite)" = "$wanttrixie"
view show "linux-image-amd64=${wanttrixie% *}" > "$TEST_TMP/trixie.show"
check "debian:trixie's image is what its linux-image-amd64 depends on" \
	grep -Fq "linux-image-$(meta "$ktrixie" release) (= ${wanttrixie% *})" \
		"$TEST_TMP/trixie.show"

check "list shows suite and version of debian-7.2" \
	grep -Eq "^debian-7\.2 +$(esc "$rel72") +debian +${want72#* } +$(esc "${want72% *}") " \
		"$TEST_TMP/list"
check "list shows debian-6.1 with its release, suite and version" \
	grep -Eq "^debian-6\.1 +6\.1\.[0-9]+-[0-9]+-amd64 +debian +$codename(-[a-z]+)? +6\.1\." "$TEST_TMP/list"
check "list shows debian-trixie from trixie" \
	grep -Eq "^debian-trixie +.*-amd64 +debian +trixie(-[a-z]+)? +6\." "$TEST_TMP/list"
check "the modules of 6.12 are indexed too" \
	sh -c "grep -q '/virtio-iommu.ko' $k612/lib/modules/*/modules.dep"
rel61=$(meta "$k61" release)
check "6.1: vmlinuz, config and depmod'ed modules are there" \
	test -s "$k61/vmlinuz" -a -s "$k61/config" -a -s "$k61/lib/modules/$rel61/modules.dep"
check "6.1: headers are usable: the arch Makefile includes the extracted common tree" \
	sh -c "grep -q '^include $k61/root/usr/src/linux-headers-.*-common/Makefile' $k61/build/Makefile"

uris=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' |
	awk -v c="$codename" '($2 == c || $2 == c "-security") && $3 == "main" { print $1 }')
src=$apt_dir/sources.list.d/iommubench.sources
sed -n 's/^URIs: //p' "$src" > "$TEST_TMP/uris"
check "the private view uses only the machine's own mirror URIs" \
	sh -c "[ -s $TEST_TMP/uris ] && for u in \$(cat $TEST_TMP/uris); do
		echo '$uris' | grep -qxF \"\$u\" || exit 1; done"
check "the view holds the suites the kernels came from" \
	sh -c "grep '^Suites:' $src | grep -qw sid && grep '^Suites:' $src | grep -qw trixie-security"

cp "$k72/kernel.json" "$TEST_TMP/k72.json"
check "fetching a current kernel again is a no-op" "$IB" -q kernel fetch debian:7.2
check "... and leaves it as it was" cmp -s "$k72/kernel.json" "$TEST_TMP/k72.json"

vm boot72 --kernel debian:7.2 --iommu intel --policy lazy -- \
	cat /sys/kernel/iommu_groups/*/type
check "debian:7.2 boots behind VT-d" rc_is boot72 0
check "7.2: the suite verifies lazy mode" err_has boot72 'policy lazy verified: 0000:00:04.0'

"$IB" kernel fetch debian:6.1/x > /dev/null 2>&1
check "a malformed debian spec is a usage error" test $? = 2
"$IB" kernel fetch debian:no-such-suite > /dev/null 2> "$TEST_TMP/err"
check "a suite the mirror does not have fails, naming it" \
	grep -q "suite 'no-such-suite'" "$TEST_TMP/err"
"$IB" kernel fetch debian:2.6 > /dev/null 2> "$TEST_TMP/err"
check "a series Debian does not have fails, naming it" \
	grep -q 'no Debian kernel of series 2\.6' "$TEST_TMP/err"
"$IB" kernel path no-such-kernel > /dev/null 2> "$TEST_TMP/err"
check "an unknown kernel name fails with a hint" grep -q 'kernel list' "$TEST_TMP/err"
finish
