#!/bin/sh
# What lazy mode leaves open: dmabench's stale-DMA probe on QEMU's edu and
# 'iommubench exposure' (docs/exposure.md).
#
#  - The three facts, on Debian 6.1 and 6.12 behind an emulated VT-d, with
#    a few trials: after dma_unmap_page() returned, strict lets no write
#    of the device land (the IOMMU refuses it: a VT-d fault record names
#    edu and the page), identity lets every write land (nothing
#    translates), lazy lets it land shortly after the unmap and refuses it
#    once the flush queue's timer has invalidated the IOTLB (20 ms).
#  - The cross-check with iommutrace: lazy P(landed) at delays inside the
#    exposure window agrees with the windows iommutrace measured for the
#    same unmaps (a regression: with the icount clock the unmap's phase
#    against the kernel's tick followed from the delay, and P(landed) was
#    0 or 1 per delay whatever the windows said).
#  - Bad parameters are refused with exit 2 and a message naming them;
#    a device other than edu is refused with exit 3.
#  - Unbinding edu in the middle of the probe ends it cleanly (exit 3,
#    promptly, no kernel warning), and the device and module still work.
#  - A matrix workload of type stale lands in the store, and the report
#    plots P(landed) against the delay.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

require_vm
[ -x "$top_builddir/dmabench" ] || bail "dmabench is not built"
plan 46

# --- bad parameters: no boot needed ------------------------------------------
refused() {
	# refused NAME PATTERN COMMAND...: exit 2, PATTERN on stderr
	name=$1 pat=$2
	shift 2
	"$@" > "$TEST_TMP/$name.out" 2> "$TEST_TMP/$name.err"
	rc=$?
	sed 's/^/# /' "$TEST_TMP/$name.err" | head -3
	[ $rc = 2 ] && grep -q -- "$pat" "$TEST_TMP/$name.err"
}
DB="$top_builddir/dmabench"
check "dmabench: --delays above 90ms refused (2)" \
	refused d1 "--delays: '0,91ms'" "$DB" --mode stale --delays 0,91ms
check "dmabench: the same delay twice refused (2)" \
	refused d2 "--delays: '1ms,1000us'" "$DB" --mode stale --delays 1ms,1000us
check "dmabench: --trials 0 refused (2)" \
	refused d3 "--trials: 0 is out of range" "$DB" --mode stale --trials 0
check "dmabench: a benchmark option with --mode stale refused (2)" \
	refused d4 "--threads does not apply to --mode stale" \
	"$DB" --mode stale --threads 2
check "dmabench: --delays without --mode stale refused (2)" \
	refused d5 "--delays needs --mode stale" "$DB" --delays 1ms
check "exposure: an unknown policy refused (2)" \
	refused e1 "'sloppy' is not strict, lazy or identity" \
	"$IB" exposure --policies strict,sloppy
check "exposure: a policy twice refused (2)" \
	refused e2 "naming each policy once" "$IB" exposure --policies lazy,lazy
check "exposure: a delay above 90ms refused (2)" \
	refused e3 "--delays: '100ms'" "$IB" exposure --delays 100ms
check "exposure: --trials out of range refused (2)" \
	refused e4 "--trials: 0 is out of range" "$IB" exposure --trials 0
check "exposure: no vIOMMU is no choice (2)" \
	refused e5 "'none' is not one of intel, intel-cm, amd, virtio" \
	"$IB" exposure --iommu none

# --- the facts, on 6.1 and 6.12 ------------------------------------------------
# jq-free reading of the exposure JSON: one line per policy and delay,
# "POLICY DELAY_NS TRIALS LANDED FAULTED", and the anomaly count
facts() {
	python3 - "$1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for p in d["policies"]:
    for e in p["delays"]:
        print(p["policy"], e["delay_ns"], e["trials"],
              e["landed"] + e["partial"], e["faulted"])
    print(p["policy"], "domain", p["domain"], "error", p["error"])
print("anomalies", d["anomalies"], "clock", d["clock"])
EOF
}

row_is() {
	# row_is RUN POLICY DELAY TRIALS LANDED [FAULTED]
	grep -q "^$2 $3 $4 $5${6:+ $6}\$" "$TEST_TMP/$1.facts" ||
		{ echo "# $1: no row '$2 $3 $4 $5${6:+ $6}'"; return 1; }
}

landed_some() {
	# landed_some RUN POLICY DELAY: at least one of its writes landed
	awk -v p="$2" -v d="$3" '$1 == p && $2 == d && $4 > 0 { ok = 1 }
		END { exit !ok }' "$TEST_TMP/$1.facts"
}

for k in debian:6.1 debian:6.12 debian:7.2; do
	r="x${k#debian:}"
	"$IB" exposure --kernel "$k" --policies strict,lazy,identity \
		--delays 0,20ms --trials 5 --json "$TEST_TMP/$r.json" \
		> "$TEST_TMP/$r.out" 2> "$TEST_TMP/$r.err"
	echo $? > "$TEST_TMP/$r.rc"
	sed 's/^/# out: /' "$TEST_TMP/$r.out"
	grep -v '^\[' "$TEST_TMP/$r.err" | sed 's/^/# err: /' | head -20
	facts "$TEST_TMP/$r.json" > "$TEST_TMP/$r.facts" 2>/dev/null
	sed 's/^/# /' "$TEST_TMP/$r.facts"
	check "$k: exposure exits 0 (every policy measured, no anomaly)" rc_is "$r" 0
	check "$k: the guest verified edu's policy each time (domains DMA, DMA-FQ, identity)" sh -c \
		"grep -q '^strict domain DMA error None' $TEST_TMP/$r.facts &&
		 grep -q '^lazy domain DMA-FQ error None' $TEST_TMP/$r.facts &&
		 grep -q '^identity domain identity error None' $TEST_TMP/$r.facts"
	check "$k: strict: 0 of 5 landed at delay 0, each refused (VT-d fault record)" \
		row_is "$r" strict 0 5 0 5
	check "$k: identity: 5 of 5 landed at 0 and at 20 ms" sh -c \
		"grep -q '^identity 0 5 5 ' $TEST_TMP/$r.facts &&
		 grep -q '^identity 20000000 5 5 ' $TEST_TMP/$r.facts"
	check "$k: lazy: writes landed at delay 0" landed_some "$r" lazy 0
	check "$k: lazy: none at 20 ms, after the flush: refused" \
		row_is "$r" lazy 20000000 5 0 5
	check "$k: the clock is icount, and said in the output" sh -c \
		"grep -q 'clock icount:0' $TEST_TMP/$r.facts &&
		 grep -q 'clock icount:0 (guest time counts instructions' $TEST_TMP/$r.out"
done

# --- the cross-check with iommutrace -------------------------------------------
# delays inside lazy mode's window (12-16 ms at HZ=250: the 10 ms timer is
# 3 jiffies, and the timer wheel fires a tick later than asked)
r=trace
"$IB" exposure --policies lazy --trace --delays 0,13ms,14ms,15ms,20ms \
	--trials 20 --json "$TEST_TMP/$r.json" > "$TEST_TMP/$r.out" \
	2> "$TEST_TMP/$r.err"
echo $? > "$TEST_TMP/$r.rc"
sed 's/^/# out: /' "$TEST_TMP/$r.out"
grep -v '^\[' "$TEST_TMP/$r.err" | sed 's/^/# err: /' | head -20
check "lazy under iommutrace: exits 0, the probe agreeing with the windows at every delay" \
	rc_is "$r" 0
check "the output shows iommutrace's windows and its prediction per delay" sh -c \
	"grep -q 'iommutrace, same boot: lazy exposure window p50' $TEST_TMP/$r.out &&
	 grep -q 'iommutrace predicts' $TEST_TMP/$r.out"
check "P(landed) falls inside the window: strictly between 0 and 1 at one delay at least" \
	python3 -c "
import json, sys
d = json.load(open('$TEST_TMP/$r.json'))['policies'][0]['delays']
sys.exit(not any(0 < e['p_landed'] < 1 for e in d))"

# --- unbinding mid-probe, other devices, the module's exit ---------------------
cat > "$TEST_TMP/unbind.sh" <<'EOF'
edu=0000:00:06.0 td=0000:00:05.0
dmabench -d $td --mode stale --delays 0 --trials 1 --unbind-after \
	> /dev/null 2> /tmp/td.err
echo "@@ testdev $? $(tr '\n' ' ' < /tmp/td.err)"
dmabench -q -d $edu --mode stale --delays 0 --trials 2 > /dev/null
echo "@@ first $?"
t0=$(date +%s)
dmabench -q -d $edu --mode stale --delays 0,5ms --trials 200 \
	> /dev/null 2> /tmp/unbind.err &
sleep 1
echo $edu > /sys/bus/pci/drivers/dmabench/unbind; echo "@@ unbind $?"
wait $!; echo "@@ unbound-run $? $(($(date +%s) - t0)) $(tr '\n' ' ' < /tmp/unbind.err)"
dmabench -q -d $edu --mode stale --delays 0 --trials 2 > /dev/null
echo "@@ rebind $?"
rmmod dmabench; echo "@@ rmmod $?"
dmesg | grep -E 'WARNING:|BUG:|Oops|Call Trace|general protection|stays allocated' ||
	echo '@@ dmesg-clean'
EOF
vm unbind --kernel debian:6.1 --clock icount --disk none --edu --testdev \
	--dut edu --policy lazy --share "$TEST_TMP" -- sh ./unbind.sh
marker() {
	grep -q -- "^@@ $2" "$TEST_TMP/$1.out"
}
check "a device other than edu is refused (exit 3, naming edu)" \
	marker unbind 'testdev 3 .*not QEMU.s edu'
check "the probe runs on edu (exit 0)" marker unbind 'first 0'
check "edu unbound from dmabench mid-probe" marker unbind 'unbind 0'
check "the probe ends with exit 3, 'went away', within 10 s of guest time" sh -c \
	"sed -n 's/^@@ unbound-run 3 \([0-9]*\) .*went away.*/\1/p' $TEST_TMP/unbind.out |
	 awk '{ ok = \$1 < 10 } END { exit !ok }'"
check "after rebinding, the probe works again" marker unbind 'rebind 0'
check "the module unloads (its probes and tracepoint unregistered)" \
	marker unbind 'rmmod 0'
check "no WARNING/BUG/Oops, no buffer left behind" marker unbind 'dmesg-clean'

# --- a matrix workload of type stale -------------------------------------------
R="$TEST_TMP/results"
cat > "$TEST_TMP/stale.ini" <<'INI'
[global]
kernels = debian:6.1
policies = lazy
repetitions = 1
clock = icount
seed = 5

[stale]
type = stale
delays = 0,20ms
trials = 3
INI
"$IB" run --results "$R" "$TEST_TMP/stale.ini" > "$TEST_TMP/run.out" 2> "$TEST_TMP/run.err"
rc=$?
grep -v '^\[' "$TEST_TMP/run.err" | sed 's/^/# /' | tail -5
run=$(ls -d "$R"/*-stale 2>/dev/null | head -1)
check "a matrix with a stale workload runs (exit 0)" test $rc = 0
check "its cell was measured on edu, whose policy was read back" sh -c \
	"grep -q '\"device\": \"0000:00:06.0\"' $run/cells/*.json &&
	 grep -q '\"ok\": true' $run/cells/*.json"
check "the index holds P(landed) per delay" test \
	"$(sqlite3 "$R/index.sqlite" "select group_concat(metric || '=' || value, ' ')
		from (select metric, value from metrics
		where metric like 'stale.p_landed.%' order by metric)")" = \
	"stale.p_landed.0=1.0 stale.p_landed.20ms=0.0"
check "and the last landing time, the first clean delay (20 ms)" test \
	"$(sqlite3 "$R/index.sqlite" "select count(*) from metrics where
		(metric = 'stale.last_landed_gap' and value > 0 and value < 20000000)
		or (metric = 'stale.first_clean_delay' and value = 20000000)")" = 2
check "the report plots P(landed) against the delay" sh -c \
	"test -s $run/report/plots/stale-stale.png &&
	 grep -q '^0.000000 1.000000' $run/report/plots/stale-stale.dat &&
	 grep -q '^20.000000 0.000000' $run/report/plots/stale-stale.dat &&
	 grep -q 'Stale-DMA probe' $run/report/report.html"
finish
