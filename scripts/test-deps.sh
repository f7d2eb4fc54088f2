#!/usr/bin/env bash
# Installs the real servers the integration tests run against, when they are missing:
#   - Prometheus 3.x and promtool built from the pinned module version, cached outside the repo
#     under $BLINDSPOT_CACHE (default ~/.cache/blindspot), keyed by version;
#   - Loki v1.6.1 (the last Apache-2.0 release), built the same way into $BLINDSPOT_CACHE, and its
#     Promtail, which runs the generated pipeline stages (--stdin --dry-run);
#   - Debian's prometheus (2.x), prometheus-node-exporter and prometheus-pushgateway;
#   - Debian's luajit, the Lua Fluent Bit embeds, to run the generated masking filter;
#   - Debian's chromium, driven headless by the browser tests of the HTML report.
#   - Thanos v0.42.4 (sidecar + query), built like Loki into $BLINDSPOT_CACHE.
#   - Debian's prometheus-alertmanager (with amtool), for the routing checks and routes.yaml.
#   - Debian's prometheus-blackbox-exporter, whose failing probe probes/failing is tested on.
#   - Debian's buildah, which builds the container image from the Dockerfile (deploy/image_test.go).
# Prints the environment the tests read (BLINDSPOT_TEST_*) as export statements for eval.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${BLINDSPOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/blindspot}
prom_version=$(cd "$here" && go list -m -f '{{.Version}}' github.com/prometheus/prometheus)
prom3_dir="$cache/prometheus-$prom_version"

log() { echo "test-deps: $*" >&2; }

# Prints a go.mod's replace directives (single lines and blocks alike) as single lines,
# comments and comment-only lines dropped, for a throwaway build module to repeat.
replace_lines() {
  awk '/^replace \($/ { block = 1; next }
       block && /^\)/ { block = 0; next }
       block { sub(/\/\/.*/, ""); if ($0 ~ /[^[:space:]]/) print "replace " $0; next }
       /^replace / { sub(/\/\/.*/, ""); print }' "$1"
}

if [ ! -x "$prom3_dir/prometheus" ] || [ ! -x "$prom3_dir/promtool" ]; then
  log "building Prometheus $prom_version and promtool into $prom3_dir (cold: several minutes)"
  mkdir -p "$prom3_dir"
  # Built from the same pinned version as go.mod so parser and server agree.
  (cd "$here" && GOBIN="$prom3_dir" GOFLAGS=-mod=mod go install \
    "github.com/prometheus/prometheus/cmd/prometheus@$prom_version" \
    "github.com/prometheus/prometheus/cmd/promtool@$prom_version")
fi

# build_with_replaces NAME MODULE VERSION GO OUT PACKAGE [ENV=VALUE…] -- [GO BUILD FLAGS…]
# builds PACKAGE of MODULE@VERSION into OUT. `go install MODULE/…@VERSION` is refused when the
# module's go.mod has replace directives, so a throwaway module (with a go.mod of its own, which
# keeps the download out of any module the cache directory lies in) requires MODULE in Go
# version GO and repeats them. ENV settings apply to go build. EXTRA_REQUIRES (newline-separated "module version" lines) are required too.
build_with_replaces() {
  local name=$1 module=$2 version=$3 go=$4 out=$5 pkg=$6
  shift 6
  local env=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do env+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  log "building $name $version into $(dirname "$out") (cold: several minutes)"
  mkdir -p "$(dirname "$out")"
  local started build gomod
  started=$(date +%s)
  build=$(mktemp -d "$cache/$name-build.XXXXXX")
  trap 'rm -rf "$build"' EXIT
  echo "module blindspot.invalid/$name-build" >"$build/go.mod"
  gomod=$(cd "$build" && go mod download -json "$module@$version" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  {
    echo "module blindspot.invalid/$name-build"
    echo
    echo "go $go"
    echo
    echo "require ("
    echo "	$module $version"
    if [ -n "${EXTRA_REQUIRES:-}" ]; then
      while IFS= read -r req; do printf '\t%s\n' "$req"; done <<<"$EXTRA_REQUIRES"
    fi
    echo ")"
    echo
    replace_lines "$gomod"
  } >"$build/go.mod"
  (cd "$build" && env ${env[@]+"${env[@]}"} GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod" \
    go build -trimpath -ldflags='-s -w' "$@" -o "$build/$name" "$pkg")
  mv "$build/$name" "$out"
  rm -rf "$build"
  trap - EXIT
  log "built $name $version in $(($(date +%s) - started)) s"
}

# Loki: reflect2 1.0.1 (loki's pin) breaks map iteration on Go >= 1.18, which turns /series and
# /query_range into HTTP 500s. Promtail without cgo: its journal target needs systemd headers.
loki_version=v1.6.1
loki_dir="$cache/loki-$loki_version"
if [ ! -x "$loki_dir/loki" ]; then
  EXTRA_REQUIRES=$'github.com/modern-go/reflect2 v1.0.2\ngithub.com/json-iterator/go v1.1.12' \
    build_with_replaces loki github.com/grafana/loki "$loki_version" 1.14 "$loki_dir/loki" \
    github.com/grafana/loki/cmd/loki
fi
if [ ! -x "$loki_dir/promtail" ]; then
  EXTRA_REQUIRES=$'github.com/modern-go/reflect2 v1.0.2\ngithub.com/json-iterator/go v1.1.12' \
    build_with_replaces promtail github.com/grafana/loki "$loki_version" 1.14 "$loki_dir/promtail" \
    github.com/grafana/loki/cmd/promtail CGO_ENABLED=0
fi

# Thanos: without the slicelabels tag every sidecar panics on Query's first call.
thanos_version=v0.42.4
thanos_dir="$cache/thanos-$thanos_version"
if [ ! -x "$thanos_dir/thanos" ]; then
  build_with_replaces thanos github.com/thanos-io/thanos "$thanos_version" 1.26 "$thanos_dir/thanos" \
    github.com/thanos-io/thanos/cmd/thanos CGO_ENABLED=0 -- -tags netgo,slicelabels
fi

need=()
[ -x /usr/bin/prometheus ] || need+=(prometheus)
[ -x /usr/bin/prometheus-node-exporter ] || need+=(prometheus-node-exporter)
[ -x /usr/bin/prometheus-pushgateway ] || need+=(prometheus-pushgateway)
[ -x /usr/bin/luajit ] || need+=(luajit)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/prometheus-alertmanager ] || need+=(prometheus-alertmanager)
[ -x /usr/bin/prometheus-blackbox-exporter ] || need+=(prometheus-blackbox-exporter)
[ -x /usr/bin/buildah ] || need+=(buildah)
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
printf 'export BLINDSPOT_TEST_LOKI=%q\n' "$loki_dir/loki"
printf 'export BLINDSPOT_TEST_PROMTAIL=%q\n' "$loki_dir/promtail"
printf 'export BLINDSPOT_TEST_NODE_EXPORTER=%q\n' /usr/bin/prometheus-node-exporter
printf 'export BLINDSPOT_TEST_PUSHGATEWAY=%q\n' /usr/bin/prometheus-pushgateway
printf 'export BLINDSPOT_TEST_LUAJIT=%q\n' /usr/bin/luajit
printf 'export BLINDSPOT_TEST_CHROMIUM=%q\n' /usr/bin/chromium
printf 'export BLINDSPOT_TEST_THANOS=%q\n' "$thanos_dir/thanos"
printf 'export BLINDSPOT_TEST_ALERTMANAGER=%q\n' /usr/bin/prometheus-alertmanager
printf 'export BLINDSPOT_TEST_AMTOOL=%q\n' /usr/bin/amtool
printf 'export BLINDSPOT_TEST_BLACKBOX_EXPORTER=%q\n' /usr/bin/prometheus-blackbox-exporter
printf 'export BLINDSPOT_TEST_BUILDAH=%q\n' /usr/bin/buildah
