#!/bin/sh
# A series that does not apply never corrupts the build slot of its source
# (docs/kernel-build.md, "Series"): 6.12's series on Debian's 6.1 fails
# before the slot's tree is touched, naming the patch and each failed
# hunk's file; 6.1's series then applies and a build without a series gets
# the pristine source back.  A tree that differs from its record - hunks of
# a wrong series left behind, as an older iommubench did - is copied afresh.
# 'kernel build --prepare-only' stops before compiling, so no kernel is
# compiled here.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "fetching Debian's linux-source uses the private apt view (root)"
plan 23

KP="$top_srcdir/kernel-patches"
# The slot is private to this test; the pristine source and apt's view are
# the usual cache's (fetched once, never modified).
shared=${IOMMUBENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iommubench}
mkdir -p "$TEST_TMP/cache"
for d in src apt debs; do
	mkdir -p "$shared/$d"
	ln -s "$shared/$d" "$TEST_TMP/cache/$d"
done
IOMMUBENCH_CACHE="$TEST_TMP/cache"
export IOMMUBENCH_CACHE
SRC="$shared/src/linux-source-6.1"
SLOT="$TEST_TMP/cache/kbuild/debian-6.1"
WORK="$SLOT/src"

# patches SERIES: the numbered patches the series file lists
patches() {
	for p in $(grep '^0' "$1"); do
		echo "$(dirname "$1")/$p"
	done
}

# Every file either series touches: the files to compare.
FILES=$(sed -n -e 's|^--- a/||p' -e 's|^+++ b/||p' \
	$(patches "$KP/6.1/series") $(patches "$KP/6.12/series") |
	sed 's/\t.*//' | sort -u)

# build NAME [--series FILE]: kernel build --prepare-only of debian:6.1
build() {
	name=$1
	shift
	"$IB" kernel build --source debian:6.1 --prepare-only "$@" \
		> "$TEST_TMP/$name.out" 2> "$TEST_TMP/$name.err"
	echo $? > "$TEST_TMP/$name.rc"
	sed 's/^/# /' "$TEST_TMP/$name.err" | tail -8
}

# tree_is [SERIES]: the slot's tree holds the pristine source with SERIES
# applied (none: pristine), as far as any file of either series goes.
tree_is() {
	ref="$TEST_TMP/ref"
	rm -rf "$ref"
	mkdir "$ref"
	for f in $FILES; do
		[ -f "$SRC/$f" ] || continue
		mkdir -p "$ref/$(dirname "$f")"
		cp "$SRC/$f" "$ref/$f"
	done
	for p in $([ $# = 0 ] || patches "$1"); do
		patch -d "$ref" -p1 -s -N -r - -i "$p" > /dev/null || return 1
	done
	for f in $FILES; do
		if [ -f "$ref/$f" ]; then
			cmp -s "$ref/$f" "$WORK/$f" ||
				{ echo "# $f differs"; return 1; }
		elif [ -e "$WORK/$f" ]; then
			echo "# $f should not be there"
			return 1
		fi
	done
}

# leave_hunks: what an older iommubench left after 6.12's series failed:
# the hunks of its first patch that apply are in the tree.
leave_hunks() {
	patch -d "$WORK" -p1 -s -N -r - -i "$(patches "$KP/6.12/series" | head -n 1)" \
		> /dev/null
	! tree_is > /dev/null
}

build none
check "no series: --prepare-only exits 0 and prints the source tree" \
	sh -c "[ \"\$(cat '$TEST_TMP/none.rc')\" = 0 ] && [ \"\$(cat '$TEST_TMP/none.out')\" = '$WORK' ]"
check "no series: the tree is the pristine source" tree_is
check "--prepare-only: the .config is ready" [ -s "$SLOT/obj/.config" ]
check "--prepare-only: nothing compiled" [ ! -e "$SLOT/obj/vmlinux" ]

build wrong --series "$KP/6.12/series"
check "6.12's series on 6.1 fails" rc_is wrong 1
check "the error names the patch that does not apply" \
	err_has wrong 'kernel-patches/6.12/000[1-9]-[^ ]*\.patch does not apply to debian:6.1='
check "the error names the file and line of each failed hunk" \
	err_has wrong '^iommubench:   drivers/iommu/iommu\.c: Hunk #[0-9]* FAILED at [0-9]*'
check "the failed series left the tree pristine" tree_is
check "the failed series left the record empty" [ ! -s "$SLOT/applied/list" ]

build right --series "$KP/6.1/series"
check "6.1's series then applies" rc_is right 0
check "the tree holds 6.1's series" tree_is "$KP/6.1/series"

build none2
check "no series after a series: exits 0" rc_is none2 0
check "no series after a series: the tree is pristine again" tree_is

# Hunks of a wrong series in a tree whose record says nothing is applied.
check "the defect's state: hunks of 6.12's first patch in the tree" leave_hunks
build stale
check "a tree that differs from its record: no series still builds" rc_is stale 0
check "... saying which file differs, and copying the source afresh" \
	err_has stale 'src: [^ ]* differs from the record .*copying the source afresh'
check "... and the tree is pristine" tree_is

# The same in a slot made by an older iommubench: no record of the tree.
rm -f "$SLOT/applied/state"
check "the defect's state again, without a record" leave_hunks
build old --series "$KP/6.1/series"
check "a slot without a record: 6.1's series applies" rc_is old 0
check "... after copying the source afresh" err_has old 'no record of what the tree holds'
check "... and the tree holds 6.1's series" tree_is "$KP/6.1/series"

build same --series "$KP/6.1/series"
check "the same series again: exits 0" rc_is same 0
check "... without copying or patching the tree" \
	sh -c "! grep -q 'copying\|apply cleanly' '$TEST_TMP/same.err'"
finish
