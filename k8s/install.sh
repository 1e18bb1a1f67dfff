#!/usr/bin/env bash
# The install path every cluster shares (kind, minikube, any other), once the
# cluster exists and the service images are in it:
#   1. Dapr's CRDs and control plane, from Dapr's own Helm chart (--wait),
#   2. the Dapr dashboard (Dapr's dapr-dashboard chart), unless --no-dashboard,
#   3. metrics-server (its own chart), unless the cluster has a metrics API: the
#      HPAs of coupon and order scale on CPU, and kind has none,
#   4. charts/shop with the given values (--wait), checked: every service pod
#      has its daprd container (the injector fails open), then `helm test`,
#   5. how to reach the services and the dashboard.
# Options:
#   --values FILE           values for charts/shop (repeatable)
#   --set KEY=VALUE         one value for charts/shop (repeatable)
#   --dapr-chart REF        Dapr's chart: dapr/dapr (default, from https://dapr.github.io/helm-charts) or a folder
#   --dapr-values FILE      values for Dapr's chart (registry, tag, single replicas...)
#   --laptop                the laptop profile: k8s/laptop/values.yaml for charts/shop and
#                           k8s/laptop/dapr-values.yaml for Dapr's chart (docs/kubernetes.md, "Sizing")
#   --no-dashboard          skip the dashboard
#   --metrics-server-chart REF  metrics-server's chart: metrics-server/metrics-server (default,
#                           from https://kubernetes-sigs.github.io/metrics-server/) or a folder
#   --no-test               skip `helm test`
# Env: SHOP_NAMESPACE (shop), KUBECONFIG, HELM (helm), KUBECTL (kubectl).
# shellcheck source=k8s/lib.sh
source "$(dirname "$0")/lib.sh"

# Each install's flags start with the fixed ones, so the array is never empty:
# an empty one expanded is an error under `set -u` in bash 3.2, macOS's own bash.
# --wait-for-jobs: charts/shop's install is done once the Kafka topics Job has
# created every topic and dead-letter topic, not while it still retries against
# a Kafka that is starting.
shop_args=(--namespace "$SHOP_NAMESPACE" --create-namespace --wait --wait-for-jobs --timeout 15m)
dapr_chart=dapr/dapr
dapr_args=(--namespace dapr-system --create-namespace --wait --timeout 10m)
dashboard=true
metrics_chart=metrics-server/metrics-server
run_tests=true
while [ $# -gt 0 ]; do
  case $1 in
    --values) shop_args+=(--values "$2"); shift 2 ;;
    --set) shop_args+=(--set "$2"); shift 2 ;;
    --dapr-chart) dapr_chart=$2; shift 2 ;;
    --dapr-values) dapr_args+=(--values "$2"); shift 2 ;;
    --laptop)
      shop_args+=(--values "$K8S_DIR/laptop/values.yaml")
      dapr_args+=(--values "$K8S_DIR/laptop/dapr-values.yaml")
      shift
      ;;
    --no-dashboard) dashboard=false; shift ;;
    --metrics-server-chart) metrics_chart=$2; shift 2 ;;
    --no-test) run_tests=false; shift ;;
    *) die "unknown option $1 (see the header of $0)" ;;
  esac
done
helm=${HELM:-helm}
kubectl=${KUBECTL:-kubectl}
need "$helm" "Helm 3: https://helm.sh/docs/intro/install/" "$kubectl" "kubectl: https://kubernetes.io/docs/tasks/tools/"
"$kubectl" version > /dev/null 2>&1 || die "no cluster answers (kubectl version failed): is KUBECONFIG right?"

dapr_repo() {
  "$helm" repo add dapr https://dapr.github.io/helm-charts --force-update > /dev/null
  "$helm" repo update dapr > /dev/null
}
if [ ! -d "$dapr_chart" ]; then
  step "adding Dapr's Helm repository" dapr_repo
  dapr_args=(--version "$DAPR_VERSION" "${dapr_args[@]}")
fi

# Helm installs CRDs on first install only; applying them each time also
# upgrades them when Dapr's version changes.
dapr_crds() {
  if [ -d "$dapr_chart" ]; then
    "$kubectl" apply --server-side --force-conflicts -f "$dapr_chart/crds" > /dev/null
  else
    "$helm" show crds "$dapr_chart" --version "$DAPR_VERSION" | "$kubectl" apply --server-side --force-conflicts -f - > /dev/null
  fi
}
step "applying Dapr $DAPR_VERSION CRDs" dapr_crds
step "installing Dapr $DAPR_VERSION control plane (namespace dapr-system)" \
  "$helm" upgrade --install dapr "$dapr_chart" "${dapr_args[@]}"

if [ "$dashboard" = true ]; then
  [ -d "$dapr_chart" ] && dapr_repo
  step "installing the Dapr dashboard $DAPR_DASHBOARD_VERSION" \
    "$helm" upgrade --install dapr-dashboard dapr/dapr-dashboard --version "$DAPR_DASHBOARD_VERSION" \
    --namespace dapr-system --wait --timeout 5m
fi

# The HPAs need the metrics API. A cluster that has one (minikube's addon, a
# cloud's own) keeps it; kind has none. kind's kubelets serve self-signed
# certificates, hence --kubelet-insecure-tls (what kind's own docs do).
metrics_server() {
  local metrics_args=(--namespace kube-system --set "image.tag=v$METRICS_SERVER_VERSION"
    --set 'args={--kubelet-insecure-tls}' --wait --timeout 5m)
  if [ ! -d "$metrics_chart" ]; then
    "$helm" repo add metrics-server https://kubernetes-sigs.github.io/metrics-server/ --force-update > /dev/null
    "$helm" repo update metrics-server > /dev/null
    metrics_args=(--version "$METRICS_SERVER_CHART_VERSION" "${metrics_args[@]}")
  fi
  "$helm" upgrade --install metrics-server "$metrics_chart" "${metrics_args[@]}" > /dev/null
}
if "$helm" status metrics-server --namespace kube-system > /dev/null 2>&1 ||
  ! "$kubectl" get apiservice v1beta1.metrics.k8s.io > /dev/null 2>&1; then
  step "installing metrics-server $METRICS_SERVER_VERSION (for the HPAs)" metrics_server
else
  log "the cluster has a metrics API already: metrics-server not installed"
fi

step "installing charts/shop (namespace $SHOP_NAMESPACE)" \
  "$helm" upgrade --install shop "$ROOT/charts/shop" "${shop_args[@]}"

# A pod created while the injector was away runs without daprd (its webhook
# fails open): say so rather than let a service fail on its first call.
check_sidecars() {
  local service containers
  for service in "${SHOP_SERVICES[@]}"; do
    containers=$("$kubectl" -n "$SHOP_NAMESPACE" get pods -l "app.kubernetes.io/name=$service" \
      -o jsonpath='{range .items[*]}{.metadata.name}={.spec.containers[*].name}{"\n"}{end}')
    while IFS= read -r line; do
      [ -z "$line" ] && continue
      case " ${line#*=} " in
        *" daprd "*) ;;
        *) die "pod ${line%%=*} has no daprd sidecar; delete it once Dapr's injector runs: kubectl -n $SHOP_NAMESPACE delete pod ${line%%=*}" ;;
      esac
    done <<< "$containers"
  done
}
step "checking that every service pod has its daprd sidecar" check_sidecars

# `helm test --logs` cannot pick a container of a two-container pod: the
# readyz container's log is read with kubectl instead.
helm_test() {
  local status=0
  "$helm" test shop --namespace "$SHOP_NAMESPACE" > /dev/null || status=$?
  "$kubectl" -n "$SHOP_NAMESPACE" logs job/shop-test-readyz -c readyz >&2 || true
  return $status
}
if [ "$run_tests" = true ]; then
  step "helm test (each service's /readyz through Dapr)" helm_test
fi

cat >&2 <<TEXT

[k8s] Shop on Dapr runs in namespace $SHOP_NAMESPACE. For example:
  kubectl -n $SHOP_NAMESPACE get pods
  kubectl -n $SHOP_NAMESPACE port-forward svc/gateway 3100:80 & curl -s localhost:3100/products
  DAPR_TOKEN=\$(kubectl -n $SHOP_NAMESPACE get secret shop-dapr-api-token -o jsonpath='{.data.token}' | base64 -d)
  kubectl -n $SHOP_NAMESPACE port-forward deploy/order 3500:3500 & curl -s localhost:3500/v1.0/metadata -H "dapr-api-token: \$DAPR_TOKEN"
TEXT
if [ "$dashboard" = true ]; then
  echo "  kubectl -n dapr-system port-forward svc/dapr-dashboard 8080:8080   # the Dapr dashboard: http://localhost:8080" >&2
fi
