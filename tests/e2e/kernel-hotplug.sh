#!/bin/sh
# iommu.policy= and hot-plug (IB_CHECK_KERNEL=1, 'make check-kernel'): the
# kernels of kernel-patches/ built with lockdep and KASAN boot with three
# PCIe root ports, the first one external-facing (an ACPI SSDT, see
# ssdt-external-facing.pl), and devices come and go through QEMU's QMP
# monitor while the guest runs:
#   - pci-testdev hot-plugged below an ordinary port gets its entry;
#   - pci-testdev below the external-facing port is untrusted: strict,
#     whatever its entry says, and the entry not applied is logged;
#   - a two-function device hot-plugged as one: function 0 gets its group's
#     default domain from its entry, function 1 joins that group and its
#     differing entry is not applied: logged, and its attribute says so;
#   - the pci-testdev at 02:00.0 is unplugged and re-plugged eight times
#     while six loops read its iommu_dma_policy attribute: every unplug
#     completes (QEMU's DEVICE_DELETED), the re-plugged device gets its
#     entry again, and lockdep, KASAN and the hung-task detector report
#     nothing.  The attribute's read takes the group's mutex, so removing
#     it under that mutex (as 6.12's first version of the series did)
#     deadlocks when a read is under way, and only then does lockdep see
#     the remove side of the inversion (kernfs drains only a file in use).
#     The loops read one byte (one show() per open) to keep the file in
#     use as much as they can; on that first version the guest hung, with
#     lockdep's report, at the 7th unplug (docs/kernel-build.md).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/knob-lib.sh"

[ "${IB_CHECK_KERNEL:-0}" = 1 ] ||
	skip_all "builds and boots the patched kernels: make check-kernel"
require_vm
plan $((NK * 14))

CYCLES=8
"$top_srcdir/tests/e2e/ssdt-external-facing.pl" "$TEST_TMP/ext.aml" '\_SB_.PCI0.S40_' ||
	bail "cannot write the SSDT"

qmp() {
	"$top_srcdir/tests/e2e/qmp.pl" "$@" 2>&1 | sed 's/^/# /'
}

# wait_for NAME TEXT SECONDS: until the guest's output has TEXT, while the
# VM ($pid) runs
wait_for() {
	i=0
	while ! grep -qF -- "$2" "$TEST_TMP/$1.out" 2>/dev/null; do
		[ $i -lt "$3" ] && kill -0 "$pid" 2>/dev/null || return 1
		sleep 1
		i=$((i + 1))
	done
}

# The guest: wait for the hot-plugged devices, show them, read 02:00.0's
# attribute in six loops while the host unplugs and re-plugs it.
d=/sys/bus/pci/devices
guest="appear() { i=0; while [ ! -e $d/\$1 ] && [ \$i -lt 180 ]; do sleep 1; i=\$((i+1)); done; [ -e $d/\$1 ]; }
gone() { i=0; while [ -e $d/\$1 ] && [ \$i -lt 120 ]; do sleep 1; i=\$((i+1)); done; [ ! -e $d/\$1 ]; }
echo ready
for b in 0000:01:00.0 0000:02:00.0 0000:03:00.0 0000:03:00.1; do appear \$b; done
sleep 2
for b in 01:00.0 02:00.0 03:00.0 03:00.1; do
	f=$d/0000:\$b
	echo hot-\$b=\$(cat \$f/iommu_group/type) \$(cat \$f/iommu_dma_policy) group \$(basename \$(readlink \$f/iommu_group))
done
pids=
for r in 1 2 3 4 5 6; do
	while :; do read -r -n 1 x < $d/0000:02:00.0/iommu_dma_policy; done 2> /dev/null &
	pids=\"\$pids \$!\"
done
echo readers
for n in \$(seq $CYCLES); do
	gone 0000:02:00.0 && echo gone-\$n
	appear 0000:02:00.0 && sleep 1 && echo back-\$n=\$(cat $d/0000:02:00.0/iommu_dma_policy)
done
kill \$pids
dmesg | grep 'iommu.policy' | sed 's/^\[[^]]*\] /dmesg: /'
$SPLATS"

for v in $KERNELS; do
	knob_kernel "$v"

	n="h-$v"
	sock="$TEST_TMP/qmp-$v.sock"
	"$IB" vm run --run-dir "$TEST_TMP/$n.run" --kernel "$K" --iommu intel \
		--append 'iommu.policy=identity@01:00.0;lazy@03:00.0;strict@03:00.1;strict@pci:1b36:0005' \
		--qemu-arg -device --qemu-arg pcie-root-port,id=rp1,bus=pcie.0,addr=08.0,chassis=1 \
		--qemu-arg -device --qemu-arg pcie-root-port,id=rp2,bus=pcie.0,addr=09.0,chassis=2 \
		--qemu-arg -device --qemu-arg pcie-root-port,id=rp3,bus=pcie.0,addr=0a.0,chassis=3 \
		--qemu-arg -acpitable --qemu-arg "file=$TEST_TMP/ext.aml" \
		--qemu-arg -qmp --qemu-arg "unix:$sock,server=on,wait=off" \
		-- "$guest" > "$TEST_TMP/$n.out" 2> "$TEST_TMP/$n.err" &
	pid=$!

	# Function 1 first: QEMU signals the slot once function 0 arrives.
	added=0
	if wait_for "$n" ready 600; then
		for a in '"bus":"rp1","id":"u1"' '"bus":"rp2","id":"t2"' \
			 '"bus":"rp3","addr":"0.1","multifunction":"on","id":"m1"' \
			 '"bus":"rp3","addr":"0.0","multifunction":"on","id":"m0"'; do
			qmp "$sock" device_add "{\"driver\":\"pci-testdev\",$a}" &&
				added=$((added + 1))
		done
	fi
	deleted=0
	if wait_for "$n" readers 300; then
		for c in $(seq $CYCLES); do
			qmp --wait "$sock" device_del '{"id":"t2"}' &&
				wait_for "$n" "gone-$c" 120 &&
				deleted=$((deleted + 1))
			qmp "$sock" device_add '{"driver":"pci-testdev","bus":"rp2","id":"t2"}'
			wait_for "$n" "back-$c" 180 || break
		done
	fi
	wait $pid
	echo $? > "$TEST_TMP/$n.rc"
	sed 's/^/# out: /' "$TEST_TMP/$n.out" | grep -v '^# out: dmesg: .*ignoring'
	sed 's/^/# err: /' "$TEST_TMP/$n.err" | tail -5

	check "$v: QEMU accepts the four hot-plugs" [ "$added" = 4 ]
	check "$v: the hot-plugged pci-testdev gets its entry (DMA)" \
		grep -q '^hot-02:00.0=DMA strict iommu.policy ' "$TEST_TMP/$n.out"
	check "$v: ... logged as applied" \
		grep -q 'dmesg: .*0000:02:00.0: iommu.policy: strict for group' "$TEST_TMP/$n.out"
	check "$v: below the external-facing port: strict, untrusted" \
		grep -q '^hot-01:00.0=DMA strict untrusted ' "$TEST_TMP/$n.out"
	check "$v: ... its identity entry not applied, logged" \
		has "$n" '0000:01:00.0: iommu.policy: identity not applied, an untrusted device in the group requires strict'
	check "$v: two functions hot-plugged together share a group" \
		sh -c "[ \"\$(sed -n 's/^hot-03:00.0=.* group //p' $TEST_TMP/$n.out)\" = \"\$(sed -n 's/^hot-03:00.1=.* group //p' $TEST_TMP/$n.out)\" ] &&
		       grep -q '^hot-03:00.0=.* group [0-9]' $TEST_TMP/$n.out"
	check "$v: function 0 gets its entry (lazy iommu.policy)" \
		grep -q '^hot-03:00.0=DMA-FQ lazy iommu.policy ' "$TEST_TMP/$n.out"
	check "$v: function 1 joined: 'lazy joined'" \
		grep -q '^hot-03:00.1=DMA-FQ lazy joined ' "$TEST_TMP/$n.out"
	check "$v: ... its strict entry not applied, logged" \
		grep -q 'dmesg: .*0000:03:00.1: iommu.policy: strict not applied, group [0-9]* already has a lazy default domain' "$TEST_TMP/$n.out"
	check "$v: $CYCLES unplugs during reads complete (no hang)" [ "$deleted" = "$CYCLES" ]
	check "$v: each re-plugged device gets its entry again" \
		[ "$(grep -c '^back-[0-9]*=strict iommu.policy$' "$TEST_TMP/$n.out")" = "$CYCLES" ]
	check "$v: the guest finishes" rc_is "$n" 0
	check "$v: no lockdep, KASAN or hung-task report" line "$n" 'splats=0'
done
finish
