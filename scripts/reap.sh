#!/usr/bin/env bash
# Removes every engine object left behind by tests: containers, networks, volumes and unused images labelled
# dev.cmesh.test=true (optionally only those of one project). Anything without that label is never touched.
#
# Usage: scripts/reap.sh [--dry-run] [project]
set -euo pipefail

log() { printf 'reap: %s\n' "$*"; }

dry_run=0
project=""
for arg in "$@"; do
  case "$arg" in
    -n | --dry-run) dry_run=1 ;;
    -h | --help)
      sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    -*)
      printf 'reap: unknown option %s\n' "$arg" >&2
      exit 2
      ;;
    *) project="$arg" ;;
  esac
done

filters=(--filter label=dev.cmesh.test=true)
scope="dev.cmesh.test=true"
if [ -n "$project" ]; then
  filters+=(--filter "label=dev.cmesh.project=$project")
  scope="$scope, dev.cmesh.project=$project"
fi

timeout 10 docker info >/dev/null 2>&1 || {
  printf 'reap: no Docker engine answers; nothing to reap (run scripts/ensure-docker.sh)\n' >&2
  exit 1
}

# Prints what docker lists for one kind, one a line, deduplicated.
ids() {
  case "$1" in
    container) docker ps -aq "${filters[@]}" ;;
    network) docker network ls -q "${filters[@]}" ;;
    volume) docker volume ls -q "${filters[@]}" ;;
    # By reference, so an image with several tags is untagged tag by tag and deleted with its last one.
    image) docker images "${filters[@]}" --format '{{if eq .Tag "<none>"}}{{.ID}}{{else}}{{.Repository}}:{{.Tag}}{{end}}' ;;
  esac | awk 'NF && !seen[$0]++'
}

reap() {
  local kind="$1"
  shift
  local list
  mapfile -t list < <(ids "$kind")
  if [ "${#list[@]}" -eq 0 ]; then
    log "${kind}s: none"
    return 0
  fi
  if [ "$dry_run" = 1 ]; then
    log "${kind}s: would remove ${#list[@]}: ${list[*]}"
    return 0
  fi
  local removed=0 id
  for id in "${list[@]}"; do
    # One at a time, so one object still in use (an image under a running container) spares only itself.
    if "$@" "$id" >/dev/null 2>&1; then removed=$((removed + 1)); fi
  done
  log "${kind}s: removed $removed of ${#list[@]}"
}

log "scope: $scope"
# Containers first: they hold networks, volumes and images.
reap container docker rm -f -v
reap network docker network rm
reap volume docker volume rm
# No -f: an image some container (labelled or not) still uses stays.
reap image docker rmi
