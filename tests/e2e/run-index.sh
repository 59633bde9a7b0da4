#!/bin/sh
# 'run' and its index: a cell that cannot be indexed fails the run, loudly,
# and a metric that is not a number never costs its cell.  No VM: the run
# is written by hand with every cell done, and 'run --resume' indexes it.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

command -v sqlite3 > /dev/null ||
	skip_all "the sqlite3 command is not installed (scripts/setup installs it)"

plan 23

S="$TEST_TMP/results"
mkdir -p "$S/R/cells" || bail "mkdir"
# Errors name the index by its absolute path, with links resolved.
DB="$(cd "$S" && pwd -P)/index.sqlite"
cat > "$S/R/manifest.json" <<'EOF'
{"schema": "iommubench.manifest/1", "run_id": "R", "target": "vm",
 "seed": 1, "started": "2026-12-01T00:00:00Z", "finished": null,
 "plan": {"boots": [{"id": "b000", "label": "k intel", "rep": 0,
  "cells": [{"id": "c0"}, {"id": "x"}]}]}}
EOF
cat > "$S/R/cells/c0.json" <<'EOF'
{"id": "c0", "status": "ok",
 "config": {"kernel": "k", "iommu": "intel", "policy": "strict"},
 "workload": {"name": "w", "type": "fio"},
 "fio": {"jobs": [{"read": {"io_bytes": 1, "iops": 5, "bw_bytes": 20480}}]}}
EOF
# The reported cell: iops NaN, bw Infinity.
cp "$top_srcdir/tests/fixtures/cell-nan.json" "$S/R/cells/x.json" || bail "fixture"

# run NAME ARGS...: 'iommubench run ARGS' with stdout, stderr and status
run() {
	name=$1
	shift
	"$IB" run --results "$S" "$@" > "$TEST_TMP/$name.out" 2> "$TEST_TMP/$name.err"
	echo $? > "$TEST_TMP/$name.rc"
	grep -v 'not plotted' "$TEST_TMP/$name.err" | sed 's/^/# err: /' | head -20
}
q() { sqlite3 "$DB" "$1"; }

# --- a NaN metric
run nan --resume R
check "NaN metric: the run exits 0" rc_is nan 0
check "NaN metric: both cells are indexed" test "$(q 'SELECT count(*) FROM cells')" = 2
check "NaN metric: the warning names the cell and the metric" \
	err_has nan 'cell x: metric fio.read.iops is NaN: not indexed'
check "Infinity: the warning names the cell and the metric" \
	err_has nan 'cell x: metric fio.read.bw is infinite: not indexed'
check "the other cell's metrics are indexed" \
	test "$(q "SELECT count(*) FROM metrics WHERE cell_id = 'c0'")" = 2
check "the end of the run is indexed" \
	test "$(q "SELECT finished IS NOT NULL FROM runs WHERE run_id = 'R'")" = 1

# --- cells the index refuses
q "DELETE FROM cells; DELETE FROM metrics; UPDATE runs SET finished = NULL;
   CREATE TRIGGER no_cells BEFORE INSERT ON cells
   BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
run refused --resume R
check "unindexed cells: the run exits 1" rc_is refused 1
check "unindexed cells: the error names the index file and the cell" \
	err_has refused "$DB: cell c0: refused by the test"
check "unindexed cells: the run says how many" \
	err_has refused 'run R: 2 cell(s) not in the index'
q "DROP TRIGGER no_cells"
run again --resume R
check "--resume indexes them again" \
	sh -c "[ \"\$(cat '$TEST_TMP/again.rc')\" = 0 ] &&
	       [ \"\$(sqlite3 '$DB' 'SELECT count(*) FROM cells')\" = 2 ]"

# --- the end of the run refused
q "UPDATE runs SET finished = NULL;
   CREATE TRIGGER no_end BEFORE UPDATE ON runs
   BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
run noend --resume R
check "unrecorded end of the run: the run exits 1" rc_is noend 1
check "unrecorded end of the run: said so" \
	err_has noend 'run R: its end is not in the index'
q "DROP TRIGGER no_end"

# --- a busy index: another process reads it in a transaction throughout
mkfifo "$TEST_TMP/sql" || bail "mkfifo"
sqlite3 "$DB" < "$TEST_TMP/sql" > "$TEST_TMP/reader.out" 2>&1 &
reader=$!
exec 3> "$TEST_TMP/sql"
echo "BEGIN; SELECT count(*) FROM cells;" >&3
for i in $(seq 50); do
	[ -s "$TEST_TMP/reader.out" ] && break
	sleep 0.1
done
t0=$(date +%s)
run busy --resume R
t1=$(date +%s)
echo "COMMIT;" >&3
exec 3>&-
wait "$reader"
check "busy index: the reader held its transaction" \
	test "$(cat "$TEST_TMP/reader.out")" = 2
check "busy index: the run exits 1" rc_is busy 1
check "busy index: the error names the index file and the lock" \
	err_has busy "$DB: .*database is locked"
check "busy index: it waited about the busy timeout (10 s) first" \
	test $((t1 - t0)) -ge 9 -a $((t1 - t0)) -le 30

# --- manifests --resume cannot go on with: refused naming the file, exit
# 2, never json-c's abort (tests/fuzz: manifest-no-plan.json,
# manifest-cells-not-array.json)
"$IB" synth-store --results "$S" --run SY --no-files > /dev/null ||
	bail "synth-store"
run synth --resume SY
check "a run of synth-store (no plan): exit 2" rc_is synth 2
check "a run of synth-store: the error names the manifest and the plan" \
	err_has synth "$S/SY/manifest.json: no plan to resume"
# bad NAME PLAN: 'run --resume NAME' of a manifest with that plan
bad() {
	mkdir -p "$S/$1/cells" || bail "mkdir"
	echo "{\"run_id\": \"$1\", \"target\": \"vm\", \"plan\": $2}" \
		> "$S/$1/manifest.json"
	run "$1" --resume "$1"
}
bad cells '{"boots": [{"id": "b000", "cells": {"id": "c0"}}]}'
check "a boot whose cells are not an array: exit 2, naming the manifest and the boot" \
	sh -c "[ \$(cat '$TEST_TMP/cells.rc') = 2 ] &&
	       grep -q '$S/cells/manifest.json: plan.boots\[0\] is not a boot' '$TEST_TMP/cells.err'"
bad boots '{"boots": {"id": "b000"}}'
check "plan.boots not an array: exit 2" rc_is boots 2
cp "$S/R/cells/c0.json" "$TEST_TMP/c0.json" || bail "cp"
bad cellid '{"boots": [{"id": "b000", "cells": [{"id": "c0"}, {"id": "../../R/cells/c0"}]}]}'
check "a cell id that is not a file name: exit 2, naming the manifest and the cell" \
	sh -c "[ \$(cat '$TEST_TMP/cellid.rc') = 2 ] &&
	       grep -q '$S/cellid/manifest.json: plan.boots\[0\].cells\[1\] is not a cell' '$TEST_TMP/cellid.err'"
# (it would be cells/../../R/cells/c0.json, moved to attempts/ to run again)
check "a cell id that is not a file name: the cell file it names stays as it was" \
	sh -c "cmp -s '$TEST_TMP/c0.json' '$S/R/cells/c0.json' && ! ls '$S'/R/cells/c0.[0-9]* 2> /dev/null"

# --- not a database
echo "not an SQLite database, just a text file long enough to be read" > "$DB"
run notdb --resume R
check "not a database: the run exits 1, naming the file" \
	sh -c "[ \"\$(cat '$TEST_TMP/notdb.rc')\" = 1 ] &&
	       grep -q '$DB: .*file is not a database' '$TEST_TMP/notdb.err'"

finish
