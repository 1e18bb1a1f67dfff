#!/usr/bin/env bash
# Shop on Dapr on kind: creates the cluster (k8s/kind/cluster.yaml) unless it
# exists, builds the images and loads them into it, then runs the shared
# install path (k8s/install.sh: Dapr, its dashboard, charts/shop, checks).
# A re-run after a change rebuilds and rolls the services whose image changed.
#   npm run k8s:kind [-- install.sh options]
# Env: KIND_CLUSTER (shop), KIND_NODE_IMAGE (kind's default node image for its
# version; another, e.g. one built for a machine without registry access).
# shellcheck source=k8s/lib.sh
source "$(dirname "$0")/../lib.sh"
need docker "https://docs.docker.com/get-docker/" kind "https://kind.sigs.k8s.io/docs/user/quick-start/#installation" \
  kubectl "https://kubernetes.io/docs/tasks/tools/" helm "https://helm.sh/docs/intro/install/"
docker info > /dev/null 2>&1 || die "docker does not answer: start Docker first"
cluster=${KIND_CLUSTER:-shop}
node_image=${KIND_NODE_IMAGE:-}

if ! kind get clusters 2> /dev/null | grep -qx "$cluster"; then
  step "creating kind cluster $cluster" kind create cluster --name "$cluster" --config "$K8S_DIR/kind/cluster.yaml" \
    ${node_image:+--image "$node_image"} --wait 3m
fi
kubectl config use-context "kind-$cluster" > /dev/null

tags=$(mktemp)
trap 'rm -f "$tags"' EXIT
"$K8S_DIR/build-images.sh" --tags-values "$tags"
for service in "${SHOP_SERVICES[@]}"; do
  image="shop/$service:$(image_tag "$service")"
  step "loading $image into kind" kind load docker-image --name "$cluster" "$image"
done

"$K8S_DIR/install.sh" --values "$K8S_DIR/kind/values.yaml" --values "$tags" "$@"
log "the gateway answers on the host at http://127.0.0.1:3100"
