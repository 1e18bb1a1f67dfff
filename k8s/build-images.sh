#!/usr/bin/env bash
# Builds one image per service from its own Dockerfile, tagged
# <repository>/<service>:<tag> as charts/shop expects (default shop/*:<appVersion>).
#   k8s/build-images.sh [--repository shop] [--tag 0.1.0] [-- extra docker build flags]
# SHOP_DOCKER (default: docker) is the client to use.
# shellcheck source=k8s/lib.sh
source "$(dirname "$0")/lib.sh"

repository=shop
tag=$SHOP_TAG
extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --repository) repository=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) die "unknown option $1 (see the header of $0)" ;;
  esac
done
docker=${SHOP_DOCKER:-docker}
need "$docker" "Docker: https://docs.docker.com/get-docker/"

for service in "${SHOP_SERVICES[@]}"; do
  step "building $repository/$service:$tag" \
    env DOCKER_BUILDKIT=1 "$docker" build --quiet "${extra[@]}" \
    -f "$ROOT/services/$service/Dockerfile" -t "$repository/$service:$tag" "$ROOT" > /dev/null
done
"$docker" image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep "^$repository/" | sort >&2
