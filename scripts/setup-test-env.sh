#!/usr/bin/env bash
# Everything the test suite needs on a fresh machine: Docker Engine, base images, npm deps, promtool/prometheus, tmux.
# The README's test command (and .ci/run) is: bash scripts/setup-test-env.sh && npm run lint && npm test
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "==> ensuring Docker Engine"
bash scripts/ensure-docker.sh
docker version --format 'docker engine {{.Server.Version}} (client {{.Client.Version}})'
echo "==> building base images"
bash scripts/build-base-images.sh
echo "==> npm ci"
npm ci --no-audit --no-fund
echo "==> ensuring promtool, prometheus and tmux"
bash scripts/ensure-tools.sh
