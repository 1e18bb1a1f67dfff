#!/usr/bin/env bash
# Shop on Dapr on minikube: starts the profile (4 CPUs, 8 GiB) unless it runs,
# builds the images and loads them into it, then runs the shared install path
# (k8s/install.sh: Dapr, its dashboard, charts/shop, checks).
#   npm run k8s:minikube [-- install.sh options]    MINIKUBE_PROFILE=shop by default
# shellcheck source=k8s/lib.sh
source "$(dirname "$0")/../lib.sh"
need docker "https://docs.docker.com/get-docker/" minikube "https://minikube.sigs.k8s.io/docs/start/" \
  kubectl "https://kubernetes.io/docs/tasks/tools/" helm "https://helm.sh/docs/intro/install/"
profile=${MINIKUBE_PROFILE:-shop}

if ! minikube status --profile "$profile" > /dev/null 2>&1; then
  step "starting minikube profile $profile" minikube start --profile "$profile" --cpus 4 --memory 8g
fi
kubectl config use-context "$profile" > /dev/null

"$K8S_DIR/build-images.sh"
for service in "${SHOP_SERVICES[@]}"; do
  step "loading shop/$service:$SHOP_TAG into minikube" minikube image load --profile "$profile" "shop/$service:$SHOP_TAG"
done

"$K8S_DIR/install.sh" --values "$K8S_DIR/minikube/values.yaml" "$@"
