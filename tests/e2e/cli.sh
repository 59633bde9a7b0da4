#!/bin/sh
# One command-line convention (lib/opt.h), for every program and every
# subcommand that --help lists, nested ones too: --help exits 0 and prints
# the usage; --version exits 0 and prints the version; an unknown option
# exits 2, is named, and the last line is "Try 'COMMAND --help'."; and the
# program's man page documents every long option --help lists.  Then the
# errors that name a missing option or a bad number.  No VM.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

: "${PACKAGE_VERSION:?PACKAGE_VERSION is not set (make check sets it)}"

# run NAME CMD...: CMD's stdout, stderr and status in $TEST_TMP/NAME.*
run() {
	_run=$1
	shift
	"$@" > "$TEST_TMP/$_run.out" 2> "$TEST_TMP/$_run.err" < /dev/null
	echo $? > "$TEST_TMP/$_run.rc"
}

# The subcommands a --help output lists (lib/opt's "subcommands:" block).
subcommands() {
	sed -n '/^subcommands:$/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' "$1"
}

# The long options a --help output lists: those that start an option's
# line ("  -r, --results DIR", "      --resume RUN"), not those the help
# text mentions.
long_options() {
	sed -n 's/^ \{1,8\}\(-[^ ,], \)\{0,1\}\(--[a-zA-Z0-9][a-zA-Z0-9-]*\).*/\2/p' "$1"
}

# The man page of PROGRAM as text to grep: groff's \- is -, fonts dropped.
man_text() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' \
		"$top_srcdir/docs/man/$1.1" > "$TEST_TMP/$1.man"
}

# The part of iommubench(1) that documents COMMAND: its section, and
# GLOBAL OPTIONS, which hold what every command takes.
man_section() {
	case $1 in
	iommubench) sec= ;;
	run|agent) sec=RUN ;;
	compare|report|gate|history|noise) sec=ANALYSIS ;;
	bisect) sec=COMMITS ;;
	*) sec=$(echo "$1" | tr a-z A-Z) ;;
	esac
	awk -v sec=".SH $sec" '/^\.SH /{ p = ($0 == sec || $0 == ".SH GLOBAL OPTIONS") } p' \
		"$TEST_TMP/iommubench.man"
}

# undocumented NAME MANFILE: the long options of NAME's --help that
# MANFILE does not mention, one a line (none: all documented).
undocumented() {
	long_options "$TEST_TMP/$1-help.out" | while read -r o; do
		grep -qE -- "$o([^a-zA-Z0-9-]|\$)" "$2" || echo "$o"
	done
}

# conventions PROGRAM WORDS...: the four checks on the command WORDS
# (e.g. "iommubench kernel fetch") of PROGRAM, whose man page is PROGRAM's.
conventions() {
	prog=$1
	shift
	cmdline="$*"
	name=$(echo "$cmdline" | tr ' ' '-')
	bin=$1
	shift
	run "$name-help" "$top_builddir/$bin" "$@" --help
	check "$cmdline --help: exits 0 and prints the usage" \
		sh -c "[ \$(cat $TEST_TMP/$name-help.rc) = 0 ] &&
		       grep -qi '^usage: $cmdline' $TEST_TMP/$name-help.out"
	run "$name-version" "$top_builddir/$bin" "$@" --version
	check "$cmdline --version: exits 0 and prints $PACKAGE_VERSION" \
		sh -c "[ \$(cat $TEST_TMP/$name-version.rc) = 0 ] &&
		       grep -q '^$cmdline $PACKAGE_VERSION' $TEST_TMP/$name-version.out"
	run "$name-bogus" "$top_builddir/$bin" "$@" --no-such-option
	check "$cmdline --no-such-option: exits 2, names it, ends with the Try line" \
		sh -c "[ \$(cat $TEST_TMP/$name-bogus.rc) = 2 ] &&
		       grep -q -- '--no-such-option' $TEST_TMP/$name-bogus.err &&
		       [ \"\$(tail -n 1 $TEST_TMP/$name-bogus.err)\" = \"Try '$cmdline --help'.\" ]"
	if [ "$prog" = iommubench ]; then
		man_section "${1:-iommubench}" > "$TEST_TMP/$name.sec"
		where="iommubench(1) (${sec:+$sec and }GLOBAL OPTIONS)"
	else
		cp "$TEST_TMP/$prog.man" "$TEST_TMP/$name.sec"
		where="$prog(1)"
	fi
	undocumented "$name" "$TEST_TMP/$name.sec" > "$TEST_TMP/$name-undoc"
	sed "s/^/# not in $where: $cmdline /" "$TEST_TMP/$name-undoc"
	check "$cmdline: $where documents every long option of --help" \
		sh -c "[ -s $TEST_TMP/$name-help.out ] && [ -s $TEST_TMP/$name.sec ] &&
		       [ ! -s $TEST_TMP/$name-undoc ]"
}

# Every iommubench command --help lists, and theirs in turn.
man_text iommubench
run ib-help "$IB" --help
commands="iommubench"
for c in $(subcommands "$TEST_TMP/ib-help.out"); do
	commands="$commands|iommubench $c"
	run "ib-$c-help" "$IB" "$c" --help
	for s in $(subcommands "$TEST_TMP/ib-$c-help.out"); do
		commands="$commands|iommubench $c $s"
	done
done
programs="dmabench"
[ -x "$top_builddir/iommutrace" ] && programs="$programs iommutrace"

n=$(echo "$commands" | tr '|' '\n' | wc -l)
plan $((4 * (n + $(echo "$programs" | wc -w)) + 13))

IFS='|'
for c in $commands; do
	IFS=' '
	# shellcheck disable=SC2086
	conventions iommubench $c
	IFS='|'
done
IFS=' '
for p in $programs; do
	man_text "$p"
	conventions "$p" "$p"
done

# --- what is missing, what is not a number ------------------------------
run gate-a "$IB" gate -a x
check "gate -a x: exit 2, names the missing --candidate RUN" \
	sh -c "[ \$(cat $TEST_TMP/gate-a.rc) = 2 ] &&
	       grep -qx 'iommubench gate: --candidate RUN is missing' $TEST_TMP/gate-a.err"
run compare-seed "$IB" compare --seed abc
check "compare --seed abc: exit 2, names the option and the word" \
	sh -c "[ \$(cat $TEST_TMP/compare-seed.rc) = 2 ] &&
	       grep -qx \"iommubench compare: --seed: 'abc' is not a whole number\" $TEST_TMP/compare-seed.err"
run kbuild-j "$IB" kernel build -j abc
check "kernel build -j abc: exit 2, names --jobs" \
	sh -c "[ \$(cat $TEST_TMP/kbuild-j.rc) = 2 ] &&
	       grep -qx \"iommubench kernel build: --jobs: 'abc' is not a whole number\" $TEST_TMP/kbuild-j.err"
run run-seed "$IB" run --seed 12x
check "run --seed 12x: exit 2, names the option and the word" \
	sh -c "[ \$(cat $TEST_TMP/run-seed.rc) = 2 ] &&
	       grep -qx \"iommubench run: --seed: '12x' is not a whole number\" $TEST_TMP/run-seed.err"
run run-retries "$IB" run --retries 101
check "run --retries 101: exit 2, out of range" \
	sh -c "[ \$(cat $TEST_TMP/run-retries.rc) = 2 ] &&
	       grep -qx 'iommubench run: --retries: 101 is out of range (0-100)' $TEST_TMP/run-retries.err"
run run-resume "$IB" run --resume x --run-id y
check "run --resume with --run-id: exit 2, names --run-id" \
	sh -c "[ \$(cat $TEST_TMP/run-resume.rc) = 2 ] &&
	       grep -q -- 'no --run-id' $TEST_TMP/run-resume.err"
run commits-norange "$IB" commits --tree . --matrix m
check "commits without a range: exit 2, names it" \
	sh -c "[ \$(cat $TEST_TMP/commits-norange.rc) = 2 ] &&
	       grep -qx 'iommubench commits: the range REV1..REV2 is missing' $TEST_TMP/commits-norange.err"
run commits-jobs "$IB" commits --tree . --matrix m -j 0 a..b
check "commits -j 0: exit 2, out of range" \
	sh -c "[ \$(cat $TEST_TMP/commits-jobs.rc) = 2 ] &&
	       grep -q -- '--jobs: 0 is out of range' $TEST_TMP/commits-jobs.err"
run bisect-nometric "$IB" bisect --tree . --matrix m --good a --bad b
check "bisect without --metric: exit 2 (a usage error, not 3), names it" \
	sh -c "[ \$(cat $TEST_TMP/bisect-nometric.rc) = 2 ] &&
	       grep -qx 'iommubench bisect: --metric X is missing' $TEST_TMP/bisect-nometric.err"
run db-threads "$top_builddir/dmabench" -t abc
check "dmabench -t abc: exit 2, names --threads and the word, then the Try line" \
	sh -c "[ \$(cat $TEST_TMP/db-threads.rc) = 2 ] &&
	       grep -qx \"dmabench: --threads: 'abc' is not a whole number\" $TEST_TMP/db-threads.err &&
	       [ \"\$(tail -n 1 $TEST_TMP/db-threads.err)\" = \"Try 'dmabench --help'.\" ]"
run db-delays "$top_builddir/dmabench" --mode stale --delays 0,91ms
check "dmabench --delays 0,91ms: exit 2, names the list, then the Try line" \
	sh -c "[ \$(cat $TEST_TMP/db-delays.rc) = 2 ] &&
	       grep -q \"^dmabench: --delays: '0,91ms' is not \" $TEST_TMP/db-delays.err &&
	       [ \"\$(tail -n 1 $TEST_TMP/db-delays.err)\" = \"Try 'dmabench --help'.\" ]"
run db-V "$top_builddir/dmabench" -V
check "dmabench -V: exits 0, the version and the module ABI" \
	sh -c "[ \$(cat $TEST_TMP/db-V.rc) = 0 ] &&
	       grep -qx 'dmabench $PACKAGE_VERSION (ABI [0-9]*)' $TEST_TMP/db-V.out"
run step-bogus "$IB" bisect-step --no-such-option
check "bisect-step: a usage error aborts git bisect run (128), not 'bad'" \
	rc_is step-bogus 128

finish
