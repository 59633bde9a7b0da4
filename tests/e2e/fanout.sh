#!/bin/sh
# Fan-out (run --hosts): two SSH hosts on this machine (tests/e2e/
# sshhosts.sh: OpenSSH on loopback ports, each in namespaces of its own
# with its own home and host name).  A small matrix fans out over both and
# the merged store holds every cell once, each with its host; a host
# killed while it runs a round hands the round to the other (GNU
# parallel's --retries); an interrupted fan-out resumes from parallel's job
# log, with ":" (this machine) as the host.  The boots are VM boots
# (the VM target), two per round.  And vm run --target on one of the
# hosts: QEMU on a remote machine.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/sshhosts.sh"

require_vm
command -v parallel >/dev/null || skip_all "no GNU parallel (the Debian package parallel; scripts/setup installs it)"
command -v rsync >/dev/null || skip_all "no rsync (scripts/setup installs it)"
ssh_hosts_init
plan 27

BASE=$((20000 + $$ % 20000))
ssh_host_start hosta $BASE || bail "host hosta did not start"
ssh_host_start hostb $((BASE + 1)) || bail "host hostb did not start"
printf 'hosta\nhostb\n' > "$TEST_TMP/hostsfile"

cat > "$TEST_TMP/tiny.ini" <<'INI'
[global]
kernels = debian:6.1
policies = strict lazy
repetitions = 2
seed = 5

[db]
type = dmabench
args = --duration 0.2
INI

R="$TEST_TMP/res"
q() { sqlite3 "$R/index.sqlite" "$1"; }
cmd() {
	name=$1
	shift
	"$IB" "$@" > "$TEST_TMP/$name.out" 2> "$TEST_TMP/$name.err"
	echo $? > "$TEST_TMP/$name.rc"
	sed 's/^/# err: /' "$TEST_TMP/$name.err" | tail -12
}

# --- two hosts, one round each --------------------------------------------
# failed NAME: the cells of run NAME that failed, as TAP comments
failed() {
	q "select cell_id || ': ' || error from cells where run_id = '$1' and status != 'ok'" |
		sed 's/^/# failed: /'
}
cmd f1 run --results "$R" --run-id f1 --hosts "$TEST_TMP/hostsfile" "$TEST_TMP/tiny.ini"
failed f1
check "run --hosts over two hosts: exit 0" rc_is f1 0
check "the merged store holds every cell once, all ok" \
	test "$(q "select count(*) || ' ' || count(distinct cell_id) || ' ' || sum(status = 'ok') from cells where run_id = 'f1'")" = "4 4 4"
check "both hosts ran cells, each cell names its host" \
	test "$(q "select group_concat(host, ' ') from (select distinct host from cells where run_id = 'f1' order by host)")" = "hosta hostb"
check "a host ran whole rounds: both policies, interleaved, on each" \
	test "$(q "select count(*) from (select host from cells where run_id = 'f1' group by host having count(distinct policy) = 2)")" = 2
check "the manifest says which host ran which boot" \
	test "$(grep -c '"sshlogin": "host[ab]"' "$R/f1/manifest.json")" = 4
check "... and each host's identity" \
	sh -c "grep -q '\"hosta\": {' $R/f1/manifest.json && grep -q '\"hostb\": {' $R/f1/manifest.json"
check "the cells carry their boot's VM record, as a local run's do" \
	test "$(grep -l '"outcome": "ok"' "$R"/f1/cells/*.json | wc -l)" = 4
check "the boots' logs came back" test "$(ls -d "$R"/f1/logs/b00? | wc -l)" = 4
check "GNU parallel's job log: two jobs, exit 0" \
	test "$(awk -F'\t' 'NR > 1 && $7 == 0' "$R/f1/fanout/joblog" | wc -l)" = 2
check "the hosts' working directories are cleaned up" \
	sh -c "! ls -d $TEST_TMP/hosts/host?/home/.cache/iommubench/fanout/f1 2>/dev/null"
cmd cmp compare --results "$R" f1
check "the analysis reads it as any run" out_has cmp 'dmabench.unmap.p50'

# --- vm run on a remote machine with QEMU ---------------------------------
cmd vmr vm run --target ssh://hosta --kernel debian:6.1 --no-share -- uname -r
check "vm run --target ssh://: the guest booted there, its output and status here" \
	sh -c "[ \$(cat $TEST_TMP/vmr.rc) = 0 ] && grep -q '^6\.1\.0-' $TEST_TMP/vmr.out"
check "... with the suite installed in that host's home" \
	test -x "$(ls -d "$TEST_TMP"/hosts/hosta/home/.cache/iommubench/remote/bundle-*/bin/iommubench | head -1)"

# --- several runs in one fan-out (commits --hosts) ------------------------
# Runs created with run --prepare, their rounds in one GNU parallel, then
# each finished with --resume, as commits --hosts does after building.
sed 's/^repetitions = 2/repetitions = 1/; s/^seed = 5/seed = 6/' \
	"$TEST_TMP/tiny.ini" > "$TEST_TMP/one.ini"
cmd p1 run --results "$R" --run-id p1 --prepare "$TEST_TMP/one.ini"
cmd p2 run --results "$R" --run-id p2 --prepare "$TEST_TMP/one.ini"
check "run --prepare creates a run and runs nothing" \
	sh -c "[ \$(cat $TEST_TMP/p1.rc) = 0 ] && [ -f $R/p1/manifest.json ] && [ -z \"\$(ls $R/p1/cells)\" ]"
cmd f4 fanout --results "$R" --hosts "$TEST_TMP/hostsfile" --stage "$TEST_TMP/flow/fanout" p1 p2
check "the rounds of two runs in one fan-out: exit 0" rc_is f4 0
check "... one GNU parallel, a job per run's round" \
	test "$(awk -F'\t' 'NR > 1 && $7 == 0 { print $9 }' "$TEST_TMP/flow/fanout/joblog" |
		sed 's/.* jobs\///' | sort | tr '\n' ' ')" = "p1.r1 p2.r1 "
cmd p1r run --results "$R" --resume p1
cmd p2r run --results "$R" --resume p2
check "... and each run finishes with --resume, every cell ok, with its host" \
	test "$(q "select count(*) || ' ' || sum(status = 'ok') || ' ' || count(host) from cells where run_id in ('p1', 'p2')")" = "4 4 4"

# --- a host dies mid-round ----------------------------------------------
# hostb is killed (its PID namespace: sshd, the job, QEMU) once its round
# has started; parallel's --retries hands the round to hosta.
"$IB" run --results "$R" --run-id f2 --hosts "$TEST_TMP/hostsfile" \
	"$TEST_TMP/tiny.ini" > "$TEST_TMP/f2.out" 2> "$TEST_TMP/f2.err" &
pid=$!
i=0
booted="$TEST_TMP/hosts/hostb/home/.cache/iommubench/fanout/f2/jobs/r*/run/logs/b*/serial.log"
while [ $i -lt 900 ] && ! ls $booted > /dev/null 2>&1; do
	sleep 0.2
	i=$((i + 1))
done
ls $booted > /dev/null 2>&1
check "hostb started booting its round" test $? = 0
ssh_host_kill hostb
wait $pid
echo $? > "$TEST_TMP/f2.rc"
sed 's/^/# err: /' "$TEST_TMP/f2.err" | tail -8
failed f2
check "the run with a host killed finishes: exit 0" rc_is f2 0
check "every cell once, all ok" \
	test "$(q "select count(*) || ' ' || count(distinct cell_id) || ' ' || sum(status = 'ok') from cells where run_id = 'f2'")" = "4 4 4"
check "hostb's round finished on hosta: every cell ran there" \
	test "$(q "select group_concat(distinct host) from cells where run_id = 'f2'")" = hosta
check "GNU parallel's job log has both rounds done on hosta" \
	test "$(awk -F'\t' 'NR > 1 && $7 == 0 && $2 == "hosta"' "$R/f2/fanout/joblog" | wc -l)" = 2

# --- interrupted, then resumed from the job log ---------------------------
printf ':\n' > "$TEST_TMP/hostsfile2"
"$IB" run --results "$R" --run-id f3 --hosts "$TEST_TMP/hostsfile2" \
	"$TEST_TMP/tiny.ini" > /dev/null 2> "$TEST_TMP/f3.err" &
pid=$!
i=0
while [ $i -lt 1500 ] && ! grep -q '	0	0	' "$R/f3/fanout/joblog" 2>/dev/null; do
	sleep 0.2
	i=$((i + 1))
done
kill -INT $pid
wait $pid
echo $? > "$TEST_TMP/f3.rc"
sed 's/^/# err: /' "$TEST_TMP/f3.err" | tail -6
check "an interrupted fan-out exits 130" rc_is f3 130
done1=$(awk -F'\t' 'NR > 1 && $7 == 0 { print $1 }' "$R/f3/fanout/joblog" | head -1)
start1=$(grep -h '"started"' "$R"/f3/cells/*-r$done1.json 2>/dev/null | sort | head -1)
cmd f3b run --results "$R" --resume f3
failed f3
check "--resume finishes it: exit 0" rc_is f3b 0
check "every cell once, all ok" \
	test "$(q "select count(*) || ' ' || count(distinct cell_id) || ' ' || sum(status = 'ok') from cells where run_id = 'f3'")" = "4 4 4"
check "the round the job log had done was not run again" \
	test -n "$start1" -a "$(grep -h '"started"' "$R"/f3/cells/*-r$done1.json | sort | head -1)" = "$start1"
check "':' is this machine: every cell names it" \
	test "$(q "select count(*) from cells where run_id = 'f3' and host = '$(uname -n)'")" = 4
finish
