# shellcheck shell=bash
# Helpers shared by the k8s/ scripts: progress lines with timings, checks of
# what a script needs, and the versions every cluster gets.
set -euo pipefail

K8S_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$K8S_DIR/.." && pwd)
export ROOT K8S_DIR

# Versions (DESIGN.md "Versions"): Dapr's control plane matches the daprd the
# local platform runs; images are tagged with the chart's appVersion and a
# hash of their content (image_tag).
DAPR_VERSION=1.18.2
# The dashboard is its own chart (dapr/dapr-dashboard) with its own versions.
DAPR_DASHBOARD_VERSION=0.15.0
# metrics-server for the HPAs, and the version of its chart that carries it.
METRICS_SERVER_VERSION=0.8.0
METRICS_SERVER_CHART_VERSION=3.13.0
# shellcheck disable=SC2034 # read by the scripts that source this file
SHOP_SERVICES=(gateway user product coupon payment order)
SHOP_TAG=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$ROOT/charts/shop/Chart.yaml")
SHOP_NAMESPACE=${SHOP_NAMESPACE:-shop}
export DAPR_VERSION DAPR_DASHBOARD_VERSION METRICS_SERVER_VERSION METRICS_SERVER_CHART_VERSION SHOP_TAG SHOP_NAMESPACE

# image_tag SERVICE: <appVersion>-<hash of what goes into its image> (its
# services/Dockerfile and its build context, as .dockerignore and Tilt's `only` let them in),
# so a re-run after a change rolls exactly the services whose image changed.
image_tag() {
  local sum=sha256sum storefront=
  command -v sha256sum > /dev/null 2>&1 || sum="shasum -a 256" # macOS
  # The gateway's image also builds the storefront page it serves.
  [ "$1" = gateway ] && storefront=services/storefront
  (
    cd "$ROOT"
    # shellcheck disable=SC2086 # $storefront: one folder or none
    find services/Dockerfile package.json package-lock.json services/platform "services/$1" $storefront \
      \( -name node_modules -o -name test -o -name dist -o -name screenshots \) -prune \
      -o -type f ! -name '*.test.ts' -print | LC_ALL=C sort | while IFS= read -r file; do $sum "$file"; done | $sum
  ) | cut -c1-12 | sed "s/^/$SHOP_TAG-/"
}

log() { printf '[k8s] %s\n' "$*" >&2; }
die() {
  printf '[k8s] error: %s\n' "$*" >&2
  exit 1
}

# step "what" command...: runs the command, then says how long it took.
step() {
  local what=$1 started=$SECONDS
  shift
  log "$what…"
  "$@"
  log "✓ $what ($((SECONDS - started))s)"
}

# need cmd "how to get it"...: names every missing command at once.
need() {
  local missing=
  while [ $# -gt 0 ]; do
    command -v "$1" > /dev/null 2>&1 || missing="$missing, $1 ($2)"
    shift 2
  done
  [ -z "$missing" ] || die "missing: ${missing#, }"
}

# Background processes of k8s/offline/prepare.sh: each has its log in
# $RUN_DIR/logs/NAME.log and its pid in $RUN_DIR/run/NAME.pid.
running() { [ -f "$RUN_DIR/run/$1.pid" ] && kill -0 "$(cat "$RUN_DIR/run/$1.pid")" 2> /dev/null; }

# start NAME COMMAND...: in the background, in its own session.
start() {
  local name=$1
  shift
  running "$name" && return 0
  mkdir -p "$RUN_DIR/run" "$RUN_DIR/logs"
  setsid "$@" >> "$RUN_DIR/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$RUN_DIR/run/$name.pid"
}

# wait_until NAME SECONDS COMMAND...: polls; on time-out shows NAME's log tail and fails.
wait_until() {
  local name=$1 seconds=$2
  shift 2
  for _ in $(seq $((seconds * 5))); do
    "$@" > /dev/null 2>&1 && return 0
    sleep 0.2
  done
  tail -n 30 "$RUN_DIR/logs/$name.log" >&2 2> /dev/null || true
  die "$name did not become ready within ${seconds}s (log: $RUN_DIR/logs/$name.log)"
}

# stop NAME: SIGTERM, up to 10 s, then SIGKILL.
stop() {
  local name=$1 pid
  [ -f "$RUN_DIR/run/$name.pid" ] || return 0
  pid=$(cat "$RUN_DIR/run/$name.pid")
  kill "$pid" 2> /dev/null || true
  for _ in $(seq 100); do
    kill -0 "$pid" 2> /dev/null || break
    # A zombie (its parent gone, nobody reaping) has ended all the same.
    [ "$(ps -o stat= -p "$pid" 2> /dev/null | cut -c1)" = Z ] && break
    sleep 0.1
  done
  kill -9 "$pid" 2> /dev/null || true
  rm -f "$RUN_DIR/run/$name.pid"
}
