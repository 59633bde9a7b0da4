#!/bin/sh
# The image 'vm run' gives QEMU: the ELF vmlinux, entered through PVH, for
# a kernel with CONFIG_PVH; the bzImage for one without PVH, and for one
# with KASAN, which faults before its console when entered through PVH
# (6.12 and 7.2 with kernel-patches/configs/lockdep-kasan.config).  Two
# copies of debian:6.1's kernel directory that differ in their config;
# QEMU is stopped at its command line by an option it does not know, so
# nothing boots.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

require_vm
plan 4

src=$("$IB" kernel path debian:6.1) || bail "no debian:6.1 kernel"
[ -f "$src/vmlinux" ] || bail "$src: no vmlinux (boot debian:6.1 once)"

# kdir NAME CONFIG-LINE: a kernel directory linking $src's files, its
# config with CONFIG-LINE appended
kdir() {
	d="$TEST_TMP/$1"
	mkdir "$d"
	for f in "$src"/*; do
		ln -s "$f" "$d/"
	done
	rm "$d/config"
	{ cat "$src/config"; echo "$2"; } > "$d/config"
}

# image NAME: the -kernel argument of NAME's QEMU command line
image() {
	"$IB" vm run --kernel "$TEST_TMP/$1" --run-dir "$TEST_TMP/$1.run" \
		--no-share --qemu-arg -no-such-option -- true \
		> /dev/null 2> "$TEST_TMP/$1.err"
	sed -n 's/.* -kernel \([^ ]*\) .*/\1/p' "$TEST_TMP/$1.run/qemu.cmdline"
}

kdir pvh '# CONFIG_KASAN is not set'
kdir kasan 'CONFIG_KASAN=y'
grep -q '^CONFIG_PVH=y' "$src/config" || bail "$src: not a PVH kernel"
p=$(image pvh)
k=$(image kasan)
echo "# pvh: $p; kasan: $k"
check "QEMU is stopped by the unknown option" grep -q 'no-such-option' "$TEST_TMP/pvh.run/qemu.log"
check "a PVH kernel boots from vmlinux" [ "$p" = "$TEST_TMP/pvh/vmlinux" ]
check "a PVH kernel with KASAN boots from vmlinuz" [ "$k" = "$TEST_TMP/kasan/vmlinuz" ]
check "... though its vmlinux is there" [ -e "$TEST_TMP/kasan/vmlinux" ]
finish
