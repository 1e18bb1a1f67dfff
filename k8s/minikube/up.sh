#!/usr/bin/env bash
# Shop on Dapr on minikube: starts the profile unless it runs, builds the
# images and loads them into it, then runs the shared install path
# (k8s/install.sh: Dapr, its dashboard, charts/shop, checks). A re-run after a
# change rebuilds and rolls the services whose image changed.
#   npm run k8s:minikube [-- install.sh options]
# Env: MINIKUBE_PROFILE (shop), MINIKUBE_CPUS (4), MINIKUBE_MEMORY (6g; at
# least 4g with --laptop values, 6g with Dapr's defaults: docs/kubernetes.md, "Sizing").
# Docker Desktop refuses more memory than its own VM has, so leave it room.
# shellcheck source=k8s/lib.sh
source "$(dirname "$0")/../lib.sh"
need docker "https://docs.docker.com/get-docker/" minikube "https://minikube.sigs.k8s.io/docs/start/" \
  kubectl "https://kubernetes.io/docs/tasks/tools/" helm "https://helm.sh/docs/intro/install/"
profile=${MINIKUBE_PROFILE:-shop}
cpus=${MINIKUBE_CPUS:-4}
memory=${MINIKUBE_MEMORY:-6g}

if ! minikube status --profile "$profile" > /dev/null 2>&1; then
  step "starting minikube profile $profile ($cpus CPUs, $memory)" \
    minikube start --profile "$profile" --cpus "$cpus" --memory "$memory"
fi
kubectl config use-context "$profile" > /dev/null

tags=$(mktemp)
trap 'rm -f "$tags"' EXIT
"$K8S_DIR/build-images.sh" --tags-values "$tags"
for service in "${SHOP_SERVICES[@]}"; do
  image="shop/$service:$(image_tag "$service")"
  step "loading $image into minikube" minikube image load --profile "$profile" "$image"
done

"$K8S_DIR/install.sh" --values "$K8S_DIR/minikube/values.yaml" --values "$tags" "$@"
