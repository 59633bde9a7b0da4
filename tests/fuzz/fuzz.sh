#!/bin/sh
# Run the libFuzzer harnesses (docs/fuzzing.md); TAP on stdout, one line
# per harness.  Arguments: harness names (default: all).
#
#   make check   each for FUZZ_SECONDS (default 5) with seed 1, from the
#                seed corpus, new inputs in tests/fuzz/check/<name>/
#                (emptied first)
#   make fuzz    each for FUZZ_SECONDS (default 60) with a random seed,
#                new inputs kept in tests/fuzz/work/<name>/ from run to run
#
# A crash, leak, undefined behaviour, hang (> 10 s) or broken check fails
# the harness; its input is left beside the log and named in the output.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
secs=${FUZZ_SECONDS:-5}

case ${IB_FUZZ_STATUS:-no} in
yes*) ;;
*)
	echo "1..0 # SKIP fuzz harnesses ${IB_FUZZ_STATUS:-not configured}"
	exit 0
	;;
esac
if [ -n "${FUZZ_WORK:-}" ]; then
	work=$FUZZ_WORK seed=0
else
	work=$top_builddir/tests/fuzz/check seed=1
	rm -rf "$work"
fi
[ $# -gt 0 ] || set -- matrix cell fio manifest device
echo "1..$#"
n=0
for name; do
	n=$((n + 1))
	bin=$top_builddir/tests/fuzz/fuzz-$name
	dir=$work/$name
	mkdir -p "$dir/corpus"
	: > "$dir/start"
	"$bin" -seed=$seed -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -detect_leaks=1 -print_final_stats=1 \
		-artifact_prefix="$dir/" \
		"$dir/corpus" "$top_srcdir/tests/fuzz/corpus/$name" \
		> "$dir/log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
	if [ $rc -eq 0 ] && [ -n "$runs" ]; then
		echo "ok $n - $name: $runs runs in ${secs} s"
		continue
	fi
	echo "not ok $n - $name: exit status $rc after ${runs:-?} runs (log: $dir/log)"
	grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz: )|runtime error|Assertion' "$dir/log" |
		head -n 5 | sed 's/^/# /'
	# this run's inputs (earlier runs of make fuzz may have left some)
	find "$dir" -type f -newer "$dir/start" \( -name 'crash-*' -o \
		-name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) |
		sed 's/^/# input: /'
done
exit 0
