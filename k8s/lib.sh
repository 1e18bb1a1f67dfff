# shellcheck shell=bash
# Helpers shared by the k8s/ scripts: progress lines with timings, checks of
# what a script needs, and the versions every cluster gets.
set -euo pipefail

K8S_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$K8S_DIR/.." && pwd)
export ROOT K8S_DIR

# Versions (DESIGN.md "Versions"): Dapr's control plane matches the daprd the
# local platform runs; images are tagged with the chart's appVersion.
DAPR_VERSION=1.18.2
# shellcheck disable=SC2034 # read by the scripts that source this file
SHOP_SERVICES=(user product coupon payment order)
SHOP_TAG=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$ROOT/charts/shop/Chart.yaml")
SHOP_NAMESPACE=${SHOP_NAMESPACE:-shop}
export DAPR_VERSION SHOP_TAG SHOP_NAMESPACE

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
  local missing=()
  while [ $# -gt 0 ]; do
    command -v "$1" > /dev/null 2>&1 || missing+=("$1 ($2)")
    shift 2
  done
  [ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]}"
}
