#!/bin/sh
# Runs every libFuzzer harness built in BUILD_DIR (default build/fuzz) for
# FUZZ_SECONDS seconds each (default 60), one after the other, on a copy of
# its seed corpus (fuzz/corpus/NAME -> BUILD_DIR/corpus/NAME; the seeds in
# the repository are never modified). FUZZ_TARGETS="csv fixed" limits the
# run to those harnesses. A finding (crash, leak, timeout, out-of-memory,
# sanitizer report) leaves its reproducer in BUILD_DIR/artifacts/NAME/ and
# makes the script exit 1 after the remaining harnesses have run. Each
# harness's output is in BUILD_DIR/logs/NAME.log; its final statistics are
# printed.
set -u

dir=${1:-build/fuzz}
secs=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-}
if [ -z "$targets" ]; then
	for b in "$dir"/fuzz_*; do
		[ -x "$b" ] || continue
		targets="$targets ${b##*/fuzz_}"
	done
fi
[ -n "$targets" ] || { echo "fuzz: no harness in $dir (make fuzz-build)" >&2; exit 2; }

failed=""
for t in $targets; do
	bin="$dir/fuzz_$t"
	[ -x "$bin" ] || { echo "fuzz: $bin missing" >&2; failed="$failed $t"; continue; }
	corpus="$dir/corpus/$t"
	art="$dir/artifacts/$t"
	tmp="$dir/tmp/$t"
	log="$dir/logs/$t.log"
	mkdir -p "$corpus" "$art" "$tmp" "$dir/logs"
	[ -d "fuzz/corpus/$t" ] && cp -R "fuzz/corpus/$t/." "$corpus/"
	echo "fuzz: $t for ${secs}s (log $log)"
	TMPDIR="$tmp" \
	ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1" \
	UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
		"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$art/" "$corpus" >"$log" 2>&1
	rc=$?
	grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" |
		sed "s/^/fuzz: $t: /"
	echo "fuzz: $t: corpus $(ls "$corpus" | wc -l) files"
	if [ $rc -ne 0 ] || ls "$art" | grep -q .; then
		echo "fuzz: $t: FINDING (exit $rc); see $log and $art/" >&2
		grep -E 'ERROR: |runtime error|SUMMARY|broken promise|Test unit written' "$log" | head -5 >&2
		failed="$failed $t"
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz: findings in:$failed" >&2
	exit 1
fi
echo "fuzz: no findings"
