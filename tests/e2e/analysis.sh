#!/bin/sh
# compare, gate, history and report on synthetic result stores: no VM.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

plan 47

S="$TEST_TMP/store"
synth() {
	"$IB" synth-store --results "$S" "$@" > /dev/null 2> "$TEST_TMP/synth.err" ||
		bail "synth-store $*: $(cat "$TEST_TMP/synth.err")"
}
# run NAME CMD...: stdout, stderr and status of an iommubench command
run() {
	name=$1
	shift
	"$IB" "$@" > "$TEST_TMP/$name.out" 2> "$TEST_TMP/$name.err"
	echo $? > "$TEST_TMP/$name.rc"
	sed 's/^/# err: /' "$TEST_TMP/$name.err" | head -20
}

synth --run A --seed 1 --iommutrace
synth --run A2 --seed 2
synth --run B --seed 3 --shift 'fio.read.iops=-10'
synth --run C --seed 4 --shift 'dmabench.unmap.p99=+20'
synth --run F --seed 5 --reps 3

# --- compare
run cmp compare --results "$S" A
check "compare: exit 0" rc_is cmp 0
check "compare: lazy IOPS vs strict with a CI" \
	grep -Eq 'lazy +5 +[0-9.]+k IOPS +\[[0-9.]+k IOPS, [0-9.]+k IOPS\] +1\.[0-9]+ +\[1\.[0-9]+, 1\.[0-9]+\]' "$TEST_TMP/cmp.out"
# every row's policy starts in one column, however long the metric names
# (trace.exposure.strict.p50 pushed it out before)
check "compare: the columns line up whatever the metric names" \
	test "$(sed -n 's/^\(.*  \)\(strict\|lazy\|identity\)  .*/\1/p' "$TEST_TMP/cmp.out" |
		awk '{ print length($0) }' | sort -u | wc -l)" = 1
check "compare: times in ns/µs/ms, rates in IOPS and MB/s, no bare SI numbers" \
	sh -c "grep -Eq '^  fio.read.clat_p50 .* [0-9.]+ ms ' '$TEST_TMP/cmp.out' &&
	       grep -Eq '^  dmabench.map.p50 .* [0-9.]+ µs ' '$TEST_TMP/cmp.out' &&
	       grep -Eq '^  fio.read.bw .* [0-9.]+ MB/s ' '$TEST_TMP/cmp.out' &&
	       ! grep -Eq '[0-9][kMG]([],]| +[[0-9-])' '$TEST_TMP/cmp.out'"
run cmpcsv compare --results "$S" --format csv --metric 'fio.read.*' A
check "compare --format csv: header and 15 rows (5 metrics x 3 policies)" \
	test "$(head -1 "$TEST_TMP/cmpcsv.out" | cut -d, -f1-5)" = "kernel,iommu,policy,workload,metric" -a \
	"$(wc -l < "$TEST_TMP/cmpcsv.out")" = 16
run cmpjson compare --results "$S" --format json --by policy --baseline lazy A
check "compare --format json --baseline lazy: ratios refer to lazy" \
	grep -q '"baseline": "lazy"' "$TEST_TMP/cmpjson.out"
check "compare --format json: schema named" grep -q 'iommubench.compare/1' "$TEST_TMP/cmpjson.out"
run cmpbad compare --results "$S" --baseline sloppy A
check "compare --baseline of a missing value: error" rc_is cmpbad 1
run cmpnone compare --results "$S" no-such-run
check "compare of an unknown run: error naming it" err_has cmpnone 'no-such-run'
run cmpdir compare "$S/A"
check "compare RUN-DIRECTORY finds its index" rc_is cmpdir 0

# --- gate
run aa gate --results "$S" --baseline A --candidate A2 --junit "$TEST_TMP/aa.xml" --markdown "$TEST_TMP/aa.md"
check "gate A/A: exit 0" rc_is aa 0
check "gate A/A: no REGRESSED line" sh -c "! grep -q REGRESSED '$TEST_TMP/aa.out'"
check "gate A/A: JUnit with no failure" grep -q 'failures="0" errors="0"' "$TEST_TMP/aa.xml"
check "gate A/A: Markdown says clean" grep -q '^\*\*clean\*\*' "$TEST_TMP/aa.md"
run reg gate --results "$S" --baseline A --candidate B --junit "$TEST_TMP/reg.xml"
check "gate, IOPS down 10 %: exit 1" rc_is reg 1
check "gate: fio.read.iops of every policy regressed" \
	test "$(grep -c 'REGRESSED .*fio.read.iops' "$TEST_TMP/reg.out")" = 3
check "gate: the regressions come first" \
	sh -c "awk '/^  [A-Za-z]/ && \$1 != \"verdict\" { print \$1 }' '$TEST_TMP/reg.out' | uniq |
	       head -1 | grep -qx REGRESSED && [ \$(awk '/^  [A-Za-z]/ { print \$1 }' '$TEST_TMP/reg.out' | uniq | grep -c REGRESSED) = 1 ]"
check "gate: ends with the counts" \
	sh -c "tail -1 '$TEST_TMP/reg.out' | grep -Eqx 'gate: regression: 15 regressed, [0-9]+ clean, 4 cannot judge of [0-9]+'"
check "gate: 'underpowered' explained once, under the table" \
	sh -c "[ \$(grep -c '^underpowered ([0-9]* of [0-9]* series): ' '$TEST_TMP/reg.out') = 1 ] &&
	       grep -q 'underpowered (needs [0-9]* per side)' '$TEST_TMP/reg.out'"
check "gate: medians in their units" \
	grep -Eq 'REGRESSED .*fio.read.clat_p50 +[0-9.]+ ms +[0-9.]+ ms ' "$TEST_TMP/reg.out"
check "gate: JUnit failures name the metric" \
	grep -q '<testcase classname="intel/strict/fio-randread" name="fio.read.iops"><failure' "$TEST_TMP/reg.xml"
run lat gate --results "$S" --baseline A --candidate C --metric 'dmabench.unmap.*'
check "gate, unmap p99 up 20 % (latency: up is bad): exit 1" rc_is lat 1
check "gate: the p99 is the regression, not the rate" \
	sh -c "grep -q 'REGRESSED .*dmabench.unmap.p99' '$TEST_TMP/lat.out' && ! grep -q 'REGRESSED .*dmabench.unmap.rate' '$TEST_TMP/lat.out'"
run imp gate --results "$S" --baseline B --candidate A --metric fio.read.iops
check "gate, IOPS up 10 %: an improvement, exit 0" \
	sh -c "[ \$(cat '$TEST_TMP/imp.rc') = 0 ] && grep -q 'improved' '$TEST_TMP/imp.out'"
run big gate --results "$S" --baseline A --candidate B --metric fio.read.iops --min-effect 20
check "gate --min-effect 20: a 10 % drop does not count" rc_is big 0
run few gate --results "$S" --baseline A --candidate F
check "gate with 3 repetitions: refuses, exit 2" rc_is few 2
check "gate: says how many repetitions it needs" \
	grep -q 'needs at least 5 per side' "$TEST_TMP/few.out"
run usage gate --results "$S" --baseline A
check "gate without --candidate: exit 2" rc_is usage 2

# --- history: 6 kernels, IOPS drop 15 % from the 4th on
for k in 0 1 2 3 4 5; do
	shift=0
	[ $k -ge 3 ] && shift=-15
	"$IB" synth-store --results "$TEST_TMP/hist" --run "H$k" --kernels 1 --kernel-base "$k" --seed $((k + 20)) --no-files \
		--policies 1 --shift "fio.read.iops=$shift" --started "2026-02-0${k}T00:00:00Z" \
		> /dev/null || bail "synth-store H$k"
done
run hist history --results "$TEST_TMP/hist" --metric fio.read.iops --plot "$TEST_TMP/trend"
check "history: exit 0" rc_is hist 0
check "history: one change point, at the 4th commit" \
	sh -c "[ \$(grep -c '<- change point' '$TEST_TMP/hist.out') = 1 ] && grep -q '^  4 .*change point: -1[0-9]' '$TEST_TMP/hist.out'"
check "history: medians in IOPS" grep -Eq '^  1  [0-9a-f]+ +5 +[0-9.]+k IOPS +\[' "$TEST_TMP/hist.out"
check "history --plot: trend PNG, SVG and script" \
	sh -c "ls '$TEST_TMP'/trend/trend-*.png '$TEST_TMP'/trend/trend-*.svg '$TEST_TMP'/trend/trend-*.gp >/dev/null"
run histnone history --results "$TEST_TMP/hist" --metric no.such.metric
check "history of an unknown metric: error" rc_is histnone 1

# --- report
run rep report --results "$S" A
check "report: exit 0, prints the HTML path" \
	sh -c "[ \$(cat '$TEST_TMP/rep.rc') = 0 ] && [ \"\$(cat '$TEST_TMP/rep.out')\" = '$S/A/report/report.html' ]"
check "report: bars, CDFs and the exposure window, each PNG + SVG + .gp" \
	sh -c "cd '$S/A/report/plots' && ls bars-*.png cdf-fio-randread-fio.png cdf-dmabench-single-unmap.svg cdf-dmabench-single-exposure.gp >/dev/null"
# a rate's +337 % and a latency's -87 % never share an axis, and up is
# better in both charts: the latency's reduction is plotted
bars="$S/A/report/plots/bars-synth_0-intel-dmabench-single"
check "report: rates and times in charts of their own, up is better in both" \
	sh -c "grep -q '^\"dmabench.map.rate\" ' '$bars-rates.dat' && ! grep -q '^\"dmabench.map.rate\" ' '$bars-times.dat' &&
	       grep -q '^\"dmabench.unmap.p50\" ' '$bars-times.dat' && ! grep -q '^\"dmabench.unmap.p50\" ' '$bars-rates.dat' &&
	       awk '\$1 == \"\\\"dmabench.unmap.p50\\\"\" { exit !(\$5 > 80 && \$5 < 95) }' '$bars-times.dat' &&
	       awk '\$1 == \"\\\"dmabench.map.rate\\\"\" { exit !(\$5 > 300) }' '$bars-rates.dat'"
# one colour per policy in every figure and in the HTML, never the green
# or red of better and worse
pc=
for p in strict lazy identity; do
	c=$({ grep -ho "title '$p' lc rgb '#[0-9a-f]*'\|lc rgb '#[0-9a-f]*' title '$p " \
		"$S"/A/report/plots/*.gp
	      grep -o "background:#[0-9a-f]*\"></i>$p<" "$S/A/report/report.html"
	    } | grep -o '#[0-9a-f]\{6\}' | sort -u | tr '\n' ' ')
	pc="$pc$p=$c"
done
echo "# policy colours: $pc"
check "report: one colour per policy in the plots and the HTML, not green or red" \
	sh -c "echo '$pc' | grep -Eqx 'strict=#[0-9a-f]{6} lazy=#[0-9a-f]{6} identity=#[0-9a-f]{6} ' &&
	       ! echo '$pc' | grep -Eq '#1e8449|#c0392b|#229954' &&
	       [ \$(echo '$pc' | grep -o '#[0-9a-f]*' | sort -u | wc -l) = 3 ]"
check "report: HTML inlines every plot" \
	test "$(grep -o 'data:image/png;base64' "$S/A/report/report.html" | wc -l)" = "$(ls "$S"/A/report/plots/*.png | wc -l)"
check "report: Markdown summary with the comparison" grep -q '^| fio.read.iops (ops/s, higher is better) | strict | 5 | [0-9.]*k IOPS |' "$S/A/report/report.md"
run rep2 report --results "$S" A2
check "report without iommutrace: the exposure plot is skipped, and it says why" \
	sh -c "grep -q 'no cell of this run carries it' '$TEST_TMP/rep2.err' && grep -q 'Not plotted' '$S/A2/report/report.html'"
# A host-mode run's boots have no accel (no QEMU): the report crashed on it.
sed 's/^{/{ "target": "host", "plan": { "boots": [ { "id": "b001", "host": "lab1" } ] },/' \
	"$S/A2/manifest.json" > "$TEST_TMP/host-manifest.json" &&
	cp "$TEST_TMP/host-manifest.json" "$S/A2/manifest.json"
run rep3 report --results "$S" A2
check "report of a host-mode run (boots without accel): exit 0" rc_is rep3 0

# --- a full disk: every output whole or absent, and a loud failure.  A
# 64 KiB tmpfs in a private mount namespace (unshare -rm: no root needed
# where user namespaces are allowed), 4 KiB left free: less than any output of the gate below.
full_disk() {
	unshare -rm sh -c '
		mount -t tmpfs -o size=64k tmpfs "$1" || exit 77
		dd if=/dev/zero of="$1/fill" bs=1k count=60 2> /dev/null
		shift
		"$@"' sh "$@"
}
mkdir -p "$TEST_TMP/full"
if full_disk "$TEST_TMP/full" true 2> /dev/null; then
	fulls() {
		name=$1
		shift
		full_disk "$TEST_TMP/full" sh -c '
			"$@" > "$0.out" 2> "$0.err"
			echo $? > "$0.rc"
			ls -A "$(dirname "$0")/full" > "$0.ls"
			ls -A "$(dirname "$0")/full/rep" > "$0.rep.ls" 2> /dev/null
			true' "$TEST_TMP/$name" "$IB" "$@"
		sed 's/^/# err: /' "$TEST_TMP/$name.err" | head -10
	}
	fulls fulljunit gate --results "$S" --baseline A --candidate B --junit "$TEST_TMP/full/gate.xml"
	check "gate --junit onto a full disk: exit 2" rc_is fulljunit 2
	check "gate --junit onto a full disk: the error names the file and the reason" \
		err_has fulljunit "gate.xml: No space left on device"
	check "gate --junit onto a full disk: no file, no temporary left" \
		test "$(cat "$TEST_TMP/fulljunit.ls")" = fill
	fulls fullmd gate --results "$S" --baseline A --candidate B --markdown "$TEST_TMP/full/gate.md"
	check "gate --markdown onto a full disk: exit 2, the file named, nothing left" \
		sh -c "[ \$(cat '$TEST_TMP/fullmd.rc') = 2 ] && grep -q 'gate.md: No space left on device' '$TEST_TMP/fullmd.err' && [ \"\$(cat '$TEST_TMP/fullmd.ls')\" = fill ]"
	fulls fullrep report --results "$S" -o "$TEST_TMP/full/rep" A
	check "report onto a full disk: exit 1 with an error naming a file" \
		sh -c "[ \$(cat '$TEST_TMP/fullrep.rc') = 1 ] && grep -q '$TEST_TMP/full/rep/.*: ' '$TEST_TMP/fullrep.err'"
	check "report onto a full disk: no partial plots/, no report.html, no temporary" \
		test -z "$(cat "$TEST_TMP/fullrep.rep.ls")"
else
	for i in 1 2 3 4 5 6; do
		skip "no private tmpfs here (unshare -rm and mount -t tmpfs)"
	done
fi
finish
