#!/usr/bin/env bash
# The test command: installs the real servers the integration tests need (once; cached outside
# the repository), then vets and runs every test, integration tests against Prometheus 2.x and
# 3.x included. Extra arguments go to `go test` (e.g. -run TestAudit).
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
eval "$(./scripts/test-deps.sh)"
echo "test: dependencies ready in $(( $(date +%s) - start ))s" >&2

go vet ./...
go test -count=1 "$@" ./...
# The OTTL check is a module of its own, to keep the Collector's OTTL library out of go.mod.
(cd generate/pipelines/ottlcheck && go vet ./... && go test -count=1 "$@" ./...)
echo "test: finished in $(( $(date +%s) - start ))s" >&2
