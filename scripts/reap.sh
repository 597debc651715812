#!/usr/bin/env bash
# Removes every engine object left behind by tests: containers, networks, volumes and unused images labelled
# dev.cmesh.test=true (optionally only those of one project), and what cmesh made for those test projects with only its
# own labels (east-west gateways, a shared gateway on their networks, project networks and volumes); on a swarm manager
# also swarm services, secrets, configs and overlays of test projects. Nothing else is ever touched.
#
# With --if-idle it reaps only while no docker test process anywhere on this host holds the engine lock
# (test/helpers/engine-lock.ts): then whatever carries the test label was left by a run that is gone (killed mid-file,
# a machine stopped under it), and nothing a live run still uses is touched. scripts/run-tests.mjs runs it so before
# the docker tier.
#
# Usage: scripts/reap.sh [--dry-run] [--if-idle] [project]
set -euo pipefail

log() { printf 'reap: %s\n' "$*"; }

dry_run=0
if_idle=0
project=""
for arg in "$@"; do
  case "$arg" in
    -n | --dry-run) dry_run=1 ;;
    --if-idle) if_idle=1 ;;
    -h | --help)
      sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    -*)
      printf 'reap: unknown option %s\n' "$arg" >&2
      exit 2
      ;;
    *) project="$arg" ;;
  esac
done

# The engine lock every docker test process holds shared while it runs (engine-lock.ts: same directory, same name).
# Taken exclusively without waiting: a refusal means a live run, so nothing is reaped and that is no failure.
if [ "$if_idle" = 1 ] && [ -z "${CMESH_REAP_LOCK_HELD:-}" ]; then
  lock="${CMESH_TEST_ENGINE_LOCK_DIR:-${TMPDIR:-/tmp}}"
  lock="${lock%/}/cmesh-e2e-engine.lock"
  if ! command -v flock >/dev/null 2>&1; then
    log 'flock(1) not found: cannot tell whether a test run is live, so nothing is reaped'
    exit 0
  fi
  rc=0
  CMESH_REAP_LOCK_HELD=1 flock -n -E 75 -x "$lock" "$0" "$@" || rc=$?
  if [ "$rc" = 75 ]; then
    log "a docker test run holds the engine ($lock): leftovers stay until no run is live"
    exit 0
  fi
  exit "$rc"
fi

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
    container) docker ps -aq "${filters[@]}"; of_projects test_projects docker ps -aq ;;
    network) docker network ls -q "${filters[@]}"; of_projects test_projects docker network ls -q ;;
    volume) docker volume ls -q "${filters[@]}"; of_projects test_projects docker volume ls -q ;;
    # By reference, so an image with several tags is untagged tag by tag and deleted with its last one.
    image) docker images "${filters[@]}" --format '{{if eq .Tag "<none>"}}{{.ID}}{{else}}{{.Repository}}:{{.Tag}}{{end}}' ;;
    swarm\ *) swarm_ids "${1#swarm }" ;;
  esac | awk 'NF && !seen[$0]++'
}

# What cmesh made for a test project carries only cmesh's own labels — the east-west gateway container, the project's
# networks and volumes — so it is found by the project of a test-labelled object, as the swarm objects below are; a
# project with no test-labelled object (a user's) is never touched. Listed with the command given (and the filters it
# ends with) for each project named in the array whose name comes first.
of_projects() {
  local -n projects="$1"
  shift
  local p
  for p in "${projects[@]}"; do
    "$@" --filter label=dev.cmesh.managed=true --filter "label=dev.cmesh.project=$p"
  done
}

# Removes what `ids` lists for one kind with the command given (the id appended); sets `reaped` to how many it tried.
reap() {
  local kind="$1"
  shift
  local list
  reaped=0
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
  reaped=${#list[@]}
  log "${kind}s: removed $removed of ${#list[@]}"
}

# Swarm objects of crashed tests. Services carry the test's compose labels (dev.cmesh.test=true); the secrets,
# configs and default overlay cmesh made for the same project carry only cmesh's own labels (dev.cmesh.managed,
# dev.cmesh.project, dev.cmesh.target=swarm), so they are reaped by the project of a test-labelled service, never
# by cmesh's labels alone: a user's swarm project is cmesh-labelled too. `ids` deduplicates.
swarm_ids() {
  local kind="$1"
  case "$kind" in
    service) docker service ls -q "${filters[@]}" ;;
    *)
      docker "$kind" ls -q "${filters[@]}"
      of_projects swarm_projects docker "$kind" ls -q --filter label=dev.cmesh.target=swarm
      ;;
  esac
}

reap_swarm() {
  local state
  state=$(docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}' 2>/dev/null || true)
  if [ "$state" != "active true" ]; then
    log "swarm: this engine is no swarm manager (${state:-unknown}); no swarm objects to reap"
    return 0
  fi
  local kind list
  mapfile -t list < <(docker service ls -q "${filters[@]}")
  if [ "${#list[@]}" -gt 0 ]; then
    mapfile -t swarm_projects < <(docker service inspect --format '{{index .Spec.Labels "dev.cmesh.project"}}' "${list[@]}" 2>/dev/null | awk 'NF && !seen[$0]++')
  fi
  # Services first: their tasks hold the secrets, configs and networks.
  for kind in service secret config network; do
    reap "swarm $kind" docker "$kind" rm
    # Task containers leave asynchronously after `service rm` (bounded wait); the overlays need them gone.
    if [ "$kind" = service ] && [ "$reaped" -gt 0 ]; then
      for _ in $(seq 1 60); do
        [ -z "$(docker ps -q --filter label=com.docker.swarm.service.id "${filters[@]}")" ] && break
        sleep 0.5
      done
    fi
  done
}

# The daemon's shared east-west gateway (daemon/gateway-shared.ts) carries no project label and no test label: one a
# killed test run's daemon left is found on a test project's network, and would hold that network ("active
# endpoints"). It leaves those networks and, on no network any more, goes. A user's daemon never joins a test project's
# network, so a user's shared gateway is never listed; one that is on another network too stays, on that one.
reap_shared_gateways() {
  local -A test_networks=()
  local n gw count=0
  while read -r n; do
    if [ -n "$n" ]; then test_networks[$n]=1; fi
  done < <(
    docker network ls "${filters[@]}" --format '{{.Name}}'
    of_projects test_projects docker network ls --format '{{.Name}}'
  )
  for gw in $(docker ps -aq --filter label=dev.cmesh.gateway-shared); do
    local on=() rest=()
    for n in $(docker inspect --format '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$gw" 2>/dev/null); do
      if [ -n "${test_networks[$n]:-}" ]; then on+=("$n"); else rest+=("$n"); fi
    done
    if [ "${#on[@]}" -eq 0 ]; then continue; fi
    count=$((count + 1))
    local gone=""
    if [ "${#rest[@]}" -eq 0 ]; then gone=", then removed"; fi
    if [ "$dry_run" = 1 ]; then
      log "shared gateway $gw: would leave ${on[*]}$gone"
      continue
    fi
    for n in "${on[@]}"; do docker network disconnect -f "$n" "$gw" >/dev/null 2>&1 || true; done
    if [ -n "$gone" ]; then docker rm -f "$gw" >/dev/null 2>&1 || true; fi
    log "shared gateway $gw: left ${on[*]}$gone"
  done
  if [ "$count" -eq 0 ]; then log "shared gateways: none on a test project's network"; fi
}

log "scope: $scope"
# Read before anything is removed: the test-labelled replicas are what tie a gateway or a network to a test project.
mapfile -t test_projects < <(
  {
    docker ps -a "${filters[@]}" --format '{{.Label "dev.cmesh.project"}}'
    docker network ls "${filters[@]}" --format '{{.Label "dev.cmesh.project"}}'
    docker volume ls "${filters[@]}" --format '{{.Label "dev.cmesh.project"}}'
  } | awk 'NF && !seen[$0]++'
)
swarm_projects=()
reaped=0
reap_swarm
# Containers first: they hold networks, volumes and images.
reap container docker rm -f -v
reap_shared_gateways
reap network docker network rm
reap volume docker volume rm
# No -f: an image some container (labelled or not) still uses stays.
reap image docker rmi
