#!/usr/bin/env bash
# Runs every fuzz target of the module for N minutes each (default 1), one at a time, and prints
# per target the minutes it ran and the number of executions go reported.
#
#   scripts/fuzz.sh [MINUTES] [TARGET-REGEXP]
#
# TARGET-REGEXP narrows the targets: it is matched against "<package dir> <target>", e.g.
# FuzzMask, 'loki|snapshot', or 'dashboards FuzzParse'.
# FUZZ_PARALLEL sets go's -parallel (default: GOMAXPROCS workers).
# Minimisation is off (-fuzzminimizetime 0): a target spends its minutes fuzzing. A crasher is
# written by go to the package's testdata/fuzz/<target>/ and makes this script exit 1 after
# the remaining targets have run; `go test` then replays it with the seed corpus.
set -uo pipefail
cd "$(dirname "$0")/.."

minutes=${1:-1}
filter=${2:-.}
if ! [[ $minutes =~ ^[0-9]+$ ]] || [ "$minutes" -lt 1 ]; then
	echo "fuzz: MINUTES must be a whole number of minutes, at least 1 (got $minutes)" >&2
	exit 2
fi
parallel=()
if [ -n "${FUZZ_PARALLEL:-}" ]; then
	parallel=(-parallel "$FUZZ_PARALLEL")
fi

# Every "func FuzzXxx(" in a test file, as "package-dir target".
mapfile -t targets < <(grep -rlE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' . |
	grep -v '^./generate/pipelines/ottlcheck/' |
	while read -r file; do
		grep -oE '^func Fuzz[A-Za-z0-9_]*' "$file" | sed "s|^func |$(dirname "$file") |"
	done | sort -u | grep -E -- "$filter")
if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz: no fuzz target matches $filter" >&2
	exit 2
fi

failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
printf '%-32s %-14s %8s %12s %7s  %s\n' package target minutes execs wall result
for t in "${targets[@]}"; do
	pkg=${t% *} name=${t#* }
	start=$(date +%s)
	if go test -run '^$' -fuzz "^${name}\$" -fuzztime "${minutes}m" -fuzzminimizetime 0 "${parallel[@]}" "$pkg" >"$log" 2>&1; then
		result=ok
	else
		result=FAIL
		failed=1
	fi
	wall=$(( $(date +%s) - start ))
	# go prints "fuzz: elapsed: 1m0s, execs: 123456 (2057/sec), new interesting: ..." every 3s;
	# the last such line says how long the target fuzzed (the build is not counted) and how
	# many inputs it ran.
	last=$(grep -oE 'fuzz: elapsed: [0-9hms.]+, execs: [0-9]+' "$log" | tail -n 1)
	execs=$(grep -oE '[0-9]+$' <<<"$last")
	fuzzed=$(sed -E 's/^fuzz: elapsed: ([0-9hms.]+),.*/\1/' <<<"$last")
	fuzzed_min=$(awk -v d="${fuzzed:-0s}" 'BEGIN {
		s = 0
		while (match(d, /^[0-9.]+[hms]/)) {
			n = substr(d, 1, RLENGTH - 1); u = substr(d, RLENGTH, 1)
			s += n * (u == "h" ? 3600 : u == "m" ? 60 : 1)
			d = substr(d, RLENGTH + 1)
		}
		printf "%.1f", s / 60
	}')
	printf '%-32s %-14s %8s %12s %6ss  %s\n' "$pkg" "$name" "$fuzzed_min" "${execs:-0}" "$wall" "$result"
	if [ "$result" = FAIL ]; then
		grep -E -- '--- FAIL|panic:|Failing input written to|^\s+[a-z_]+_test\.go:[0-9]+' "$log" | head -n 20 | sed 's/^/    /'
	fi
done
exit $failed
