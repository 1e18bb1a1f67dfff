#!/usr/bin/env bash
# Shop on Dapr on kind: creates the cluster (k8s/kind/cluster.yaml) unless it
# exists, builds the images and loads them into it, then runs the shared
# install path (k8s/install.sh: Dapr, its dashboard, charts/shop, checks).
#   npm run k8s:kind [-- install.sh options]      KIND_CLUSTER=shop by default
# shellcheck source=k8s/lib.sh
source "$(dirname "$0")/../lib.sh"
need docker "https://docs.docker.com/get-docker/" kind "https://kind.sigs.k8s.io/docs/user/quick-start/#installation" \
  kubectl "https://kubernetes.io/docs/tasks/tools/" helm "https://helm.sh/docs/intro/install/"
docker info > /dev/null 2>&1 || die "docker does not answer: start Docker first"
cluster=${KIND_CLUSTER:-shop}

if ! kind get clusters 2> /dev/null | grep -qx "$cluster"; then
  step "creating kind cluster $cluster" kind create cluster --name "$cluster" --config "$K8S_DIR/kind/cluster.yaml" --wait 3m
fi
kubectl config use-context "kind-$cluster" > /dev/null

"$K8S_DIR/build-images.sh"
for service in "${SHOP_SERVICES[@]}"; do
  step "loading shop/$service:$SHOP_TAG into kind" kind load docker-image --name "$cluster" "shop/$service:$SHOP_TAG"
done

"$K8S_DIR/install.sh" --values "$K8S_DIR/kind/values.yaml" "$@"
log "the gateway answers on the host at http://127.0.0.1:3100 (the services for debugging: user http://127.0.0.1:3101 … order http://127.0.0.1:3105)"
