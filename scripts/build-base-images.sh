#!/usr/bin/env bash
# Builds the local base images every fixture and demo starts FROM, with no registry: cmesh/busybox:local (scratch +
# static busybox) and cmesh/node:local (an import of the host's node + its libraries). Each image is labelled with
# the sha256 of its inputs and skipped when that hash is unchanged, so a second run takes well under 2 s.
#
# Env: CMESH_NODE_BIN (default: the `node` on PATH), CMESH_FORCE_BASE=1 rebuilds regardless of the hash.
set -euo pipefail

log() { printf 'build-base-images: %s\n' "$*"; }
die() {
  printf 'build-base-images: ERROR: %s\n' "$*" >&2
  exit 1
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RECIPES="$ROOT/fixtures/docker/base"
SELF="$ROOT/scripts/build-base-images.sh"
BUSYBOX=/bin/busybox
NODE_BIN="$(readlink -f "${CMESH_NODE_BIN:-$(command -v node)}")"
BUSYBOX_IMAGE=cmesh/busybox:local
NODE_IMAGE=cmesh/node:local
HASH_LABEL=dev.cmesh.base-hash
# Legacy builder: the Debian engine has no buildx, and its behaviour is the same on every machine we run on.
export DOCKER_BUILDKIT=0

command -v docker >/dev/null 2>&1 || die "docker CLI missing: run scripts/ensure-docker.sh first"
[ -x "$BUSYBOX" ] || die "$BUSYBOX missing: run scripts/ensure-docker.sh (installs busybox-static)"
if ldd "$BUSYBOX" >/dev/null 2>&1; then die "$BUSYBOX is dynamically linked: install busybox-static"; fi
[ -x "$NODE_BIN" ] || die "node binary not found (set CMESH_NODE_BIN)"

# Concurrent test files may call us at once; one builder at a time, the others then see the fresh hash and skip.
exec 9>"${TMPDIR:-/tmp}/cmesh-build-base-images.lock"
flock -w 300 9 || die "timed out waiting for another build-base-images run"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cmesh-base.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# sha256 over the given host files' contents and paths, plus the recipe and this script by content and relative path
# only: another checkout of the same tree (a clean clone, a worktree) is the same input and must not rebuild.
inputs_hash() {
  {
    sha256sum < "$SELF"
    sha256sum "$@"
    (cd "$RECIPES" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -d' ' -f1
}

current_hash() { docker image inspect --format "{{index .Config.Labels \"$HASH_LABEL\"}}" "$1" 2>/dev/null || true; }
image_id() { docker image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }
image_size() { docker image inspect --format '{{.Size}}' "$1" | awk '{ printf "%.1f MB", $1 / 1000000 }'; }

# After a rebuild the old image is untagged; drop it unless a container still uses it.
drop_old() {
  local old="$1" new
  new="$(image_id "$2")"
  if [ -n "$old" ] && [ "$old" != "$new" ]; then docker rmi "$old" >/dev/null 2>&1 || true; fi
}

needs_build() {
  local image="$1" hash="$2"
  if [ "${CMESH_FORCE_BASE:-0}" != 1 ] && [ "$(current_hash "$image")" = "$hash" ]; then
    log "skip  $image (inputs unchanged, hash ${hash:0:12})"
    return 1
  fi
  return 0
}

# --- cmesh/busybox:local --------------------------------------------------------------------------------------------
build_busybox() {
  local hash old started
  hash="$(inputs_hash "$BUSYBOX")"
  needs_build "$BUSYBOX_IMAGE" "$hash" || return 0
  started=$SECONDS
  old="$(image_id "$BUSYBOX_IMAGE")"
  local ctx="$WORK/busybox"
  mkdir -p "$ctx"
  cp "$RECIPES/busybox/Dockerfile" "$ctx/Dockerfile"
  cp -r "$RECIPES/rootfs" "$ctx/rootfs"
  cp "$BUSYBOX" "$ctx/busybox"
  # The legacy builder warns about its deprecation on every run: show stderr only when the build fails.
  docker build --quiet --label dev.cmesh.base=true --label "$HASH_LABEL=$hash" -t "$BUSYBOX_IMAGE" "$ctx" \
    >/dev/null 2>"$WORK/busybox-build.err" || {
    cat "$WORK/busybox-build.err" >&2
    die "docker build of $BUSYBOX_IMAGE failed"
  }
  docker run --rm "$BUSYBOX_IMAGE" sh -c 'command -v httpd >/dev/null && command -v wget >/dev/null' ||
    die "$BUSYBOX_IMAGE lacks sh/httpd/wget"
  drop_old "$old" "$BUSYBOX_IMAGE"
  log "built $BUSYBOX_IMAGE ($(image_size "$BUSYBOX_IMAGE"), $((SECONDS - started))s, hash ${hash:0:12})"
}

# --- cmesh/node:local -----------------------------------------------------------------------------------------------
# Absolute paths of the shared objects node links against, including the dynamic loader (vdso has no path).
node_libs() {
  ldd "$NODE_BIN" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' | LC_ALL=C sort -u
}

build_node() {
  local hash old started libs
  mapfile -t libs < <(node_libs)
  [ "${#libs[@]}" -gt 0 ] || die "ldd listed no libraries for $NODE_BIN"
  hash="$(inputs_hash "$BUSYBOX" "$NODE_BIN" "${libs[@]}")"
  needs_build "$NODE_IMAGE" "$hash" || return 0
  started=$SECONDS
  old="$(image_id "$NODE_IMAGE")"
  local fs="$WORK/node-rootfs"
  mkdir -p "$fs/bin" "$fs/usr/local/bin" "$fs/tmp" "$fs/root" "$fs/app"
  cp -r "$RECIPES/rootfs/." "$fs/"
  chmod 1777 "$fs/tmp"
  cp "$BUSYBOX" "$fs/bin/busybox"
  local applet
  for applet in $("$BUSYBOX" --list); do
    if [ "$applet" != busybox ]; then ln -sf busybox "$fs/bin/$applet"; fi
  done
  cp "$NODE_BIN" "$fs/usr/local/bin/node"
  local lib
  for lib in "${libs[@]}"; do
    # -L: the host's merged /usr makes /lib and /lib64 symlinks; the image gets real files at the paths ldd printed.
    mkdir -p "$fs$(dirname "$lib")"
    cp -L "$lib" "$fs$lib"
  done
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$fs" -cf "$WORK/node-rootfs.tar" .
  docker import \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change 'ENV NODE_ENV=production' \
    --change 'WORKDIR /app' \
    --change 'CMD ["node"]' \
    --change 'LABEL dev.cmesh.base=true' \
    --change "LABEL $HASH_LABEL=$hash" \
    --message "cmesh node base from $NODE_BIN" \
    "$WORK/node-rootfs.tar" "$NODE_IMAGE" >/dev/null
  local version
  version="$(docker run --rm "$NODE_IMAGE" node -e 'console.log(process.version)')" ||
    die "$NODE_IMAGE cannot run node (missing library?)"
  docker run --rm "$NODE_IMAGE" sh -c 'command -v wget >/dev/null' || die "$NODE_IMAGE lacks busybox wget"
  drop_old "$old" "$NODE_IMAGE"
  log "built $NODE_IMAGE (node $version, $(image_size "$NODE_IMAGE"), $((SECONDS - started))s, hash ${hash:0:12})"
}

build_busybox
build_node
