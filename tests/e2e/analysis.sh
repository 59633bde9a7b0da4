#!/bin/sh
# compare, gate, history and report on synthetic result stores: no VM.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

plan 89

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

# separate runs on the icount clock: no noise between them (docs/analysis.md)
synth --run A --seed 1 --iommutrace --clock icount:0
synth --run A2 --seed 2 --clock icount:0
synth --run B --seed 3 --shift 'fio.read.iops=-10' --clock icount:0
synth --run C --seed 4 --shift 'dmabench.unmap.p99=+20' --clock icount:0
synth --run F --seed 5 --reps 3 --clock icount:0

run sbad synth-store --results "$TEST_TMP/sbad" --reps 5x
check "synth-store --reps 5x: usage error, exit 2, nothing written" \
	sh -c "[ \$(cat '$TEST_TMP/sbad.rc') = 2 ] && grep -q -- \"--reps: '5x' is not a whole number\" '$TEST_TMP/sbad.err' &&
	       [ ! -e '$TEST_TMP/sbad' ]"

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
run cmpjson compare --results "$S" --json - --by policy --baseline lazy A
check "compare --json - --baseline lazy: ratios refer to lazy" \
	grep -q '"baseline": "lazy"' "$TEST_TMP/cmpjson.out"
check "compare --json -: schema named" grep -q 'iommubench.compare/1' "$TEST_TMP/cmpjson.out"
run cmpnone compare --results "$S" --metric 'nosuch*' A
check "compare --metric that matches nothing fails (1), naming the pattern" sh -c \
	"[ \$(cat $TEST_TMP/cmpnone.rc) = 1 ] && grep -q 'nosuch\\*: no metric' $TEST_TMP/cmpnone.err"
run cmpjf compare --results "$S" --json "$TEST_TMP/cmp.json" A
check "compare --json FILE writes the file, nothing on stdout" sh -c \
	"[ \$(cat $TEST_TMP/cmpjf.rc) = 0 ] && grep -q 'iommubench.compare/1' $TEST_TMP/cmp.json &&
	 [ ! -s $TEST_TMP/cmpjf.out ]"
run cmpbad compare --results "$S" --baseline sloppy A
check "compare --baseline of a missing value: error" rc_is cmpbad 1
run cmpnone compare --results "$S" no-such-run
check "compare of an unknown run: error naming it" err_has cmpnone 'no-such-run'
run cmpdir compare "$S/A"
check "compare RUN-DIRECTORY finds its index" rc_is cmpdir 0

# --- gate
run aa gate --results "$S" --baseline A2 --candidate A --junit "$TEST_TMP/aa.xml" --markdown "$TEST_TMP/aa.md"
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
check "gate with 3 repetitions: refuses, exit 3" rc_is few 3
check "gate: says how many repetitions it needs" \
	grep -q 'needs at least 5 per side' "$TEST_TMP/few.out"
run usage gate --results "$S" --baseline A
check "gate without --candidate: exit 2" rc_is usage 2

# --- history: 12 kernels, IOPS drop 15 % from the 7th on
for k in 0 1 2 3 4 5 6 7 8 9 10 11; do
	shift=0
	[ $k -ge 6 ] && shift=-15
	"$IB" synth-store --results "$TEST_TMP/hist" --run "H$k" --kernels 1 --kernel-base "$k" --seed $((k + 20)) --no-files \
		--policies 1 --shift "fio.read.iops=$shift" --started "2026-02-$((k + 10))T00:00:00Z" \
		> /dev/null || bail "synth-store H$k"
done
run hist history --results "$TEST_TMP/hist" --metric fio.read.iops --plot "$TEST_TMP/trend"
check "history: exit 0" rc_is hist 0
# the # column is right-aligned: " 7" under "12"
check "history: one change point, a strong one, at the 7th commit" \
	sh -c "[ \$(grep -c '<- ' '$TEST_TMP/hist.out') = 1 ] && grep -q '^ *7 .*<- strong change point: -1[0-9]' '$TEST_TMP/hist.out'"
check "history: medians in IOPS" grep -Eq '^ +1  [0-9a-f]+ +5 +[0-9.]+k IOPS +\[' "$TEST_TMP/hist.out"
check "history --plot: trend PNG, SVG and script" \
	sh -c "ls '$TEST_TMP'/trend/trend-*.png '$TEST_TMP'/trend/trend-*.svg '$TEST_TMP'/trend/trend-*.gp >/dev/null"
run histnone history --results "$TEST_TMP/hist" --metric no.such.metric
check "history of an unknown metric: error" rc_is histnone 1
run hperm history --results "$TEST_TMP/hist" --metric fio.read.iops --permutations 5
check "history --permutations 5: usage error, exit 2, the range said" \
	sh -c "[ \$(cat '$TEST_TMP/hperm.rc') = 2 ] && grep -q -- '--permutations: 5 is out of range (19-1000000)' '$TEST_TMP/hperm.err'"

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

# --- report on a malformed cell file: an error naming the file and the
# member, not json-c's assertion (it aborted on fio.jobs not an array
# and clat_ns.bins not an object, tests/fuzz)
synth --run M --seed 6 --reps 2 --policies 2 --iommutrace
fio_cell="$S/M/cells/synth-0-intel-lazy-fio-randread-r1.json"
db_cell="$S/M/cells/synth-0-intel-lazy-dmabench-single-r1.json"
cp "$fio_cell" "$TEST_TMP/fio-cell.json" && cp "$db_cell" "$TEST_TMP/db-cell.json" ||
	bail "cp"
# malformed NAME CELLFILE IOMMUBENCH-MEMBERS: report M with that cell file
malformed() {
	echo "{\"id\": \"$(basename "$2" .json)\", \"status\": \"ok\", $3}" > "$2"
	run "$1" report --results "$S" M
}
malformed badjobs "$fio_cell" '"fio": {"jobs": {"0": {}}}'
check "report, fio.jobs not an array: exit 1, naming the file and the member" \
	sh -c "[ \$(cat '$TEST_TMP/badjobs.rc') = 1 ] &&
	       grep -q '$fio_cell: fio.jobs is not an array' '$TEST_TMP/badjobs.err'"
malformed badbins "$fio_cell" '"fio": {"jobs": [{"read": {"clat_ns": {"bins": [1]}}}]}'
check "report, clat_ns.bins not an object: exit 1, naming the file and the member" \
	sh -c "[ \$(cat '$TEST_TMP/badbins.rc') = 1 ] &&
	       grep -q '$fio_cell: fio.jobs.0.read.clat_ns.bins is not an object' '$TEST_TMP/badbins.err'"
malformed badbin "$fio_cell" '"fio": {"jobs": [{"read": {"clat_ns": {"bins": {"x": 1}}}}]}'
check "report, a bin that is not a latency: exit 1, naming the file and the bin" \
	sh -c "[ \$(cat '$TEST_TMP/badbin.rc') = 1 ] &&
	       grep -q '$fio_cell: fio.jobs.0.read.clat_ns.bins: \"x\": 1 is not' '$TEST_TMP/badbin.err'"
cp "$TEST_TMP/fio-cell.json" "$fio_cell" || bail "cp"
malformed badexp "$db_cell" '"iommutrace": {"exposure_window": {"lazy": [1]}}'
check "report, an exposure window not an object: exit 1, naming the file and the member" \
	sh -c "[ \$(cat '$TEST_TMP/badexp.rc') = 1 ] &&
	       grep -q '$db_cell: iommutrace.exposure_window.lazy is not an object' '$TEST_TMP/badexp.err'"
malformed badhist "$db_cell" '"dmabench": {"result": {"ops": {"unmap": {"latency": {"unit": "ns", "count": 2, "buckets": [[1, 1]]}}}}}'
check "report, a latency histogram that does not add up: exit 1, naming the file" \
	sh -c "[ \$(cat '$TEST_TMP/badhist.rc') = 1 ] &&
	       grep -q '$db_cell: dmabench.result.ops.unmap.latency is not a histogram' '$TEST_TMP/badhist.err'"
cp "$TEST_TMP/db-cell.json" "$db_cell" || bail "cp"
run goodm report --results "$S" M
check "report, the cells put back: exit 0" rc_is goodm 0
# the manifest is read for the provenance only: a plan.boots that is not
# an array (json-c asserted it was one) leaves the accelerators unknown
cp "$S/M/manifest.json" "$TEST_TMP/m-manifest.json" || bail "cp"
sed 's/^{$/{ "plan": { "boots": { "id": "b000" } },/' "$TEST_TMP/m-manifest.json" \
	> "$S/M/manifest.json"
run badplan report --results "$S" M
check "report, plan.boots not an array: exit 0, with a warning naming the manifest" \
	sh -c "[ \$(cat '$TEST_TMP/badplan.rc') = 0 ] &&
	       grep -q '$S/M/manifest.json: plan.boots is not an array' '$TEST_TMP/badplan.err'"
cp "$TEST_TMP/m-manifest.json" "$S/M/manifest.json" || bail "cp"

# === gate and history statistics: the unit of replication, fail closed,
# direction, zeros, the minimum effect, FDR; change points
# (docs/analysis.md).  Every store here is synthetic: no VM.
G="$TEST_TMP/gs"
gsynth() {
	"$IB" synth-store --results "$G" --no-files "$@" > /dev/null 2> "$TEST_TMP/gsynth.err" ||
		bail "synth-store $*: $(cat "$TEST_TMP/gsynth.err")"
}
# js FILE EXPR: EXPR of the JSON document d in FILE, printed by Python
cat > "$TEST_TMP/js" <<'EOF'
#!/bin/sh
exec /usr/bin/python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print($2)" "$1"
EOF
chmod +x "$TEST_TMP/js"
PATH="$TEST_TMP:$PATH"
# two runs on the host clock (what a run that records no clock is)
gsynth --run H1 --seed 101
gsynth --run H2 --seed 102
gsynth --run H3 --seed 103 --shift 'fio.read.iops=-25'
run host gate --results "$G" --baseline H1 --candidate H2 --junit "$TEST_TMP/host.xml"
check "gate, two host-clock runs, no noise estimate: cannot judge, exit 3" rc_is host 3
check "gate: says why and what would let it judge" \
	sh -c "grep -q 'UNDECIDED' '$TEST_TMP/host.out' && grep -q -- '--noise' '$TEST_TMP/host.err'"
check "gate: JUnit errors, never skipped, for series it cannot judge" \
	sh -c "grep -q 'errors=\"39\"' '$TEST_TMP/host.xml' && ! grep -q '<skipped' '$TEST_TMP/host.xml'"
# A/A runs with run-level offsets, for the noise estimate
k=0
for off in 3 -2 4 -3 1; do
	k=$((k + 1))
	gsynth --run N$k --seed $((110 + k)) --run-offset $off
done
run noise noise --results "$G" --json "$TEST_TMP/noise.json" N1 N2 N3 N4 N5
check "noise from 5 A/A runs: exit 0, one estimate per metric" \
	sh -c "[ \$(cat '$TEST_TMP/noise.rc') = 0 ] && [ \"\$(js '$TEST_TMP/noise.json' 'len(d[\"metrics\"])')\" = 13 ]"
check "noise: the run offsets (sd 2.9 %) are seen: fio.read.iops 1.5-6 %" \
	sh -c "js '$TEST_TMP/noise.json' '[m[\"tau\"] for m in d[\"metrics\"] if m[\"metric\"] == \"fio.read.iops\"][0]' |
	       awk '{ exit !(\$1 > 0.015 && \$1 < 0.06) }'"
# commits and bisect pass --noise on to the gate: a file that is not an
# estimate is refused before anything is built
echo '{}' > "$TEST_TMP/notnoise.json"
run cnoise commits --noise "$TEST_TMP/notnoise.json" --tree "$TEST_TMP" --matrix none.ini HEAD~1..HEAD
check "commits --noise FILE that is no estimate: usage error, exit 2, naming the file" \
	sh -c "[ \$(cat '$TEST_TMP/cnoise.rc') = 2 ] && grep -q 'notnoise.json: not a noise estimate' '$TEST_TMP/cnoise.err'"
run noise1 noise --results "$G" --json "$TEST_TMP/n1.json" N1
check "noise of one run: usage error, exit 2" rc_is noise1 2
run noisej noise --results "$G" --metric 'fio.*' --json - N1 N2 N3 N4 N5
check "noise --json -: the estimate on standard output, instead of the table" \
	sh -c "[ \$(cat '$TEST_TMP/noisej.rc') = 0 ] &&
	       [ \"\$(js '$TEST_TMP/noisej.out' 'd[\"schema\"] + \" \" + str(all(m[\"metric\"].startswith(\"fio.\") for m in d[\"metrics\"]))')\" = 'iommubench.noise/1 True' ]"
run hostn gate --results "$G" --baseline H1 --candidate H2 --noise "$TEST_TMP/noise.json" --json "$TEST_TMP/hostn.json"
check "gate, two host-clock runs with --noise: judged, clean, exit 0" rc_is hostn 0
check "gate --noise: the output names the replication and the noise file" \
	sh -c "grep -q 'replication: two separate runs on the host clock; between-run noise from $TEST_TMP/noise.json' '$TEST_TMP/hostn.out' &&
	       [ \"\$(js '$TEST_TMP/hostn.json' 'd[\"replication\"]')\" = runs-with-noise ]"
run hostr gate --results "$G" --baseline H1 --candidate H3 --noise "$TEST_TMP/noise.json" --metric fio.read.iops --json "$TEST_TMP/hostr.json"
check "gate --noise, IOPS down 25 %: regression, exit 1" rc_is hostr 1
check "gate: the interval agrees with the verdict and clears the minimum effect" \
	sh -c "[ \"\$(js '$TEST_TMP/hostr.json' 'all(s[\"interval_hi\"] < 1 / 1.05 and s[\"clears_min_effect\"] for s in d[\"series\"])')\" = True ]"
# both sides interleaved in one host-clock run: no noise needed
gsynth --run K --kernels 2 --shift-kernel 1 --shift 'fio.read.iops=-10'
run pair gate --results "$G" --baseline K --candidate K --baseline-kernel synth:0 --candidate-kernel synth:1 --metric 'fio.read.*'
check "gate, two kernels interleaved in one run: judged without --noise, IOPS regressed, exit 1" \
	sh -c "[ \$(cat '$TEST_TMP/pair.rc') = 1 ] && grep -q 'replication: boots of both sides interleaved in run K' '$TEST_TMP/pair.out' &&
	       [ \$(grep -c 'REGRESSED .*fio.read.iops' '$TEST_TMP/pair.out') = 3 ]"
# icount runs, and runs on different clocks
gsynth --run I1 --seed 121 --clock icount:0
gsynth --run I2 --seed 122 --clock icount
gsynth --run I3 --seed 123 --clock icount:3
run ic gate --results "$G" --baseline I1 --candidate I2
check "gate, two runs on the icount clock (icount is icount:0): judged, clean, exit 0" \
	sh -c "[ \$(cat '$TEST_TMP/ic.rc') = 0 ] && grep -q 'replication: two runs on the icount:0 clock' '$TEST_TMP/ic.out'"
run icx gate --results "$G" --baseline I1 --candidate I3
check "gate, runs on different clocks: cannot judge, exit 3" \
	sh -c "[ \$(cat '$TEST_TMP/icx.rc') = 3 ] && grep -q 'different clocks' '$TEST_TMP/icx.out'"
# fail closed
gsynth --run FA --seed 131 --clock icount:0 --fail-policy strict
run failed gate --results "$G" --baseline I1 --candidate FA --junit "$TEST_TMP/failed.xml"
check "gate, every strict cell of the candidate failed: a failure, exit 1" \
	sh -c "[ \$(cat '$TEST_TMP/failed.rc') = 1 ] && [ \$(grep -c '^  FAILED .*intel/strict/' '$TEST_TMP/failed.out') = 13 ]"
check "gate: JUnit failures carry the cells' error, nothing is skipped" \
	sh -c "grep -q '<testcase classname=\"intel/strict/fio-randread\" name=\"fio.read.iops\"><failure message=\"failed: all 5 candidate cells of this configuration failed: synthetic failure' '$TEST_TMP/failed.xml' &&
	       ! grep -q '<skipped' '$TEST_TMP/failed.xml'"
gsynth --run P2 --seed 132 --clock icount:0 --policies 2
run miss gate --results "$G" --baseline I1 --candidate P2 --junit "$TEST_TMP/miss.xml"
check "gate, a configuration missing from the candidate: cannot judge, exit 3, JUnit error" \
	sh -c "[ \$(cat '$TEST_TMP/miss.rc') = 3 ] && grep -q '^  MISSING .*intel/identity/' '$TEST_TMP/miss.out' &&
	       grep -q 'name=\"fio.read.iops\"><error message=\"cannot judge: in the baseline run' '$TEST_TMP/miss.xml' &&
	       ! grep -q '<skipped' '$TEST_TMP/miss.xml'"
run new gate --results "$G" --baseline P2 --candidate I1 --junit "$TEST_TMP/new.xml"
check "gate, a configuration new in the candidate: nothing to judge, exit 0, JUnit skipped" \
	sh -c "[ \$(cat '$TEST_TMP/new.rc') = 0 ] && grep -q '<skipped message=\"only in the candidate run' '$TEST_TMP/new.xml'"
# flush-queue rates: zeros and direction
gsynth --run T1 --seed 141 --clock icount:0 --iommutrace --fq-flush
gsynth --run T2 --seed 142 --clock icount:0 --iommutrace --fq-flush
gsynth --run T3 --seed 143 --clock icount:0 --iommutrace --fq-flush --shift 'trace.fq_flush.timer_rate=-20'
run zero gate --results "$G" --baseline T1 --candidate T2 --metric 'trace.fq_flush.*'
check "gate, queue_full_rate 0 in every repetition: clean, exit 0" \
	sh -c "[ \$(cat '$TEST_TMP/zero.rc') = 0 ] && [ \$(grep -c '^  clean .*queue_full_rate' '$TEST_TMP/zero.out') = 3 ] && ! grep -q 'REFUSED' '$TEST_TMP/zero.out'"
run fqdir gate --results "$G" --baseline T1 --candidate T3 --metric 'trace.fq_flush.timer_rate'
check "gate, the flush-queue timer rate down 20 %: a rate that drops regresses, exit 1" \
	sh -c "[ \$(cat '$TEST_TMP/fqdir.rc') = 1 ] && grep -q '^  REGRESSED .*intel/lazy/.*trace.fq_flush.timer_rate' '$TEST_TMP/fqdir.out'"
# the minimum effect is a factor, the same both ways
gsynth --run E1 --seed 151 --clock icount:0 --sd 0.001
gsynth --run E2 --seed 152 --clock icount:0 --sd 0.001 --shift 'fio.read.iops=-4.9'
run sym gate --results "$G" --baseline E1 --candidate E2 --metric fio.read.iops
check "gate, IOPS down 4.9 % (a factor 1.052): beyond the 5 % minimum, exit 1" \
	sh -c "[ \$(cat '$TEST_TMP/sym.rc') = 1 ] && [ \$(grep -c '^  REGRESSED' '$TEST_TMP/sym.out') = 3 ]"
# multiplicity
run fdr gate --results "$S" --baseline A --candidate B --fdr --json "$TEST_TMP/fdr.json"
check "gate --fdr: Benjamini-Hochberg, said in the output and the JSON" \
	sh -c "[ \$(cat '$TEST_TMP/fdr.rc') = 1 ] && grep -q 'Benjamini-Hochberg over the 39 judged series' '$TEST_TMP/fdr.out' &&
	       [ \"\$(js '$TEST_TMP/fdr.json' 'd[\"adjustment\"]')\" = bh ]"
run fdrh gate --results "$S" --baseline A --candidate B --fdr --no-holm
check "gate --fdr --no-holm: usage error, exit 2" rc_is fdrh 2
run galpha gate --results "$S" --baseline A --candidate B --alpha 0.9
check "gate --alpha 0.9: usage error, exit 2, naming it, with the Try line" \
	sh -c "[ \$(cat '$TEST_TMP/galpha.rc') = 2 ] && grep -q -- '--alpha 0.9: a number in' '$TEST_TMP/galpha.err' &&
	       grep -q \"Try 'iommubench gate --help'\" '$TEST_TMP/galpha.err'"
run gjson gate --results "$S" --baseline A --candidate B --json -
check "gate --json -: the verdicts on standard output instead of the report" \
	sh -c "[ \$(cat '$TEST_TMP/gjson.rc') = 1 ] &&
	       [ \"\$(js '$TEST_TMP/gjson.out' 'd[\"schema\"] + \" \" + d[\"verdict\"]')\" = 'iommubench.gate/1 regression' ]"

# --- history: one value per commit; run-level offsets
O="$TEST_TMP/offsets"
k=0
for off in 6 -5 9 -7 3 -9 8 -4 5 -8 7 -6; do
	"$IB" synth-store --results "$O" --no-files --run R$k --kernels 1 --kernel-base $k \
		--seed $((k + 160)) --policies 1 --run-offset $off \
		--started "2026-03-$((k + 10))T00:00:00Z" > /dev/null || bail "synth-store R$k"
	k=$((k + 1))
done
run hoff history --results "$O" --metric fio.read.iops
check "history, 12 commits whose runs moved by up to 9 %, no real change: no change point" \
	sh -c "[ \$(cat '$TEST_TMP/hoff.rc') = 0 ] && [ \$(grep -Ec '^ +[0-9]+  ' '$TEST_TMP/hoff.out') = 12 ] && ! grep -q '<- ' '$TEST_TMP/hoff.out'"
# paired: each run interleaves a reference kernel (synth:100) with the commit
P="$TEST_TMP/paired"
k=1
for off in 6 -5 9 -7 3 -9 8 -4 5 -8 7 -6; do
	shift=0
	[ $k -ge 7 ] && shift=-8
	"$IB" synth-store --results "$P" --no-files --run P$k --kernel-list 100,$k --shift-kernel $k \
		--shift "fio.read.iops=$shift" --seed $((k + 180)) --policies 1 --run-offset $off \
		--started "2026-04-$((k + 10))T00:00:00Z" > /dev/null || bail "synth-store P$k"
	k=$((k + 1))
done
run hpair history --results "$P" --metric fio.read.iops --baseline-kernel synth:100 --json -
check "history --baseline-kernel: an 8 % drop under run offsets of up to 9 %, found at the 7th commit" \
	sh -c "[ \$(cat '$TEST_TMP/hpair.rc') = 0 ] &&
	       [ \"\$(js '$TEST_TMP/hpair.out' '[(i + 1, p[\"change\"]) for i, p in enumerate(d[\"lines\"][0][\"points\"]) if p[\"change\"]]')\" = \"[(7, 'strong')]\" ] &&
	       [ \"\$(js '$TEST_TMP/hpair.out' 'd[\"schema\"] + \" \" + d[\"value\"]')\" = 'iommubench.history/2 ratio' ]"
run hnopair history --results "$P" --metric fio.read.iops -k synth:1 -k synth:2 -k synth:3 -k synth:4 -k synth:5 \
	-k synth:6 -k synth:7 -k synth:8 -k synth:9 -k synth:10 -k synth:11 -k synth:12
check "history of the same runs without pairing: the offsets hide the drop (no strong change point)" \
	sh -c "[ \$(cat '$TEST_TMP/hnopair.rc') = 0 ] && ! grep -q 'strong change point' '$TEST_TMP/hnopair.out'"
# --metric is a glob, as in compare: a line per metric it matches
run hglob history --results "$TEST_TMP/hist" --metric 'fio.read.*' --json "$TEST_TMP/hglob.json"
check "history --metric 'fio.read.*': a line per fio.read metric, the IOPS drop still at the 7th commit" \
	sh -c "[ \$(cat '$TEST_TMP/hglob.rc') = 0 ] && [ ! -s '$TEST_TMP/hglob.out' ] &&
	       [ \"\$(js '$TEST_TMP/hglob.json' 'sorted(set(l[\"metric\"] for l in d[\"lines\"])) == sorted(l[\"metric\"] for l in d[\"lines\"]) and len(d[\"lines\"]) == 5 and all(l[\"metric\"].startswith(\"fio.read.\") for l in d[\"lines\"])')\" = True ] &&
	       [ \"\$(js '$TEST_TMP/hglob.json' '[(i + 1, p[\"change\"]) for l in d[\"lines\"] if l[\"metric\"] == \"fio.read.iops\" for i, p in enumerate(l[\"points\"]) if p[\"change\"]]')\" = \"[(7, 'strong')]\" ]"
run gnone gate --results "$S" --baseline A --candidate B --metric 'nosuch*'
check "gate --metric that matches nothing of the baseline: cannot judge (3), naming the pattern" \
	sh -c "[ \$(cat '$TEST_TMP/gnone.rc') = 3 ] && grep -q 'nosuch\\*: no metric' '$TEST_TMP/gnone.err'"

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
	# a verdict that could not be written is no verdict: cannot judge
	check "gate --junit onto a full disk: exit 3" rc_is fulljunit 3
	check "gate --junit onto a full disk: the error names the file and the reason" \
		err_has fulljunit "gate.xml: No space left on device"
	check "gate --junit onto a full disk: no file, no temporary left" \
		test "$(cat "$TEST_TMP/fulljunit.ls")" = fill
	fulls fullmd gate --results "$S" --baseline A --candidate B --markdown "$TEST_TMP/full/gate.md"
	check "gate --markdown onto a full disk: exit 3, the file named, nothing left" \
		sh -c "[ \$(cat '$TEST_TMP/fullmd.rc') = 3 ] && grep -q 'gate.md: No space left on device' '$TEST_TMP/fullmd.err' && [ \"\$(cat '$TEST_TMP/fullmd.ls')\" = fill ]"
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
