#!/usr/bin/env bash
# Deletes the kind cluster of k8s/kind/up.sh (and everything in it).
# shellcheck source=k8s/lib.sh
source "$(dirname "$0")/../lib.sh"
need kind "https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
step "deleting kind cluster ${KIND_CLUSTER:-shop}" kind delete cluster --name "${KIND_CLUSTER:-shop}"
