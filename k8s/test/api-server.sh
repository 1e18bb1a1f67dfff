#!/usr/bin/env bash
# etcd and kube-apiserver on loopback, with their own certificates, data and
# pid files under one folder: the API server the chart is validated against
# (`npm test`, chart.k8s.test.ts).
#   api-server.sh up DIR [--port 30443] [--etcd-port 30479]   # DIR/kubeconfig (admin), when ready
#   api-server.sh down DIR                                    # stops both, keeps DIR
# Env: KUBE_BIN (folder with kube-apiserver), ETCD (etcd binary; default: on the PATH).
# shellcheck source=k8s/lib.sh
source "$(dirname "$0")/../lib.sh"

command=${1:-}
dir=${2:-}
if [ -z "$command" ] || [ -z "$dir" ]; then die "usage: $0 up|down DIR [--port N] [--etcd-port N]"; fi
shift 2
port=30443
etcd_port=30479
address=127.0.0.1
while [ $# -gt 0 ]; do
  case $1 in
    --port) port=$2; shift 2 ;;
    --etcd-port) etcd_port=$2; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done

# The cluster's Service range; its first address is the API server's Service.
SERVICE_CIDR=10.96.0.0/16
API_SERVICE_IP=10.96.0.1

RUN_DIR=$dir
if [ "$command" = down ]; then
  stop kube-apiserver
  stop etcd
  exit 0
fi
[ "$command" = up ] || die "usage: $0 up|down DIR"

etcd=${ETCD:-$(command -v etcd || true)}
apiserver=${KUBE_BIN:+$KUBE_BIN/}kube-apiserver
[ -x "$etcd" ] || die "etcd not found (apt-get install etcd-server, or set ETCD)"
command -v "$apiserver" > /dev/null || die "kube-apiserver not found (set KUBE_BIN; npm run k8s:provision builds it)"
need openssl "apt-get install openssl"

pki=$dir/pki
mkdir -p "$pki" "$dir/etcd"

# cert NAME SUBJECT [SANS]: a key and a certificate signed by the folder's CA.
cert() {
  local name=$1 subject=$2 sans=${3:-}
  [ -f "$pki/$name.crt" ] && return 0
  openssl genrsa -out "$pki/$name.key" 2048 2> /dev/null
  openssl req -new -key "$pki/$name.key" -subj "$subject" -out "$pki/$name.csr" 2> /dev/null
  local ext=$pki/$name.ext
  printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n' > "$ext"
  [ -n "$sans" ] && printf 'subjectAltName=%s\n' "$sans" >> "$ext"
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 3650 -extfile "$ext" -out "$pki/$name.crt" 2> /dev/null
}
if [ ! -f "$pki/ca.crt" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=shop-api-server-ca" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2> /dev/null
fi
cert apiserver "/CN=kube-apiserver" \
  "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:$address,IP:$API_SERVICE_IP"
cert admin "/O=system:masters/CN=admin"
cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
[ -f "$pki/sa.key" ] || openssl genrsa -out "$pki/sa.key" 2048 2> /dev/null
[ -f "$pki/sa.pub" ] || openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2> /dev/null

kubeconfig() {
  local user=$1
  cat << YAML
apiVersion: v1
kind: Config
clusters:
  - name: shop-api-server
    cluster:
      server: https://$address:$port
      certificate-authority-data: $(base64 -w0 < "$pki/ca.crt")
users:
  - name: $user
    user:
      client-certificate-data: $(base64 -w0 < "$pki/$user.crt")
      client-key-data: $(base64 -w0 < "$pki/$user.key")
# The context is named as minikube's profile is (one the Tiltfile allows).
contexts:
  - name: shop
    context: { cluster: shop-api-server, user: $user }
current-context: shop
YAML
}
kubeconfig admin > "$dir/kubeconfig"

start etcd "$etcd" --name shop-api-server --data-dir "$dir/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$((etcd_port + 1))" \
  --initial-advertise-peer-urls "http://127.0.0.1:$((etcd_port + 1))" \
  --initial-cluster "shop-api-server=http://127.0.0.1:$((etcd_port + 1))" \
  --quota-backend-bytes 2147483648
wait_until etcd 30 curl -fsS "http://127.0.0.1:$etcd_port/health"

start kube-apiserver "$apiserver" \
  --etcd-servers "http://127.0.0.1:$etcd_port" \
  --bind-address "$address" --advertise-address "$address" --secure-port "$port" \
  --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
  --client-ca-file "$pki/ca.crt" \
  --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" \
  --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
  --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-cluster-ip-range "$SERVICE_CIDR" \
  --authorization-mode Node,RBAC \
  --kubelet-preferred-address-types InternalIP \
  --allow-privileged=true \
  --enable-priority-and-fairness=false
wait_until kube-apiserver 60 curl -fsS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
  "https://$address:$port/readyz"
