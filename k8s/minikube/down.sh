#!/usr/bin/env bash
# Deletes the minikube profile of k8s/minikube/up.sh (and everything in it).
# shellcheck source=k8s/lib.sh
source "$(dirname "$0")/../lib.sh"
need minikube "https://minikube.sigs.k8s.io/docs/start/"
step "deleting minikube profile ${MINIKUBE_PROFILE:-shop}" minikube delete --profile "${MINIKUBE_PROFILE:-shop}"
