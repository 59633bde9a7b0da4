#!/bin/sh
# synthetic-history.sh [DIR] - a small kernel git history with one planted
# regression, for testing 'iommubench commits' and 'iommubench bisect'.
#
# DIR (default <cache>/synth/linux-6.1) becomes a git tree of Debian's
# linux-source-6.1 with five commits:
#
#   1  the source as Debian ships it
#   2  kernel-patches/6.1 patch 1 (iommu.policy=)       git am
#   3  kernel-patches/6.1 patch 2 (iommu_dma_policy)    git am
#   4  iommu/dma: a 5 us delay in __iommu_dma_unmap()   the planted regression
#   5  iommu/iova: a typo fixed in a comment             compiled, harmless
#
# Names and dates are fixed, so the commit ids are the same on every
# machine with the same linux-source version and patches.  An existing tree
# whose HEAD carries the marker is reused.  Prints DIR.
set -eu

top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
IB=${IB:-$top/iommubench}
cache=${IOMMUBENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iommubench}
dir=${1:-$cache/synth/linux-6.1}
marker="Synthetic-history: iommubench 1"

if [ -d "$dir/.git" ] &&
   git -C "$dir" log -1 --format=%B HEAD 2>/dev/null | grep -qx "$marker"; then
	echo "$dir"
	exit 0
fi

# The pristine source: extracted by 'kernel build' on first use.
"$IB" kernel build --source debian:6.1 --series "$top/kernel-patches/6.1/series" \
	--check >&2
src=$cache/src/linux-source-6.1
[ -f "$src/.iommubench-source" ] || { echo "$0: no $src" >&2; exit 1; }

export GIT_AUTHOR_NAME="iommubench" GIT_AUTHOR_EMAIL="iommubench@localhost"
export GIT_COMMITTER_NAME="iommubench" GIT_COMMITTER_EMAIL="iommubench@localhost"
commit() {
	GIT_AUTHOR_DATE="$1" GIT_COMMITTER_DATE="$1" \
		git -C "$dir" commit -q -a -F -
}

rm -rf "$dir.tmp"
mkdir -p "$dir.tmp"
echo "copying $src (this takes a minute)" >&2
cp -R "$src/." "$dir.tmp/"
rm -f "$dir.tmp/.iommubench-source"
dir=$dir.tmp
git -C "$dir" init -q -b main
git -C "$dir" config core.autocrlf false
git -C "$dir" config gc.auto 0
echo "importing $(cat "$src/.iommubench-source") into git" >&2
# Debian's .gitignore ignores the whole top level (/*): add by force.
git -C "$dir" add -A -f
commit "2026-01-01T00:00:00Z" <<EOF
Linux $(cat "$src/.iommubench-source") (Debian linux-source-6.1)

Imported as shipped, to serve as the baseline of a synthetic history.
EOF

for p in $(grep '^0' "$top/kernel-patches/6.1/series"); do
	GIT_COMMITTER_DATE="2026-01-02T00:00:00Z" \
		git -C "$dir" am -q --committer-date-is-author-date \
		"$top/kernel-patches/6.1/$p"
done

f=$dir/drivers/iommu/dma-iommu.c
grep -q '^static void __iommu_dma_unmap(' "$f"
sed -i -e 's|^#include <linux/crash_dump.h>$|&\n#include <linux/delay.h>|' \
       -e '/^static void __iommu_dma_unmap(/,/^}/ s|^\tdma_addr -= iova_off;$|\tudelay(5);\n&|' "$f"
[ "$(grep -c 'udelay(5);' "$f")" = 1 ] || { echo "$0: cannot plant the delay in $f" >&2; exit 1; }
commit "2026-01-03T00:00:00Z" <<EOF
iommu/dma: wait 5 us in every unmap

The planted regression of the synthetic history: every DMA-API unmap
through an IOMMU domain now busy-waits 5 us before touching the page
table, whatever the policy.  'iommubench commits' must flag this commit
and 'iommubench bisect' must name it.
EOF

f=$dir/drivers/iommu/iova.c
grep -q '^ \* Frees the given iova belonging to the giving domain$' "$f" ||
	{ echo "$0: the comment to reword is not in $f" >&2; exit 1; }
sed -i 's|^ \* Frees the given iova belonging to the giving domain$| * Frees the given iova belonging to the given domain|' "$f"
commit "2026-01-04T00:00:00Z" <<EOF
iommu/iova: fix a typo in a comment

A harmless change that is compiled: the flow must not flag it.

$marker
EOF

final=${dir%.tmp}
rm -rf "$final"
mv "$dir" "$final"
echo "$final"
