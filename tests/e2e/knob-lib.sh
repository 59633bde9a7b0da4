# SPDX-License-Identifier: GPL-2.0
# Shared by the iommu.policy= tests (kernel-knob.sh, kernel-hotplug.sh):
# the patched kernel they boot and what they grep.

KP="$top_srcdir/kernel-patches"
# IB_KERNELS narrows the run, e.g. to one kernel while developing.
KERNELS=${IB_KERNELS:-6.1 6.12 7.2}
NK=$(echo $KERNELS | wc -w)

# build_knob VER: print the directory of knob-VER, the kernel patched with
# kernel-patches/VER/series and built with lockdep and KASAN (a second
# build with the same inputs finds it built).  IB_KNOB_PREBUILT=1 takes
# knob-VER as it is, e.g. while developing.
build_knob() {
	if [ "${IB_KNOB_PREBUILT:-0}" = 1 ]; then
		"$IB" kernel path "knob-$1"
	else
		"$IB" kernel build --source "debian:$1" --series "$KP/$1/series" \
			--config "$KP/configs/qemu-bench.config" \
			--config "$KP/configs/lockdep-kasan.config" \
			--name "knob-$1"
	fi
}

# knob_kernel VER: build_knob as one check; the directory in $K, or bail
# out of the whole test (nothing after it can run without the kernel)
knob_kernel() {
	build_knob "$1" > "$TEST_TMP/build-$1.out" 2> "$TEST_TMP/build-$1.err"
	echo $? > "$TEST_TMP/build-$1.rc"
	sed 's/^/# /' "$TEST_TMP/build-$1.err" | tail -5
	check "$1: the patched kernel (lockdep, KASAN) builds" rc_is "build-$1" 0
	K=$(cat "$TEST_TMP/build-$1.out")
	[ -d "$K" ] || bail "no kernel directory for $1"
}

# A guest command printing "splats=N": lockdep, KASAN, hung-task and
# WARN/BUG reports in the kernel log, printed as "splat: ..." lines first.
SPLATS='dmesg | grep "BUG:\|WARNING:\|blocked for more than" | head -20 | sed "s/^/splat: /"
echo splats=$(dmesg | grep -c "BUG:\|WARNING:\|blocked for more than")'

# line NAME LINE: $TEST_TMP/NAME.out has LINE; has NAME TEXT: contains TEXT
line() {
	grep -qx -- "$2" "$TEST_TMP/$1.out"
}

has() {
	grep -qF -- "$2" "$TEST_TMP/$1.out"
}
