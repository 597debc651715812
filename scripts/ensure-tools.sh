#!/usr/bin/env bash
# Tools the test suite needs besides Docker: tmux (for the dashboard e2e test), Debian's `docker-registry` and
# `apache2-utils` (htpasswd) for test/e2e/pull.docker.test.ts, xmllint (Debian's libxml2-utils, for the JUnit schema
# check in cli/ci/report.test.ts), promtool and the prometheus server (Debian's `prometheus` package) for
# test/e2e/metrics.docker.test.ts. Idempotent: installs only what is missing.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

# tmux: test/e2e/dash.docker.test.ts drives `cmesh dash` in a real terminal.
if ! command -v tmux >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends tmux
fi
echo "tmux present: $(tmux -V)"

# A throw-away registry for the pull tests (test/helpers/registry.ts runs its own on a free loopback port) and htpasswd
# to protect one with bcrypt credentials.
UPDATED=""
apt_update_once() {
  if [ -z "$UPDATED" ]; then
    $SUDO apt-get update -qq
    UPDATED=1
  fi
}
if ! command -v docker-registry >/dev/null 2>&1 || ! command -v htpasswd >/dev/null 2>&1; then
  # Only refresh the package lists when they do not know the package yet.
  if ! apt-cache policy docker-registry 2>/dev/null | grep -q 'Candidate: [0-9]'; then apt_update_once; fi
  $SUDO apt-get install -y -qq --no-install-recommends docker-registry apache2-utils
  # The package may start a system registry on :5000; the tests never use it.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
    $SUDO systemctl stop docker-registry || true
  fi
fi
echo "docker-registry present: $(docker-registry --version 2>&1 | head -n1)"

# xmllint: cli/ci/report.test.ts validates the JUnit report against schema/junit-10.xsd.
if ! command -v xmllint >/dev/null 2>&1; then
  if ! apt-cache policy libxml2-utils 2>/dev/null | grep -q 'Candidate: [0-9]'; then apt_update_once; fi
  $SUDO apt-get install -y -qq --no-install-recommends libxml2-utils
fi
echo "xmllint present: $(xmllint --version 2>&1 | head -n1)"

if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then
  echo "promtool and prometheus present: $(promtool --version 2>&1 | head -n1)"
  exit 0
fi

apt_update_once
# --no-install-recommends: we need the binaries, not the node exporter or a running service.
$SUDO apt-get install -y -qq --no-install-recommends prometheus
# The package starts a system service on some setups; the tests run their own server on a free loopback port.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
  $SUDO systemctl stop prometheus || true
fi
command -v promtool >/dev/null && command -v prometheus >/dev/null
echo "installed: $(promtool --version 2>&1 | head -n1)"
