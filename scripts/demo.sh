#!/usr/bin/env bash
# Demo on a fresh machine: dependencies, Docker, base images, then the demo project (fixtures/demo).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -d node_modules ]; then
  echo "==> npm ci (first run)"
  npm ci --no-audit --no-fund
fi

echo "==> ensuring Docker Engine"
bash scripts/ensure-docker.sh
echo "==> building base images"
bash scripts/build-base-images.sh

if [ ! -d fixtures/demo ]; then
  echo "demo: fixtures/demo is missing from this checkout" >&2
  exit 1
fi

echo "==> cmesh config (fixtures/demo)"
(cd fixtures/demo && node ../../bin/cmesh.js config)
# TODO(issue 4): replace with `cmesh up` once the daemon exists.
echo "cmesh up: coming with the daemon (issue 4)"
