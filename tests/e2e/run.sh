#!/bin/sh
# iommubench run: a small matrix end to end in the VM, a malformed matrix,
# errors recorded in the cells (a full disk), resume after a killed, a
# stopped and a damaged run, and a boot that hangs.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

require_vm
plan 47

R="$TEST_TMP/results"
mkdir -p "$R"

# Small filesystems to run out of space on, unmounted at the end.
MOUNTS=
trap 'for m in $MOUNTS; do umount "$m"; done; rm -rf "$TEST_TMP"' EXIT
tiny() {
	mkdir -p "$2"
	mount -t tmpfs -o "size=$1" tmpfs "$2" || bail "cannot mount a tmpfs on $2"
	MOUNTS="$2 $MOUNTS"
}
# fill DIR: take the last free byte of DIR's filesystem.
fill() {
	dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null
	sync
}
# cell_field FILE KEY: a top-level string or number of a cell file.
cell_field() {
	sed -n -e "s/^  \"$2\": \"\(.*\)\",\{0,1\}\$/\1/p" \
	       -e "s/^  \"$2\": \([0-9.]*\),\{0,1\}\$/\1/p" "$1"
}

cat > "$TEST_TMP/db.ini" <<'INI'
[global]
kernels = debian:6.1
policies = strict
repetitions = 1
seed = 13

[db]
type = dmabench
args = --duration 1
INI

# --- the agent records its own errors ----------------------------------------
# Host side, no VM: a fake sysfs where 0000:00:05.0 is in a DMA group and
# a fake dmabench.  The cell goes to a 1 MB filesystem.
S="$TEST_TMP/sysfs"
mkdir -p "$S/sys/kernel/iommu_groups/3/devices" "$S/sys/bus/pci/devices" \
	"$S/sys/devices/pci0000:00/0000:00:05.0" "$TEST_TMP/bin"
echo DMA > "$S/sys/kernel/iommu_groups/3/type"
ln -s ../../../devices/pci0000:00/0000:00:05.0 "$S/sys/bus/pci/devices/0000:00:05.0"
ln -s ../../../kernel/iommu_groups/3 "$S/sys/devices/pci0000:00/0000:00:05.0/iommu_group"
cat > "$TEST_TMP/agent-plan.json" <<'JSON'
{ "run_id": "enospc", "boot": "b001", "policy": "strict", "mechanism": "cmdline",
  "config": { "policy": "strict" },
  "cells": [ { "id": "c1", "rep": 1, "seq": 1,
	       "workload": { "name": "db", "type": "dmabench", "tracer": false,
			     "params": {}, "device": "0000:00:05.0" } } ] }
JSON
agent() {
	cat > "$TEST_TMP/bin/dmabench"
	chmod +x "$TEST_TMP/bin/dmabench"
	IOMMUBENCH_SYSFS_ROOT="$S" PATH="$TEST_TMP/bin:$PATH" \
		"$IB" agent --plan "$TEST_TMP/agent-plan.json" --out "$1" 2>&1 |
		sed 's/^/# /'
}
tiny 1m "$TEST_TMP/agent-out"
agent "$TEST_TMP/agent-out" <<'SH'
#!/bin/sh
# a measurement larger than the disk its cell goes to
printf '{"pad": "'
head -c 2000000 /dev/zero | tr '\0' x
printf '"}\n'
SH
f="$TEST_TMP/agent-out/cells/c1.json"
check "a cell too large for the disk is recorded short, as an error" \
	test "$(cell_field "$f" status)" = error
check "with the agent's real error (ENOSPC)" \
	test "$(cell_field "$f" error)" = "cannot write $f: No space left on device (the cell was ok)"
agent "$TEST_TMP/agent-fail" <<'SH'
#!/bin/sh
echo "dmabench: /tmp/hist: No space left on device" >&2
exit 3
SH
check "a failing workload's cell carries what it said last" \
	test "$(cell_field "$TEST_TMP/agent-fail/cells/c1.json" error)" = \
	     "dmabench failed (status 3): dmabench: /tmp/hist: No space left on device"

# --- host mode, stopped: no further cell starts, the running one is interrupted
# SIGTERM to the runner, then to the workload, as when a service manager
# stops everything.  The fake dmabench runs until then, and later quickly.
HR="$TEST_TMP/host-results"
cat > "$TEST_TMP/host.ini" <<'INI'
[global]
policies = strict
repetitions = 1
seed = 5

[db1]
type = dmabench
args = --duration 1

[db2]
type = dmabench
args = --duration 1
INI
cat > "$TEST_TMP/bin/dmabench" <<SH
#!/bin/sh
[ -e "$TEST_TMP/quick" ] && exec echo '{}'
echo \$\$ > "$TEST_TMP/dmabench.pid"
exec sleep 60
SH
chmod +x "$TEST_TMP/bin/dmabench"
IOMMUBENCH_SYSFS_ROOT="$S" PATH="$TEST_TMP/bin:$PATH" "$IB" run --results "$HR" \
	--target host --device 0000:00:05.0 --run-id host-stop "$TEST_TMP/host.ini" \
	> "$TEST_TMP/host.out" 2>&1 &
pid=$!
i=0
while [ $i -lt 60 ] && ! [ -s "$TEST_TMP/dmabench.pid" ]; do
	sleep 1
	i=$((i + 1))
done
kill -TERM $pid
sleep 1
kill -TERM "$(cat "$TEST_TMP/dmabench.pid")"
wait $pid
rc=$?
sed 's/^/# /' "$TEST_TMP/host.out" | tail -4
f=$(grep -l '"error": "dmabench failed (status 143)"' "$HR"/host-stop/cells/*.json)
check "host mode: SIGTERM stops the run with 130" test $rc = 130
check "the workload that died after the stop left its cell interrupted" \
	test "$(cell_field "$f" status)" = interrupted
check "and the agent started no further cell" \
	test "$(grep -l '"started"' "$HR"/host-stop/cells/*.json | wc -l)" = 1
touch "$TEST_TMP/quick"
IOMMUBENCH_SYSFS_ROOT="$S" PATH="$TEST_TMP/bin:$PATH" "$IB" run --results "$HR" \
	--resume host-stop > "$TEST_TMP/host2.out" 2>&1
rc=$?
sed 's/^/# /' "$TEST_TMP/host2.out" | tail -3
check "--resume runs the interrupted cell and the one never started (exit 0)" \
	sh -c "test $rc = 0 && test \$(grep -l '\"status\": \"ok\"' $HR/host-stop/cells/*.json | wc -l) = 2"
check "the interrupted attempt is kept, the new one is attempt 2" \
	sh -c "test '$(cell_field "$f" status) $(cell_field "$f" attempt)' = 'ok 2' &&
	       grep -q '\"status\": \"interrupted\"' $HR/host-stop/attempts/$(basename "$f" .json).1.json"

# --- a results store without room: the cell says why -------------------------
# The guest image is staged under the run's logs: it cannot be here.
tiny 2m "$TEST_TMP/full"
"$IB" run --results "$TEST_TMP/full" "$TEST_TMP/db.ini" > "$TEST_TMP/full.out" 2>&1
rc=$?
sed 's/^/# /' "$TEST_TMP/full.out" | tail -5
f=$(ls "$TEST_TMP"/full/*-db/cells/*.json 2>/dev/null | head -1)
check "a run on a full disk ends with 1" test $rc = 1
check "the cell is an error with the real reason, not 'status 125 (no record)'" \
	sh -c "grep -q '\"status\": \"error\"' $f &&
	       grep -q '\"error\": \"boot b001 ended with status 125 (setup-failed): .*: No space left on device\"' $f"
check "and the runner prints it in its summary" \
	grep -q '^  debian-6.1-intel-strict-db-r1: error: boot b001 .*No space left on device$' "$TEST_TMP/full.out"

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

# --- a damaged run on a full disk, resumed twice ------------------------------
# The small run, copied without its guest images onto a filesystem of its
# own that is then filled; the index stays beside it.  One cell file is cut
# short: resuming must neither count it as done nor say all is well.
small=$(basename "$run")
R3="$TEST_TMP/r3"
tiny 8m "$R3/$small"
(cd "$run" && tar cf - --exclude initramfs.cpio .) | (cd "$R3/$small" && tar xf -)
cut=$(basename "$(ls "$R3/$small"/cells/*-db-*.json | head -1)" .json)
truncate -s 100 "$R3/$small/cells/$cut.json"
cp "$R3/$small/cells/$cut.json" "$TEST_TMP/cut.json"
fill "$R3/$small"
"$IB" run --results "$R3" --resume "$small" > "$TEST_TMP/r3.out" 2>&1
rc=$?
sed 's/^/# /' "$TEST_TMP/r3.out" | grep -v '^#   [a-z]*\.' | tail -8
check "a resumed run that cannot record a cell ends with 1, not 0" test $rc = 1
check "it counts the cell as not recorded and says why" \
	sh -c "grep -q '^run $small: 3 of 4 cells ok, 1 not recorded' $TEST_TMP/r3.out &&
	       grep -q '^  $cut: not recorded: cannot write .*: No space left on device' $TEST_TMP/r3.out"
check "the cut record is kept as attempt 1" cmp -s "$TEST_TMP/cut.json" "$R3/$small/attempts/$cut.1.json"
rm -f "$R3/$small/fill"
mount -o remount,size=512m "$R3/$small"
"$IB" run --results "$R3" --resume "$small" > "$TEST_TMP/r3b.out" 2>&1
rc=$?
sed 's/^/# /' "$TEST_TMP/r3b.out" | grep -v '^#   [a-z]*\.' | tail -4
check "with room again, --resume runs the cut cell again (exit 0)" test $rc = 0
check "all four cells are ok, the redone one as attempt 2" \
	sh -c "test \$(grep -l '\"status\": \"ok\"' $R3/$small/cells/*.json | wc -l) = 4 &&
	       test \"\$(sed -n 's/^  \"attempt\": \(.*\),\$/\1/p' $R3/$small/cells/$cut.json)\" = 2"
check "the index holds the four cells, ok" \
	test "$(sqlite3 "$R3/index.sqlite" "select count(*) from cells where status = 'ok'")" = 4

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

# --- a stopped run: its cell is interrupted, and --resume runs it again -------
"$IB" run --results "$R" --run-id stopped "$TEST_TMP/db.ini" > "$TEST_TMP/stop.out" 2>&1 &
pid=$!
i=0
while [ $i -lt 300 ] && ! [ -s "$R/stopped/logs/b001/serial.log" ]; do
	sleep 1
	i=$((i + 1))
done
kill -TERM $pid
wait $pid
rc=$?
sed 's/^/# /' "$TEST_TMP/stop.out" | tail -3
f=$(ls "$R"/stopped/cells/*.json 2>/dev/null | head -1)
check "SIGTERM stops the run with 130" test $rc = 130
check "the cell it stopped is interrupted, not failed" \
	test "$(cell_field "$f" status)" = interrupted
check "the summary says so" grep -q '^run stopped: 0 of 1 cells ok, 1 interrupted' "$TEST_TMP/stop.out"
"$IB" run --results "$R" --resume stopped > "$TEST_TMP/stop2.out" 2>&1
rc=$?
sed 's/^/# /' "$TEST_TMP/stop2.out" | grep -v '^#   [a-z]*\.' | tail -3
check "--resume runs the interrupted cell again (exit 0)" test $rc = 0
check "now ok, as attempt 2; attempt 1 is kept, interrupted" \
	sh -c "test '$(cell_field "$f" status) $(cell_field "$f" attempt)' = 'ok 2' &&
	       grep -q '\"status\": \"interrupted\"' $R/stopped/attempts/$(basename "$f" .json).1.json"
check "each attempt's boot keeps its own logs" \
	sh -c "grep -q '\"logs\": \"logs/b001.2\"' $f && test -s $R/stopped/logs/b001/serial.log &&
	       test -s $R/stopped/logs/b001.2/serial.log"

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
check "as an error, which --resume runs again" grep -q '"status": "error"' "$run"/cells/*.json
check "the boot's serial log is kept" test -s "$run/logs/b001/serial.log"
finish
