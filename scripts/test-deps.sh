#!/usr/bin/env bash
# Installs the real servers the integration tests run against, when they are missing:
#   - Prometheus 3.x and promtool built from the pinned module version, cached outside the repo
#     under $BLINDSPOT_CACHE (default ~/.cache/blindspot), keyed by version;
#   - Debian's prometheus (2.x), prometheus-node-exporter and prometheus-pushgateway.
# Prints the environment the tests read (BLINDSPOT_TEST_*) as export statements for eval.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${BLINDSPOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/blindspot}
prom_version=$(cd "$here" && go list -m -f '{{.Version}}' github.com/prometheus/prometheus)
prom3_dir="$cache/prometheus-$prom_version"

log() { echo "test-deps: $*" >&2; }

if [ ! -x "$prom3_dir/prometheus" ] || [ ! -x "$prom3_dir/promtool" ]; then
  log "building Prometheus $prom_version and promtool into $prom3_dir (cold: several minutes)"
  mkdir -p "$prom3_dir"
  # Built from the same pinned version as go.mod so parser and server agree.
  (cd "$here" && GOBIN="$prom3_dir" GOFLAGS=-mod=mod go install \
    "github.com/prometheus/prometheus/cmd/prometheus@$prom_version" \
    "github.com/prometheus/prometheus/cmd/promtool@$prom_version")
fi

need=()
[ -x /usr/bin/prometheus ] || need+=(prometheus)
[ -x /usr/bin/prometheus-node-exporter ] || need+=(prometheus-node-exporter)
[ -x /usr/bin/prometheus-pushgateway ] || need+=(prometheus-pushgateway)
if [ ${#need[@]} -gt 0 ]; then
  log "installing Debian packages: ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

printf 'export BLINDSPOT_TEST_PROMETHEUS3=%q\n' "$prom3_dir/prometheus"
printf 'export BLINDSPOT_TEST_PROMTOOL3=%q\n' "$prom3_dir/promtool"
printf 'export BLINDSPOT_TEST_PROMETHEUS2=%q\n' /usr/bin/prometheus
printf 'export BLINDSPOT_TEST_PROMTOOL2=%q\n' /usr/bin/promtool
printf 'export BLINDSPOT_TEST_NODE_EXPORTER=%q\n' /usr/bin/prometheus-node-exporter
printf 'export BLINDSPOT_TEST_PUSHGATEWAY=%q\n' /usr/bin/prometheus-pushgateway
