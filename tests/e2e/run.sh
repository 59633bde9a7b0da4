#!/bin/sh
# iommubench run: a small matrix end to end in the VM, a malformed matrix,
# resume after a killed run, and a boot that hangs.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

require_vm
plan 23

R="$TEST_TMP/results"
mkdir -p "$R"

cat > "$TEST_TMP/small.ini" <<'INI'
[global]
kernels = debian:6.1
policies = strict lazy
repetitions = 1
seed = 11

[rr]
type = fio
rw = randread
bs = 4k
iodepth = 8
runtime = 2

[db]
type = dmabench
args = --duration 1
INI

# --- malformed: nothing is written ---------------------------------------
printf '[global]\npolicies = strict\n\n[rr]\ntype = fio\nbs = 4k; reboot\n' \
	> "$TEST_TMP/bad.ini"
"$IB" run --results "$R" "$TEST_TMP/bad.ini" > /dev/null 2> "$TEST_TMP/bad.err"
rc=$?
sed 's/^/# /' "$TEST_TMP/bad.err"
check "a malformed matrix is a usage error (2)" test $rc = 2
check "the error names the file and line" grep -q 'bad.ini:6: bs:' "$TEST_TMP/bad.err"
check "nothing was written" test -z "$(ls -A "$R")"

# --- a small matrix end to end -------------------------------------------
"$IB" run --results "$R" "$TEST_TMP/small.ini" > "$TEST_TMP/small.out" 2> "$TEST_TMP/small.err"
rc=$?
sed 's/^/# /' "$TEST_TMP/small.out"
check "the small matrix runs (exit 0)" test $rc = 0
run=$(ls -d "$R"/*-small 2>/dev/null | head -1)
check "it lands in results/<run-id>/" test -d "$run/cells" -a -f "$run/manifest.json"
check "four cells, all ok" test "$(grep -l '"status": "ok"' "$run"/cells/*.json | wc -l)" = 4
q() { sqlite3 "$R/index.sqlite" "$1"; }
check "the index holds the four cells" test "$(q 'select count(*) from cells')" = 4
check "each cell carries the policy it read back" \
	test "$(q "select group_concat(policy || '=' || verified_type, ' ') from
		   (select policy, verified_type from cells group by policy, verified_type
		    order by policy)")" = "lazy=DMA-FQ strict=DMA"
check "dmabench cells read back pci-testdev, fio cells the disk" \
	test "$(q "select group_concat(distinct device) from cells where workload = 'db'")" = 0000:00:05.0
check "metrics are indexed (fio IOPS, dmabench unmap p50)" \
	test "$(q "select count(distinct metric) from metrics
		   where metric in ('fio.read.iops', 'dmabench.unmap.p50')")" = 2
check "the manifest records seed, exact kernel, QEMU and the matrix" \
	sh -c "grep -q '\"seed\": 11' $run/manifest.json &&
	       grep -q '\"release\": \"6.1.0-' $run/manifest.json &&
	       grep -q 'QEMU emulator version' $run/manifest.json &&
	       cmp -s $TEST_TMP/small.ini $run/matrix.ini"
check "the kernel config is kept with the run" test -s "$run/kernels/debian-6.1.config"
check "the summary compares to strict" grep -q 'baseline strict' "$TEST_TMP/small.out"
check "with the lazy/strict ratio of fio IOPS" \
	sh -c "grep -A1 'fio.read.iops .* strict ' $TEST_TMP/small.out | grep -Eq '^ +lazy +1 .* [0-9]+\.[0-9]{3} '"
check "and is written as summary.md" test -s "$run/summary.md"

# --- resume after a killed run -------------------------------------------
sed 's/^repetitions = 1/repetitions = 2/; s/^seed = 11/seed = 12/' \
	"$TEST_TMP/small.ini" > "$TEST_TMP/resume.ini"
"$IB" run --results "$R" "$TEST_TMP/resume.ini" > /dev/null 2>&1 &
pid=$!
i=0
while [ $i -lt 300 ] && ! ls "$R"/*-resume/cells/*.json > /dev/null 2>&1; do
	sleep 1
	i=$((i + 1))
done
kill -9 $pid
wait $pid 2>/dev/null
run=$(ls -d "$R"/*-resume | head -1)
sleep 1
before=$(ls "$run/cells" | wc -l)
check "the killed run left its QEMU no time to go on" \
	sh -c "! pgrep -f '[q]emu-system-x86_64.*$run' > /dev/null"
for f in "$run"/cells/*.json; do
	sed -n 's/^  "started": "\(.*\)",$/\1/p' "$f"
done | sort > "$TEST_TMP/started.before"
"$IB" run --results "$R" --resume "$(basename "$run")" > "$TEST_TMP/resume.out" 2>&1
rc=$?
sed 's/^/# /' "$TEST_TMP/resume.out" | tail -5
check "--resume completes the run (exit 0; $before cell(s) were done)" test $rc = 0
check "all eight cells exist" test "$(ls "$run/cells" | wc -l)" = 8
check "cells finished before the kill were not redone" \
	sh -c "for f in $run/cells/*.json; do sed -n 's/^  \"started\": \"\\(.*\\)\",\$/\\1/p' \$f; done |
	       sort | comm -23 $TEST_TMP/started.before - | grep -q . && exit 1 || exit 0"
check "the resumed run is indexed once per cell" \
	test "$(q "select count(*) from cells where run_id = '$(basename "$run")'")" = 8

# --- a hung boot fails its cells, the run completes --------------------------
cat > "$TEST_TMP/hang.ini" <<'INI'
[global]
policies = strict
repetitions = 1
timeout = 30

[long]
type = fio
runtime = 600
INI
"$IB" run --results "$R" "$TEST_TMP/hang.ini" > "$TEST_TMP/hang.out" 2>&1
rc=$?
run=$(ls -d "$R"/*-hang | head -1)
check "a run whose boot hangs ends with 1, not a hang" test $rc = 1
check "the cell is failed with the watchdog's reason" \
	grep -q '"error": "boot b001 ended with status 124 (timeout)' "$run"/cells/*.json
check "the boot's serial log is kept" test -s "$run/logs/b001/serial.log"
finish
