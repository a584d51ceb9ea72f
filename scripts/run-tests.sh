#!/bin/sh
# Runs every test binary under BUILD/test, each in its own process (as libuv's
# runner isolates tests), with a time limit. Sums cmocka's per-binary counts
# and ends with the line "N passed, N failed". Exit status 1 if anything
# failed or crashed.
set -u
BUILD=${1:-build}
LIMIT=${IG_TEST_TIMEOUT:-300}
passed=0
failed=0
crashed=""
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT INT TERM

for t in $(find "$BUILD/test" -type f -name 'test_*' -perm -u+x | sort); do
	name=${t#"$BUILD"/}
	echo "== $name"
	t0=$(date +%s)
	timeout -k 5 "$LIMIT" "$t" >"$tmp" 2>&1
	rc=$?
	cat "$tmp"
	echo "== $name: $(($(date +%s) - t0)) s"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$tmp" | awk '{s+=$1} END {print s+0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$tmp" | awk '{s+=$1} END {print s+0}')
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		# Crashed, timed out or a sanitizer aborted: count it as a failure.
		failed=$((failed + 1))
		crashed="$crashed $name(rc=$rc)"
	fi
done

[ -n "$crashed" ] && echo "crashed or timed out:$crashed"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
