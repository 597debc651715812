#!/usr/bin/env bash
# Checks the README's set-up where nothing is installed yet: a fresh Debian 12 made by debootstrap (git, curl, python3,
# make, g++: what a new machine of this workplace has, plus this host's node and npm and their npm/CA settings), with
# no Docker, no node_modules, no base images, no bench peers. It runs in its own mount, PID and network namespaces, so
# its dockerd's bridges and iptables are its own and nothing of the host's engine is seen or touched; it reaches
# Debian's archive and the npm registry through NAT on the host. The machine gets a clone of REV of this checkout and
# runs the README's two commands in it: the demo (CI=true: `up -d --wait`, no TTY) and the tests (`.ci/run`).
#
# Usage:  sudo bash scripts/fresh-machine.sh [--demo-only] [REV]      (REV defaults to HEAD; exit code: the tests')
#         sudo bash scripts/fresh-machine.sh --again 'COMMAND'         (the last run's machine as it was left: its
#           Docker, images and node_modules; COMMAND runs in its cmesh checkout, e.g. benches after the peers' install)
# Env:    CMESH_FRESH_DIR (default /var/tmp/cmesh-fresh): base/ (the Debian, made once and reused) and machine/ (made
#         anew from base/ on every run, kept afterwards for a look; its engine's data included).
# Linux, root. When the run ends, its PID namespace ends: dockerd, containerd and every container in it are gone.
set -euo pipefail

DIR="${CMESH_FRESH_DIR:-/var/tmp/cmesh-fresh}"
SELF="$(readlink -f "${BASH_SOURCE[0]}")"
NETNS=cmesh-fresh
HOST_IF=cmfresh-h
SUBNET=10.250.0.0/30

# --- stages run inside the namespaces (this script calls itself) -----------------------------------------------------
if [ "${1:-}" = __mounts ]; then
  # New mount + PID namespaces: the machine's root must be a mount point (dockerd remounts / private), then its own
  # /proc, /dev, and empty /run and /tmp.
  m="$2"
  mount --rbind "$m" "$m"
  mount -t proc proc "$m/proc"
  mount --rbind /dev "$m/dev"
  mount -t tmpfs tmpfs "$m/run"
  mount -t tmpfs tmpfs "$m/tmp"
  exec nsenter --net="/run/netns/$NETNS" bash "$SELF" __pivot "$m" "$3"
fi
if [ "${1:-}" = __pivot ]; then
  # In the machine's network namespace: its sysfs, the host's cgroup hierarchy for its dockerd, then pivot_root (not
  # chroot: runc's exec joins a container's mount namespace, whose root must be the machine's / for cwd to resolve).
  m="$2"
  mount -t sysfs sysfs "$m/sys"
  mount --rbind /sys/fs/cgroup "$m/sys/fs/cgroup"
  mkdir -p "$m/.oldroot"
  cd "$m"
  pivot_root . .oldroot
  umount -l /.oldroot
  cd /
  exec /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb \
    bash /root/fresh-run.sh "$3"
fi

log() { printf 'fresh-machine: %s\n' "$*"; }
die() {
  printf 'fresh-machine: ERROR: %s\n' "$*" >&2
  exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root (namespaces, debootstrap, iptables)"
[ "$(uname -s)" = Linux ] || die "Linux only"
mode=all
again=''
case "${1:-}" in
  --demo-only)
    mode=demo
    shift
    ;;
  --again)
    mode=again
    again="${2:?--again needs a command}"
    shift 2
    ;;
esac
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rev="$(git -C "$repo" rev-parse "${1:-HEAD}")"
for c in unshare nsenter pivot_root ip iptables git; do command -v "$c" >/dev/null || die "$c missing"; done
if ! command -v debootstrap >/dev/null; then
  log "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

# --- the base system (made once) -------------------------------------------------------------------------------------
base="$DIR/base"
if [ ! -x "$base$(command -v node)" ]; then
  rm -rf "$base"
  mkdir -p "$DIR"
  mirror="$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)"
  log "debootstrap bookworm into $base (${mirror:-http://deb.debian.org/debian})"
  debootstrap --variant=minbase --include=git,ca-certificates,curl,procps,python3,make,g++,xz-utils,iproute2 \
    bookworm "$base" "${mirror:-http://deb.debian.org/debian}" >"$DIR/debootstrap.log" 2>&1 ||
    die "debootstrap failed: see $DIR/debootstrap.log"
  # The host's node and npm at the same paths (so npm's global config is where the host keeps it), as a new machine of
  # this workplace has them (not Debian's node 18); npm's settings and the CA store the host's registries need.
  node_bin="$(command -v node)"
  install -D -m 755 "$(readlink -f "$node_bin")" "$base$node_bin"
  npm_root="$(npm root -g)"
  mkdir -p "$base$npm_root"
  cp -a "$npm_root/npm" "$base$npm_root/npm"
  for link in "$(command -v npm)" "$(command -v npx)"; do cp -a "$link" "$base$link"; done
  if [ -d /usr/include/node ]; then cp -a /usr/include/node "$base/usr/include/node"; fi # node-gyp's nodedir=/usr
  for f in /root/.npmrc "$(npm config get globalconfig)"; do
    if [ -f "$f" ]; then
      mkdir -p "$base$(dirname "$f")"
      cp "$f" "$base$f"
    fi
  done
  cp -a /usr/local/share/ca-certificates/. "$base/usr/local/share/ca-certificates/" 2>/dev/null || true
  cp /etc/ssl/certs/ca-certificates.crt "$base/etc/ssl/certs/ca-certificates.crt"
  cp /etc/resolv.conf "$base/etc/resolv.conf"
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    rm -f "$base/etc/apt/sources.list"
    cp /etc/apt/sources.list.d/debian.sources "$base/etc/apt/sources.list.d/"
  fi
fi

# --- the machine (made anew) -----------------------------------------------------------------------------------------
machine="$DIR/machine"
if [ "$mode" = again ]; then
  [ -d "$machine/root/cmesh" ] || die "no machine at $machine: run once without --again"
  log "machine: $machine as the last run left it"
  printf '%s\n' "$again" >"$machine/root/fresh-again.sh"
else
  log "machine: $machine (a copy of the base), cmesh at $rev"
  rm -rf "$machine"
  cp -a "$base" "$machine"
  git clone -q --no-local "$repo" "$machine/root/cmesh"
  git -C "$machine/root/cmesh" checkout -q "$rev"
fi
cat >"$machine/root/fresh-run.sh" <<'EOF'
#!/bin/bash
# On the fresh machine: the README's two commands, as a new user runs them (CI=true: no TTY).
cd /root/cmesh
if [ "$1" = again ]; then
  # The engine and what it keeps survive on disk, not its process: start it again as the set-up does.
  bash scripts/ensure-docker.sh >/dev/null && exec bash /root/fresh-again.sh
fi
echo "==> $(date -u +%T) fresh machine: $(. /etc/os-release; echo "$PRETTY_NAME"); node $(node -v); npm $(npm -v); docker: $(command -v docker || echo none); node_modules: $([ -d node_modules ] && echo yes || echo none)"
echo "==> $(date -u +%T) npm run demo"
CI=true npm run demo </dev/null
demo=$?
echo "==> $(date -u +%T) demo exit $demo"
[ "$1" = demo ] && exit $demo
echo "==> $(date -u +%T) tests: bash .ci/run"
CI=true bash .ci/run </dev/null
tests=$?
echo "==> $(date -u +%T) tests exit $tests (demo exit $demo)"
[ $demo -eq 0 ] && exit $tests || exit $demo
EOF

# --- its network: a veth to the host, NAT out (Docker's FORWARD policy is DROP: DOCKER-USER lets it through) ----------
cleanup_net() {
  ip netns del "$NETNS" 2>/dev/null || true
  iptables -t nat -D POSTROUTING -s "$SUBNET" -j MASQUERADE 2>/dev/null || true
  for chain in DOCKER-USER FORWARD; do
    iptables -D "$chain" -i "$HOST_IF" -j ACCEPT 2>/dev/null || true
    iptables -D "$chain" -o "$HOST_IF" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT 2>/dev/null || true
  done
}
cleanup_net
trap cleanup_net EXIT
ip netns add "$NETNS"
ip link add "$HOST_IF" type veth peer name eth0 netns "$NETNS"
ip addr add 10.250.0.1/30 dev "$HOST_IF"
ip link set "$HOST_IF" up
ip -n "$NETNS" addr add 10.250.0.2/30 dev eth0
ip -n "$NETNS" link set eth0 up
ip -n "$NETNS" link set lo up
ip -n "$NETNS" route add default via 10.250.0.1
sysctl -qw net.ipv4.ip_forward=1
iptables -t nat -A POSTROUTING -s "$SUBNET" -j MASQUERADE
chain=FORWARD
if iptables -S DOCKER-USER >/dev/null 2>&1; then chain=DOCKER-USER; fi
iptables -I "$chain" -i "$HOST_IF" -j ACCEPT
iptables -I "$chain" -o "$HOST_IF" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT

log "running the README's set-up ($mode) on the fresh machine"
set +e
unshare -m --pid --fork --propagation private bash "$SELF" __mounts "$machine" "$mode"
code=$?
log "exit $code (the machine stays at $machine until the next run)"
exit $code
