#!/bin/sh
# Remote host mode (run --target ssh://...): a guest with an IOMMU is a
# machine with an IOMMU, reached over SSH.  The guest runs dropbear (vm run
# --ssh-port), reached through QEMU's user network at a loopback port
# forwarded to the guest (restrict=on: the guest reaches nothing); the
# suite is installed there by the run itself, cells come back into the
# local store with the guest's identity, the agent refuses to unbind the
# disk the remote's home (where the suite and the run live) is on, an
# interrupted run resumes, and a lost connection fails the cell it cut,
# with the reason, and the run goes on.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

require_vm
command -v ssh >/dev/null || skip_all "no ssh (the Debian package openssh-client)"
command -v dropbear >/dev/null || [ -x /usr/sbin/dropbear ] ||
	skip_all "no dropbear (the Debian package dropbear-bin; scripts/setup installs it)"
plan 26

K="$TEST_TMP/ssh"
mkdir -p "$K"
ssh-keygen -q -t ed25519 -N '' -f "$K/id" -C iommubench-test
cat > "$K/config" <<CFG
Host *
	IdentityFile $K/id
	IdentitiesOnly yes
	UserKnownHostsFile $K/known_hosts
	StrictHostKeyChecking accept-new
	LogLevel ERROR
CFG
IOMMUBENCH_SSH="ssh -F $K/config"
export IOMMUBENCH_SSH
# A port of loopback for the forward; QEMU fails loudly if it is taken.
PORT=$((20000 + $$ % 20000))
URL="ssh://root@127.0.0.1:$PORT"
g() { $IOMMUBENCH_SSH -o BatchMode=yes -p "$PORT" root@127.0.0.1 "$@"; }

"$IB" vm run --run-dir "$TEST_TMP/guest.run" --kernel debian:6.1 --testdev \
	--module ext4 --ssh-port "$PORT" --ssh-key "$K/id.pub" --no-share \
	--timeout 1500 -- 'while [ ! -e /tmp/stop ]; do sleep 1; done' \
	> "$TEST_TMP/guest.out" 2> "$TEST_TMP/guest.err" &
vmpid=$!
trap 'g touch /tmp/stop 2>/dev/null; kill $vmpid 2>/dev/null; wait $vmpid; rm -rf "$TEST_TMP"' EXIT
i=0
until g true 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 180 ] || ! kill -0 $vmpid 2>/dev/null; then
		sed 's/^/# /' "$TEST_TMP/guest.err"
		bail "the guest's SSH server did not answer on 127.0.0.1:$PORT"
	fi
	sleep 1
done
check "the guest's SSH server answers on the forwarded loopback port" true

cat > "$TEST_TMP/db.ini" <<'INI'
[global]
policies = strict lazy identity
repetitions = 1
seed = 3

[db]
type = dmabench
args = --duration 0.2
INI

# cmd NAME ARGS...: iommubench ARGS; output in NAME.out/.err, status NAME.rc
cmd() {
	name=$1
	shift
	"$IB" "$@" > "$TEST_TMP/$name.out" 2> "$TEST_TMP/$name.err"
	echo $? > "$TEST_TMP/$name.rc"
	sed 's/^/# err: /' "$TEST_TMP/$name.err" | tail -15
}
R="$TEST_TMP/res"
q() { sqlite3 "$R/index.sqlite" "$1"; }

# --- the suite goes over, the cells come back --------------------------
cmd r1 run --target "$URL" --device 00:05.0 --results "$R" --run-id r1 "$TEST_TMP/db.ini"
check "run --target ssh:// on the guest: exit 0" rc_is r1 0
check "the suite was installed there first" err_has r1 'installing the suite'
check "three cells, all ok, in the local index" \
	test "$(q "select count(*) from cells where run_id = 'r1' and status = 'ok'")" = 3
check "each policy set through sysfs and read back there" \
	test "$(q "select group_concat(policy || '=' || verified_type, ' ') from
		   (select policy, verified_type from cells where run_id = 'r1' order by policy)")" = \
	     "identity=identity lazy=DMA-FQ strict=DMA"
check "every cell names the guest as its host" \
	test "$(q "select group_concat(distinct host) from cells where run_id = 'r1'")" = iommubench-guest
check "the manifest's host is the guest: name, its VT-d unit, its kernel" \
	sh -c "grep -q '\"name\": \"iommubench-guest\"' $R/r1/manifest.json &&
	       grep -q '\"dmar0\"' $R/r1/manifest.json &&
	       grep -q '\"kernel\": \"6.1.0-' $R/r1/manifest.json"
check "... and the machine that asked is the controller" \
	grep -q '"controller": {' "$R/r1/manifest.json"
check "the guest's kernel release is the cells' kernel" \
	test "$(q "select group_concat(distinct kernel_release) from cells where run_id = 'r1'")" = "$(g uname -r)"

cmd r2 run --target "$URL" --device 00:05.0 --results "$R" --run-id r2 "$TEST_TMP/db.ini"
check "a second run: exit 0" rc_is r2 0
check "... with the suite already there" sh -c "! grep -q 'installing the suite' $TEST_TMP/r2.err"

cmd set policy --target "$URL" set --device 00:05.0 --rebind lazy
check "policy set --target: exit 0" rc_is set 0
cmd show policy --target "$URL" show 00:05.0
check "policy show --target: the guest's device, now lazy" out_has show '^0000:00:05.0 .* DMA-FQ *lazy'
cmd verify policy --target "$URL" verify --device 00:05.0 --expect strict
check "policy verify --target: its exit status comes back (122: not strict)" rc_is verify 122

# --- resume: the controller interrupted mid-run --------------------------
sed 's/--duration 0.2/--duration 2/' "$TEST_TMP/db.ini" > "$TEST_TMP/slow.ini"
"$IB" run --target "$URL" --device 00:05.0 --results "$R" --run-id r3 \
	"$TEST_TMP/slow.ini" > /dev/null 2> "$TEST_TMP/r3.err" &
pid=$!
i=0
while [ $i -lt 300 ] && ! ls "$R"/r3/cells/*.json > /dev/null 2>&1; do
	sleep 0.2
	i=$((i + 1))
done
kill -INT $pid
wait $pid
echo $? > "$TEST_TMP/r3.rc"
check "an interrupted remote run exits 130" rc_is r3 130
check "... with some cells done" test "$(ls "$R"/r3/cells/*.json | wc -l)" -lt 3
cmd r3b run --results "$R" --resume r3
check "--resume finishes it on the same machine: exit 0" rc_is r3b 0
check "... every cell once, all ok" \
	test "$(q "select count(*) || ' ' || sum(status = 'ok') from cells where run_id = 'r3'")" = "3 3"

# --- the disk the remote's home is on ------------------------------------
# The suite and the run's files live under ~ there: with ~ on the NVMe
# disk, unbinding it would pull the agent's own files from under it.
g 'printf "n\np\n1\n\n\nw\n" | fdisk /dev/nvme0n1 >/dev/null 2>&1
   mke2fs -q /dev/nvme0n1p1 && mkdir -p /mnt && mount /dev/nvme0n1p1 /mnt &&
   cp -a /root/. /mnt/ && umount /mnt && mount /dev/nvme0n1p1 /root' ||
	echo "# could not put the guest's home on its disk"
cat > "$TEST_TMP/disk.ini" <<'INI'
[global]
policies = strict
repetitions = 1

[rr]
type = fio
rw = randread
runtime = 1
INI
cmd disk run --target "$URL" --device 00:04.0 --results "$R" --run-id disk "$TEST_TMP/disk.ini"
check "the guest's home, with the suite and the runs, is on its NVMe disk" \
	g 'grep -q "^/dev/nvme0n1p1 /root " /proc/mounts'
check "a run on the disk the remote's home is on fails (exit 1)" rc_is disk 1
check "... the cell says why" \
	grep -q 'refusing to unbind 0000:00:04.0 from nvme: its storage is in use: nvme0n1p1 mounted on /root' "$R"/disk/cells/*.json
check "... and the disk stayed bound, its policy untouched" \
	test "$(g 'd=/sys/bus/pci/devices/0000:00:04.0; echo $(basename $(readlink $d/driver)) $(cat $d/iommu_group/type)')" = "nvme DMA-FQ"

# --- a lost connection ---------------------------------------------------
# dropbear killed in the guest while the first cell runs: that cell fails
# naming the connection, the next cannot connect, the run goes on to its end.
"$IB" run --target "$URL" --device 00:05.0 --results "$R" --run-id lost \
	"$TEST_TMP/slow.ini" > /dev/null 2> "$TEST_TMP/lost.err" &
pid=$!
i=0
while [ $i -lt 300 ] && ! g 'ps | grep -q "[d]mabench --device"' 2>/dev/null; do
	sleep 0.2
	i=$((i + 1))
done
g 'killall dropbear' 2>/dev/null
wait $pid
echo $? > "$TEST_TMP/lost.rc"
sed 's/^/# err: /' "$TEST_TMP/lost.err" | tail -8
check "a run that lost its connection ends, exit 1" rc_is lost 1
check "... the cell it cut says the connection was lost" \
	sh -c "grep -l 'connection to $URL lost' $R/lost/cells/*.json | grep -q ."
check "... the cells after it could not reach it, with ssh's reason" \
	sh -c "grep -l 'cannot send the plan to $URL: kex_exchange_identification' $R/lost/cells/*.json | grep -q ."
check "... and every planned cell has its file" test "$(ls "$R"/lost/cells/*.json | wc -l)" = 3
finish
