#!/usr/bin/env bash
# The whole test suite on a fresh machine, exactly as CI runs it: Docker, base images, deps, lint, all test tiers.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# npm ci, except when npm rejects the committed lockfile as out of sync (npm/cli#9846: optional platform binaries the
# registry doesn't serve are left out of the lock, then reported "Missing"). npm install --no-save then installs the
# same locked versions without rewriting the lockfile. Any other npm ci failure (network, disk) stops the run.
install_deps() {
  local log
  log="$(mktemp)"
  if npm ci 2>"$log"; then
    cat "$log" >&2
  elif grep -q 'can only install packages when your package.json and package-lock.json' "$log"; then
    grep -v '^npm error' "$log" >&2 || :
    echo "npm ci rejected the lockfile (npm/cli#9846); installing the locked versions with npm install --no-save" >&2
    npm install --no-save --no-audit --no-fund
  else
    cat "$log" >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
}

echo "==> ensuring Docker Engine"
bash scripts/ensure-docker.sh
docker version --format 'docker engine {{.Server.Version}} (client {{.Client.Version}})'
echo "==> building base images"
bash scripts/build-base-images.sh
echo "==> npm ci"
install_deps
echo "==> npm run lint"
npm run lint
echo "==> npm test"
npm test
