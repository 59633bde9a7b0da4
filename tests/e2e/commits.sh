#!/bin/sh
# iommubench commits and bisect.  Always: the command lines and the errors
# that need no kernel.  With IB_CHECK_KERNEL=1 ('make check-kernel'): a
# synthetic history (tests/e2e/synthetic-history.sh: Debian's 6.1 source,
# the iommu.policy= series, one commit that delays every unmap by 5 us, one
# harmless commit) built commit by commit, each run through
# bench/matrices/commit-gate.ini and gated against the first; the flow must
# flag the planted commit and only it, and bisect must name it.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

M="$top_srcdir/bench/matrices/commit-gate.ini"
R="$TEST_TMP/results"

# cmd NAME ARGS...: iommubench ARGS, output in $TEST_TMP/NAME.{out,err,rc}
cmd() {
	name=$1
	shift
	"$IB" "$@" > "$TEST_TMP/$name.out" 2> "$TEST_TMP/$name.err"
	echo $? > "$TEST_TMP/$name.rc"
	sed 's/^/# out: /' "$TEST_TMP/$name.out" | tail -20
	sed 's/^/# err: /' "$TEST_TMP/$name.err" | tail -20
}

command -v git >/dev/null || skip_all "git is not installed (scripts/setup installs it)"
# $TEST_TMP may sit inside someone's git work tree: do not look above it.
GIT_CEILING_DIRECTORIES=$TEST_TMP
export GIT_CEILING_DIRECTORIES

# A tiny git tree for the errors (not a kernel: nothing gets built).
T0="$TEST_TMP/tree"
mkdir -p "$T0"
git -C "$T0" init -q
for i in 1 2; do
	echo "$i" > "$T0/file"
	git -C "$T0" add file
	git -C "$T0" -c user.name=t -c user.email=t@t commit -q -m "c$i"
done

if [ "${IB_CHECK_KERNEL:-0}" = 1 ]; then
	require_vm
	plan 35
else
	plan 12
fi

cmd c-norange commits --results "$R" --tree "$T0" --matrix "$M"
check "commits without a range: exit 2" rc_is c-norange 2
check "commits without a range: says what it expects" err_has c-norange "REV1..REV2"
cmd c-notgit commits --results "$R" --tree "$TEST_TMP" --matrix "$M" HEAD~1..HEAD
check "commits on a directory that is not a git tree: exit 2" rc_is c-notgit 2
check "... and says so" err_has c-notgit "not a git tree"
cmd c-badrev commits --results "$R" --tree "$T0" --matrix "$M" nosuch..HEAD
check "commits with an unknown revision: exit 2 naming it" \
	sh -c "[ \$(cat $TEST_TMP/c-badrev.rc) = 2 ] && grep -q \"'nosuch' is not a commit\" $TEST_TMP/c-badrev.err"
cmd c-alpha commits --results "$R" --tree "$T0" --matrix "$M" --alpha 0.9 HEAD~1..HEAD
check "commits checks the gate's options before building anything" \
	sh -c "[ \$(cat $TEST_TMP/c-alpha.rc) = 2 ] && grep -q 'alpha 0.9: a number in' $TEST_TMP/c-alpha.err"
cmd c-good commits --results "$R" --tree "$T0" --matrix "$M" --good HEAD HEAD~1..HEAD
check "commits refuses bisect's --good" rc_is c-good 2
cmd b-nometric bisect --results "$R" --tree "$T0" --matrix "$M" --good HEAD~1 --bad HEAD
check "bisect without --metric: exit 2" rc_is b-nometric 2
cmd b-order bisect --results "$R" --tree "$T0" --matrix "$M" --good HEAD --bad HEAD~1 --metric x
check "bisect with good after bad: exit 2, says so" \
	sh -c "[ \$(cat $TEST_TMP/b-order.rc) = 2 ] && grep -q 'not an ancestor' $TEST_TMP/b-order.err"
(cd "$T0" && "$IB" bisect-step --tree "$T0" --matrix "$M" --baseline-run x \
	--flow-dir "$TEST_TMP" > "$TEST_TMP/step.out" 2> "$TEST_TMP/step.err")
echo $? > "$TEST_TMP/step.rc"
check "bisect-step outside a bisection aborts it (exit 128)" rc_is step 128
check "commits refuses a --tree that is a file, and nothing is written" \
	sh -c "! \"$IB\" commits --tree \"$M\" --matrix \"$M\" --results \"$R\" a..b 2>/dev/null &&
	       [ ! -e \"$R\" ]"
cmd c-hosts commits --results "$R" --tree "$T0" --matrix "$M" --hosts "$TEST_TMP/nohosts" HEAD~1..HEAD
check "commits --hosts of a missing file: exit 2 naming it, before building anything" \
	sh -c "[ \$(cat $TEST_TMP/c-hosts.rc) = 2 ] && grep -q 'hosts $TEST_TMP/nohosts' $TEST_TMP/c-hosts.err && [ ! -e \"$R\" ]"

[ "${IB_CHECK_KERNEL:-0}" = 1 ] || finish

# --- the synthetic history ---------------------------------------------
top_srcdir=$top_srcdir IB=$IB sh "$top_srcdir/tests/e2e/synthetic-history.sh" \
	> "$TEST_TMP/synth.out" 2> "$TEST_TMP/synth.err"
echo $? > "$TEST_TMP/synth.rc"
sed 's/^/# /' "$TEST_TMP/synth.err" | tail -5
check "the synthetic history is made" rc_is synth 0
T=$(cat "$TEST_TMP/synth.out")
[ -d "$T/.git" ] || bail "no synthetic tree"
planted=$(git -C "$T" rev-parse HEAD~1)
base=$(git -C "$T" rev-parse HEAD~4)
check "it has five commits, the planted one second to last" \
	sh -c "[ \$(git -C '$T' rev-list --count HEAD) = 5 ] &&
	       git -C '$T' show HEAD~1 | grep -q '^+	udelay(5);'"
git -C "$T" log --format='# %h %s'

# The planted delay is 5 us on a ~3 us unmap under TCG; runs minutes apart
# on this shared machine drift by up to ~20 %, hence --min-effect 30.
GATE="--metric dmabench.unmap.p50 --min-effect 30"

cmd flow commits --tree "$T" --matrix "$M" --results "$R" $GATE HEAD~4..HEAD
check "commits: exit 1 (a regression)" rc_is flow 1
S=$(ls -d "$R"/commits-*/ | head -n 1)
# Every commit is gated against the first: the planted commit brings the
# regression, the one after it carries it, the two before are clean.
p12=$(echo "$planted" | cut -c1-12)
for c in $(git -C "$T" rev-list HEAD~4..HEAD); do
	short=$(echo "$c" | cut -c1-12)
	subj=$(git -C "$T" log -1 --format=%s "$c" | cut -c1-40)
	if [ "$c" = "$planted" ]; then
		check "commits: the planted commit is REGRESSED" \
			grep -q "^  $short  REGRESSED" "$TEST_TMP/flow.out"
	elif git -C "$T" merge-base --is-ancestor "$planted" "$c"; then
		check "commits: $subj carries it (since the planted one)" \
			sh -c "grep -q '^  $short  carried' $TEST_TMP/flow.out &&
			       grep -q '(since $p12)' $TEST_TMP/flow.out"
	else
		check "commits: $subj is clean" \
			grep -q "^  $short  clean" "$TEST_TMP/flow.out"
	fi
done
check "commits: the regression names dmabench.unmap.p50" \
	grep -q "dmabench.unmap.p50 strict +" "$TEST_TMP/flow.out"
check "commits: says the planted commit introduced it, and no other" \
	sh -c "grep -q '^regression introduced by $planted ' $TEST_TMP/flow.out &&
	       [ \$(grep -c '^regression introduced by' $TEST_TMP/flow.out) = 1 ]"
check "commits: summary.json records the planted commit as introducing it" \
	sh -c "tr -d ' \n' < '$S/summary.json' |
	       grep -q '\"commit\":\"$planted\"[^}]*\"gate\":\"REGRESSED\"[^}]*\"introduces_regression\":true'"
check "commits: summary.md and a gate report per commit" \
	sh -c "[ -f '$S/summary.md' ] && [ \$(ls '$S'/gate-*.json | wc -l) = 4 ]"

# every run carries its commits in every cell (each pairs the baseline)
runs_ok() {
	for c in $base $(git -C "$T" rev-list HEAD~4..HEAD); do
		n=$(sqlite3 "$R/index.sqlite" "SELECT count(*) FROM cells WHERE kernel_commit = '$c' AND status = 'ok'")
		echo "# $c: $n ok cells"
		[ "$n" -ge 5 ] || return 1
	done
}
check "the store has >= 5 ok cells keyed by each of the 5 commits" runs_ok

# Again: kernels and runs are reused, the verdicts are the same.
cmd flow2 commits --tree "$T" --matrix "$M" --results "$R" $GATE HEAD~4..HEAD
check "commits again: exit 1" rc_is flow2 1
check "commits again: every run reused, nothing rebuilt" \
	sh -c "[ \$(grep -c 'measured before, reusing' $TEST_TMP/flow2.err) = 4 ] &&
	       ! grep -q '^iommubench: building' $TEST_TMP/flow2.err"
check "commits again: the same verdict lines" \
	sh -c "grep '^  [0-9a-f]\{12\}  ' $TEST_TMP/flow.out > $TEST_TMP/v1 &&
	       grep '^  [0-9a-f]\{12\}  ' $TEST_TMP/flow2.out > $TEST_TMP/v2 &&
	       cmp -s $TEST_TMP/v1 $TEST_TMP/v2"

# Unpaired: one run per commit, gated against the baseline's own run.  The
# typo fix against the planted commit (both with the delay) is clean.
cmd unp commits --tree "$T" --matrix "$M" --results "$R.unpaired" --unpaired \
	$GATE HEAD~1..HEAD
# two separate runs on the host clock: the gate has no estimate of the
# noise between them and says so (docs/analysis.md, the unit of replication)
check "commits --unpaired: separate host-clock runs cannot be judged, exit 3" \
	sh -c "[ \$(cat $TEST_TMP/unp.rc) = 3 ] &&
	       grep -q '^  [0-9a-f]\{12\}  cannot-judge' $TEST_TMP/unp.out"
check "commits --unpaired: one run per commit, none paired" \
	sh -c "[ \$(ls -d '$R.unpaired'/commit-* | wc -l) = 2 ] &&
	       ! ls -d '$R.unpaired'/pair-* 2>/dev/null"

# bisect in a fresh store: it measures what git bisect asks for.
cmd bis bisect --tree "$T" --good HEAD~4 --bad HEAD --matrix "$M" \
	--results "$R.bisect" $GATE
check "bisect: exit 0" rc_is bis 0
check "bisect: names the planted commit" \
	grep -q "^first bad commit: $planted " "$TEST_TMP/bis.out"
B=$(ls -d "$R.bisect"/bisect-*/ | head -n 1)
check "bisect: its log records the steps and the answer" \
	sh -c "grep -q '^git bisect start' '$B/bisect.log' &&
	       grep -q '# first bad commit: \[$planted\]' '$B/bisect.log'"
check "bisect: it ran fewer pairs than the range has commits" \
	sh -c "[ \$(ls -d '$R.bisect'/pair-* | wc -l) -le 3 ]"
check "bisect: the user's tree is untouched (HEAD, no bisect state)" \
	sh -c "[ \$(git -C '$T' rev-parse HEAD) = \$(git -C '$T' rev-parse main) ] &&
	       ! git -C '$T' bisect log >/dev/null 2>&1"
check "bisect: the good end's run was not regressed (nothing to bisect otherwise)" \
	sh -c "! grep -q 'nothing to bisect' $TEST_TMP/bis.err"
finish
