#!/usr/bin/env bash
# Measures blindspot against the scale estate: a real Prometheus 3 with 1,001 jobs, 10,001
# targets, about 100,000 metric names and 5,000 rules (internal/invgen.ScaleEstate). Builds
# blindspot, then runs BenchmarkScaleEstate, which starts the estate, runs
# `blindspot audit --format json` against it COUNT times (default 3) and reports the wall time,
# the peak RSS of the binary, and the time merely to download every answer the audit reads,
# one after the other (see docs/performance.md, "Scale estate"). Takes a few minutes: the
# estate's 10,001 targets are scraped once a minute.
#   scripts/scale.sh [COUNT]
# BLINDSPOT_TEST_SCALE_BINARY=path measures that binary instead (another version, for a comparison);
# BLINDSPOT_TEST_SCALE_STDERR=file keeps its stderr there, with its garbage collection trace.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
eval "$(./scripts/test-deps.sh)"
if [ -z "${BLINDSPOT_TEST_SCALE_BINARY:-}" ]; then
  bin=$(mktemp -d)
  trap 'rm -rf "$bin"' EXIT
  go build -o "$bin/blindspot" ./cmd/blindspot
  export BLINDSPOT_TEST_SCALE_BINARY="$bin/blindspot"
fi
go test -run XXX -bench ScaleEstate -benchtime "${1:-3}x" \
  -timeout 30m ./analyze/collect/prometheus/
