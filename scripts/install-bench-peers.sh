#!/usr/bin/env bash
# The programs bench/ measures cmesh against or drives load with (Debian packages): nginx, haproxy, caddy, wrk,
# nginx's stream module (libnginx-mod-stream, bench/east-west.ts's TCP path) and docker-compose 1.29 (bench/up.ts). Idempotent and non-interactive:
# installs only what is missing, and nothing at all when every peer is there. The benches run their own nginx,
# haproxy and caddy processes on free loopback ports, so a system service a package starts is stopped and disabled
# (only for packages this run installed: a service that was there before is left alone).
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

# package → how to tell it is there (a command on PATH, or for the module, dpkg's record of it).
is_present() {
  case "$1" in
    libnginx-mod-stream) dpkg-query -W -f='${Status}' libnginx-mod-stream 2>/dev/null | grep -q 'install ok installed' ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

MISSING=()
for pkg in nginx haproxy caddy wrk libnginx-mod-stream docker-compose; do
  if is_present "$pkg"; then echo "$pkg present"; else MISSING+=("$pkg"); fi
done
if [ "${#MISSING[@]}" -eq 0 ]; then
  echo "every bench peer is installed"
  exit 0
fi

echo "installing: ${MISSING[*]}"
# Refresh the package lists only when they do not know a missing package yet.
for pkg in "${MISSING[@]}"; do
  if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    $SUDO apt-get update -qq
    break
  fi
done

# Debian's way to keep maintainer scripts from starting services (invoke-rc.d asks /usr/sbin/policy-rc.d; 101 = no):
# put in place for this install only, unless the host already has one (then it decides, and the stop below remains).
# POLICY_RC_D: another path for it (scripts/install-bench-peers.test.ts, whose apt-get is a stand-in).
POLICY="${POLICY_RC_D:-/usr/sbin/policy-rc.d}"
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod 755 "$POLICY"
  trap '$SUDO rm -f "$POLICY"' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${MISSING[@]}"

for svc in nginx haproxy caddy; do
  [[ " ${MISSING[*]} " == *" $svc "* ]] || continue
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true
  elif command -v service >/dev/null 2>&1; then
    $SUDO service "$svc" stop >/dev/null 2>&1 || true
    if command -v update-rc.d >/dev/null 2>&1; then $SUDO update-rc.d "$svc" disable >/dev/null 2>&1 || true; fi
  fi
done

for pkg in "${MISSING[@]}"; do
  is_present "$pkg" || { echo "install-bench-peers: $pkg is still missing after apt-get install" >&2; exit 1; }
done
echo "installed: ${MISSING[*]}"
