#!/usr/bin/env bash
# A real Kubernetes API server (kube-apiserver v1.20.2 from Debian's `kubernetes` source package, on Debian's
# etcd 3.4) on 127.0.0.1, for Floe's conformance tests (`npm run test:conformance`) and for trying Floe against
# a real API server. Nothing is downloaded but Debian packages.
#
#   scripts/kube-apiserver.sh build            build kube-apiserver once (~20-40 min) into the cache
#   scripts/kube-apiserver.sh cached           exit 0 when the binary is cached (prints its path)
#   scripts/kube-apiserver.sh start [--port N] start etcd + kube-apiserver; prints the kubeconfig path
#   scripts/kube-apiserver.sh restart          restart kube-apiserver only (etcd and its data stay)
#   scripts/kube-apiserver.sh stop             stop both and remove the state directory
#   scripts/kube-apiserver.sh status           exit 0 when the server answers /readyz
#
# Environment: FLOE_KUBE_CACHE (binary cache, default /var/cache/floe-kube, outside any work tree),
# FLOE_KUBE_STATE (state directory: etcd data, certificates, kubeconfig, logs, pids; default
# ${TMPDIR:-/tmp}/floe-kube-apiserver), FLOE_KUBE_PORT (default 6443), FLOE_KUBE_TOKEN (default: random).
# The build runs at nice 19 with one compile job (GOMAXPROCS=1, -p=1) so a shared machine stays usable;
# FLOE_KUBE_BUILD_JOBS raises that.
set -euo pipefail

CACHE="${FLOE_KUBE_CACHE:-/var/cache/floe-kube}"
STATE="${FLOE_KUBE_STATE:-${TMPDIR:-/tmp}/floe-kube-apiserver}"
PORT="${FLOE_KUBE_PORT:-6443}"
VERSION=v1.20.2
BIN="$CACHE/$VERSION/kube-apiserver"

log() { echo "kube-apiserver.sh: $*" >&2; }
die() { log "$*"; exit 1; }

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

ensure_packages() {
  local missing=()
  for pkg in "$@"; do dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg"); done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

ensure_deb_src() {
  if ! grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    log "enabling deb-src for bookworm"
    cat >/etc/apt/sources.list.d/floe-debian-src.sources <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  fi
  apt-get update -qq
}

cmd_build() {
  if [ -x "$BIN" ]; then log "cached: $BIN"; echo "$BIN"; return 0; fi
  ensure_packages golang-go etcd-server dpkg-dev rsync jq openssl
  ensure_deb_src
  local work="$CACHE/build"
  mkdir -p "$work"
  local tree
  tree="$(find "$work" -maxdepth 1 -type d -name 'kubernetes-1.20*' | head -1)"
  if [ -z "$tree" ]; then
    (cd "$work" && apt-get source -qq kubernetes >/dev/null)
    tree="$(find "$work" -maxdepth 1 -type d -name 'kubernetes-1.20*' | head -1)"
  fi
  [ -n "$tree" ] || die "apt-get source kubernetes gave no kubernetes-1.20 tree"
  # As Debian's debian/rules: GOPATH mode, the tree linked at $GOPATH/src/k8s.io/kubernetes, no cgo.
  mkdir -p "$tree/.go/src/k8s.io"
  [ -L "$tree/.go/src/k8s.io/kubernetes" ] || ln -s ../../.. "$tree/.go/src/k8s.io/kubernetes"
  local jobs="${FLOE_KUBE_BUILD_JOBS:-1}"
  log "building kube-apiserver in $tree (nice 19, $jobs job(s)); this takes 20-40 minutes"
  local started=$SECONDS
  (cd "$tree/.go/src/k8s.io/kubernetes" &&
    env GOPATH="$tree/.go" GO111MODULE=off CGO_ENABLED=0 GOCACHE="$work/gocache" HOME="$work/home" \
      GOMAXPROCS="$jobs" GOFLAGS="-p=$jobs" PATH="/usr/lib/go/bin:$PATH" \
      nice -n 19 make WHAT=cmd/kube-apiserver) >"$work/build.log" 2>&1 ||
    { tail -30 "$work/build.log" >&2; die "build failed (log: $work/build.log)"; }
  mkdir -p "$(dirname "$BIN")"
  cp "$tree/_output/bin/kube-apiserver" "$BIN.tmp" && mv "$BIN.tmp" "$BIN"
  log "built in $(((SECONDS - started) / 60)) min: $BIN"
  rm -rf "$work"
  echo "$BIN"
}

# The binary is what takes long; start installs etcd-server (Debian) when it is missing.
cmd_cached() { [ -x "$BIN" ] && echo "$BIN"; }

pid_alive() { [ -f "$STATE/$1.pid" ] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }

wait_ready() {
  local i
  for i in $(seq 1 "${1:-120}"); do
    # Not curl's own User-Agent: this build panics pretty-printing for curl/* agents.
    if curl -sfk -A floe-kube-apiserver.sh -H "Authorization: Bearer $(cat "$STATE/token")" \
      "https://127.0.0.1:$(cat "$STATE/port")/readyz" >/dev/null 2>&1; then return 0; fi
    pid_alive kube-apiserver || { tail -20 "$STATE/kube-apiserver.log" >&2; die "kube-apiserver exited"; }
    sleep 0.5
  done
  tail -20 "$STATE/kube-apiserver.log" >&2
  die "kube-apiserver did not become ready"
}

start_apiserver() {
  local etcd_port port
  etcd_port="$(cat "$STATE/etcd-port")"; port="$(cat "$STATE/port")"
  # AlwaysAllow and no ServiceAccount admission: there is no controller-manager to make tokens.
  # InternalIP first so pods/log reaches a dev kubelet on 127.0.0.1 without DNS.
  setsid "$BIN" \
    --etcd-servers="http://127.0.0.1:$etcd_port" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$port" --insecure-port=0 \
    --tls-cert-file="$STATE/server.crt" --tls-private-key-file="$STATE/server.key" \
    --token-auth-file="$STATE/tokens.csv" --authorization-mode=AlwaysAllow \
    --disable-admission-plugins=ServiceAccount \
    --service-account-issuer=https://kubernetes.default.svc \
    --service-account-key-file="$STATE/server.key" --service-account-signing-key-file="$STATE/server.key" \
    --service-cluster-ip-range=10.96.0.0/24 \
    --kubelet-preferred-address-types=InternalIP,Hostname \
    --etcd-compaction-interval="${FLOE_KUBE_COMPACTION_INTERVAL:-5m}" \
    --profiling=false --logtostderr=true --v=1 \
    >"$STATE/kube-apiserver.log" 2>&1 </dev/null &
  echo $! >"$STATE/kube-apiserver.pid"
}

cmd_start() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --port) PORT="$2"; shift 2 ;;
      *) die "unknown option $1" ;;
    esac
  done
  [ -x "$BIN" ] || die "kube-apiserver is not built: run scripts/kube-apiserver.sh build (cache: $CACHE)"
  command -v etcd >/dev/null || ensure_packages etcd-server
  if pid_alive kube-apiserver; then log "already running"; echo "$STATE/kubeconfig"; return 0; fi
  mkdir -p "$STATE"
  [ "$PORT" = 0 ] && PORT="$(free_port)"
  echo "$PORT" >"$STATE/port"
  local etcd_port peer_port token
  etcd_port="$(free_port)"; peer_port="$(free_port)"
  echo "$etcd_port" >"$STATE/etcd-port"
  token="${FLOE_KUBE_TOKEN:-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}"
  echo "$token" >"$STATE/token"
  echo "$token,floe-admin,floe-admin,system:masters" >"$STATE/tokens.csv"
  if [ ! -f "$STATE/server.crt" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=127.0.0.1 \
      -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
      -keyout "$STATE/server.key" -out "$STATE/server.crt" >/dev/null 2>&1
  fi
  setsid etcd --name floe --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "floe=http://127.0.0.1:$peer_port" --log-level warn \
    >"$STATE/etcd.log" 2>&1 </dev/null &
  echo $! >"$STATE/etcd.pid"
  local i
  for i in $(seq 1 60); do
    ETCDCTL_API=3 etcdctl --endpoints "127.0.0.1:$etcd_port" endpoint health >/dev/null 2>&1 && break
    pid_alive etcd || { tail -20 "$STATE/etcd.log" >&2; die "etcd exited"; }
    sleep 0.5
  done
  start_apiserver
  cat >"$STATE/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: floe-kube
  cluster:
    server: https://127.0.0.1:$PORT
    certificate-authority: $STATE/server.crt
users:
- name: floe-admin
  user:
    token: $token
contexts:
- name: floe-kube
  context: {cluster: floe-kube, user: floe-admin, namespace: default}
current-context: floe-kube
EOF
  wait_ready 240
  log "ready on https://127.0.0.1:$PORT"
  echo "$STATE/kubeconfig"
}

stop_pid() {
  local name="$1" pid
  [ -f "$STATE/$name.pid" ] || return 0
  pid="$(cat "$STATE/$name.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$STATE/$name.pid"
}

cmd_restart() {
  [ -f "$STATE/port" ] || die "not started (state: $STATE)"
  stop_pid kube-apiserver
  start_apiserver
  wait_ready 240
  log "restarted"
}

cmd_stop() {
  stop_pid kube-apiserver
  stop_pid etcd
  rm -rf "$STATE"
}

cmd_status() { pid_alive kube-apiserver && wait_ready 1; }

case "${1:-}" in
  build) cmd_build ;;
  cached) cmd_cached ;;
  start) shift; cmd_start "$@" ;;
  restart) cmd_restart ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
