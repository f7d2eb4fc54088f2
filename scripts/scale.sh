#!/usr/bin/env bash
# Measures blindspot against the scale estate: a real Prometheus 3 with 1,001 jobs, 10,001
# targets, about 100,000 metric names and 5,000 rules (internal/invgen.ScaleEstate). Builds
# blindspot, then runs BenchmarkScaleEstate, which starts the estate, runs
# `blindspot audit --format json` against it COUNT times (default 3) and reports the wall time,
# the peak RSS of the binary, and the time merely to download every answer the audit reads,
# one after the other (see docs/performance.md, "Scale estate"). Takes a few minutes: the
# estate's 10,001 targets are scraped once a minute.
#   scripts/scale.sh [COUNT]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
eval "$(./scripts/test-deps.sh)"
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/blindspot" ./cmd/blindspot
BLINDSPOT_SCALE_BINARY="$bin/blindspot" go test -run XXX -bench ScaleEstate -benchtime "${1:-3}x" \
  -timeout 30m ./analyze/collect/prometheus/
