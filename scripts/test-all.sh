#!/usr/bin/env bash
# The whole test suite on a fresh machine, exactly as CI runs it: Docker, base images, deps, lint, all test tiers.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "==> ensuring Docker Engine"
bash scripts/ensure-docker.sh
docker version --format 'docker engine {{.Server.Version}} (client {{.Client.Version}})'
echo "==> building base images"
bash scripts/build-base-images.sh
echo "==> npm ci"
npm ci --no-audit --no-fund
echo "==> npm run lint"
npm run lint
echo "==> ensuring promtool and prometheus"
bash scripts/ensure-tools.sh
echo "==> npm test"
npm test
