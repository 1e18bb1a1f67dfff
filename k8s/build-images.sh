#!/usr/bin/env bash
# Builds one image per service from services/Dockerfile (the service a build
# argument; the gateway's target adds the storefront page), tagged
# <repository>/<service>:<tag> as charts/shop expects: by default shop/<service>
# tagged with image_tag (k8s/lib.sh: appVersion and a hash of its content).
#   k8s/build-images.sh [--repository shop] [--tag TAG] [--tags-values FILE] [-- extra docker build flags]
# --tags-values: writes each service's tag into FILE as charts/shop values
# (services.<name>.imageTag), for the install (k8s/kind/up.sh, k8s/minikube/up.sh).
# SHOP_DOCKER (default: docker) is the client to use; SHOP_BUILD_FLAGS, more
# `docker build` flags for a machine that needs them (the project's CI: its
# network and the CA of its TLS-intercepting proxy; users need none).
# shellcheck source=k8s/lib.sh
source "$(dirname "$0")/lib.sh"

repository=shop
tag=
tags_file=
# `docker build`'s flags: never empty (an empty array expanded is an error under
# `set -u` in bash 3.2, macOS's own bash).
# shellcheck disable=SC2206 # SHOP_BUILD_FLAGS: flags, split on spaces
build_args=(--quiet ${SHOP_BUILD_FLAGS:-})
while [ $# -gt 0 ]; do
  case $1 in
    --repository) repository=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --tags-values) tags_file=$2; shift 2 ;;
    --) shift; build_args+=("$@"); break ;;
    *) die "unknown option $1 (see the header of $0)" ;;
  esac
done
docker=${SHOP_DOCKER:-docker}
need "$docker" "Docker: https://docs.docker.com/get-docker/"
[ -z "$tags_file" ] || echo "services:" > "$tags_file"

for service in "${SHOP_SERVICES[@]}"; do
  service_tag=${tag:-$(image_tag "$service")}
  # The gateway's target adds the storefront page it serves.
  target=app
  [ "$service" != gateway ] || target=gateway
  step "building $repository/$service:$service_tag" \
    env DOCKER_BUILDKIT=1 "$docker" build "${build_args[@]}" --build-arg "SERVICE=$service" --target "$target" \
    -f "$ROOT/services/Dockerfile" -t "$repository/$service:$service_tag" "$ROOT" > /dev/null
  [ -z "$tags_file" ] || printf '  %s: { imageTag: "%s" }\n' "$service" "$service_tag" >> "$tags_file"
done
"$docker" image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep "^$repository/" | sort >&2
