#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine: installs docker.io and busybox-static from Debian's archive
# when missing and starts dockerd in the background. Idempotent; never pulls an image.
#
# Env: DOCKER_HOST (honoured: a remote/non-default engine is only checked, never started),
#      CMESH_DOCKERD_LOG (default /var/log/cmesh-dockerd.log), CMESH_DOCKERD_WAIT (seconds, default 60).
set -euo pipefail

log() { printf 'ensure-docker: %s\n' "$*"; }
die() {
  printf 'ensure-docker: ERROR: %s\n' "$*" >&2
  exit 1
}

DOCKERD_LOG="${CMESH_DOCKERD_LOG:-/var/log/cmesh-dockerd.log}"
WAIT_SECONDS="${CMESH_DOCKERD_WAIT:-60}"
PID_FILE=/var/run/docker.pid
SOCKET=/var/run/docker.sock

is_root() { [ "$(id -u)" -eq 0 ]; }

engine_answers() {
  # `timeout` keeps a wedged daemon from hanging the script; info is the cheapest call that needs the engine.
  timeout 10 docker info --format '{{.ServerVersion}}' >/dev/null 2>&1
}

pkg_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

# --- packages -------------------------------------------------------------------------------------------------------
missing=()
if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then missing+=(docker.io); fi
# Base images need the static busybox (the plain `busybox` package is dynamically linked and useless in FROM scratch).
if ! pkg_installed busybox-static; then missing+=(busybox-static); fi

if [ "${#missing[@]}" -eq 0 ]; then
  log "packages: docker.io and busybox-static already installed"
else
  is_root || die "must run as root to install ${missing[*]} (try: sudo bash $0)"
  log "packages: installing ${missing[*]}"
  # Keep the package's init script from starting its own dockerd with default flags; we start ours below.
  added_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    added_policy=1
  fi
  cleanup_policy() { if [ "$added_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi; }
  trap cleanup_policy EXIT
  log "apt-get update"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  cleanup_policy
  trap - EXIT
  log "packages: installed ${missing[*]}"
fi

# --- engine ---------------------------------------------------------------------------------------------------------
if engine_answers; then
  log "engine: answering ($(docker info --format 'Docker {{.ServerVersion}}, API' 2>/dev/null) $(docker version --format '{{.Server.APIVersion}}' 2>/dev/null)) — nothing to do"
  exit 0
fi

if [ -n "${DOCKER_HOST:-}" ] && [ "$DOCKER_HOST" != "unix://$SOCKET" ] && [ "$DOCKER_HOST" != "unix:///run/docker.sock" ]; then
  die "DOCKER_HOST=$DOCKER_HOST does not answer; not starting a local dockerd for a non-default engine"
fi

is_root || die "no engine answers on $SOCKET and starting dockerd needs root (try: sudo bash $0)"

# A dockerd that is alive but not answering yet (still starting) is waited for, not duplicated.
pid_from_file() { if [ -s "$PID_FILE" ]; then cat "$PID_FILE"; fi; }
is_dockerd() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && grep -qx dockerd "/proc/$1/comm" 2>/dev/null; }

running_pid="$(pid_from_file)"
if is_dockerd "$running_pid"; then
  log "engine: dockerd pid $running_pid is running but not answering yet; waiting for it"
else
  if [ -n "$running_pid" ] || [ -e "$PID_FILE" ]; then
    log "engine: removing stale pid file $PID_FILE (pid ${running_pid:-?} is gone)"
    rm -f "$PID_FILE"
  fi
  running_pid="$(pgrep -x dockerd | head -n 1 || true)"
  if [ -n "$running_pid" ]; then
    log "engine: dockerd pid $running_pid is running without a pid file; waiting for it"
  fi
fi

if [ -z "$running_pid" ]; then
  if [ -e "$SOCKET" ]; then
    log "engine: removing stale socket $SOCKET (no dockerd behind it)"
    rm -f "$SOCKET"
  fi
  mkdir -p "$(dirname "$DOCKERD_LOG")"
  log "engine: starting dockerd --userland-proxy=false (log: $DOCKERD_LOG)"
  # setsid + nohup: the daemon must outlive this script and the shell or CI step that ran it.
  nohup setsid dockerd --userland-proxy=false >>"$DOCKERD_LOG" 2>&1 </dev/null &
  running_pid=$!
fi

# setsid may fork (when it is a group leader), so also trust the pid dockerd writes itself.
dockerd_alive() { is_dockerd "$running_pid" || kill -0 "$running_pid" 2>/dev/null || is_dockerd "$(pid_from_file)"; }

log "engine: waiting up to ${WAIT_SECONDS}s for $SOCKET and docker info"
deadline=$((SECONDS + WAIT_SECONDS))
until [ -S "$SOCKET" ] && engine_answers; do
  if ! dockerd_alive; then
    printf 'ensure-docker: ERROR: dockerd (pid %s) exited during startup; last lines of %s:\n' "$running_pid" "$DOCKERD_LOG" >&2
    tail -n 30 "$DOCKERD_LOG" >&2 || true
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    printf 'ensure-docker: ERROR: docker info did not answer within %ss; last lines of %s:\n' "$WAIT_SECONDS" "$DOCKERD_LOG" >&2
    tail -n 30 "$DOCKERD_LOG" >&2 || true
    exit 1
  fi
  sleep 0.5
done
log "engine: ready (Docker $(docker info --format '{{.ServerVersion}}' 2>/dev/null), dockerd pid $(pid_from_file))"
