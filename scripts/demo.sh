#!/usr/bin/env bash
# Demo on a fresh machine: dependencies, Docker, base images, then the demo project (fixtures/demo) with `cmesh up`.
#
#   bash scripts/demo.sh             foreground: builds, starts, streams the replicas' logs; Ctrl-C stops the project
#   bash scripts/demo.sh --detach    (or CI=true) up -d --wait, show the replicas and curl them, then return
#
# Env: CMESH_HOME (the daemon's state dir; default ~/.local/state/cmesh), DEMO_DOWN=1 (with --detach: `down` at the end).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DETACH=0
for arg in "$@"; do
  case "$arg" in
    -d | --detach) DETACH=1 ;;
    -h | --help)
      sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "demo: unknown argument $arg (try --help)" >&2
      exit 2
      ;;
  esac
done
if [ "${CI:-}" = "true" ]; then DETACH=1; fi

if [ ! -d node_modules ]; then
  echo "==> npm ci (first run)"
  npm ci --no-audit --no-fund
fi

echo "==> ensuring Docker Engine"
bash scripts/ensure-docker.sh
echo "==> building base images"
bash scripts/build-base-images.sh

COMPOSE=fixtures/demo/compose.yaml
if [ ! -f "$COMPOSE" ]; then
  echo "demo: $COMPOSE is missing from this checkout" >&2
  exit 1
fi
cmesh() { node bin/cmesh.js -f "$COMPOSE" "$@"; }

# Published ports are served by cmesh's mesh proxy; until it is listening, the replicas' own 127.0.0.1 endpoints
# (engine-assigned ports, see `cmesh ps`) are how to reach them.
show() {
  echo "==> cmesh ps"
  cmesh ps
  if curl -fsS --max-time 2 http://127.0.0.1:8080/ >/dev/null 2>&1; then
    echo "==> curl http://127.0.0.1:8080/ (3 times: web is balanced round-robin, so each answer comes from the next replica)"
    for _ in 1 2 3; do curl -fsS --max-time 2 http://127.0.0.1:8080/; done
  else
    echo "(nothing answers on 127.0.0.1:8080: is another process holding the port? see 'cmesh services' and the daemon log)"
    local endpoint
    endpoint=$(cmesh ps --json | node -e '
      const rows = JSON.parse(require("fs").readFileSync(0, "utf8"));
      const e = rows.find((r) => r.service === "web" && r.state === "running")?.endpoints?.[0];
      if (e) console.log(`${e.host}:${e.hostPort}`);')
    if [ -n "$endpoint" ]; then
      echo "==> curl http://$endpoint/ (web-1 directly)"
      curl -fsS --max-time 2 "http://$endpoint/"
    fi
  fi
}

cat <<EOF
==> cmesh up ($COMPOSE): web ×3 behind 127.0.0.1:8080 (round-robin), api ×2, worker
    reach it:   curl http://127.0.0.1:8080/
    replicas:   node bin/cmesh.js -f $COMPOSE ps
    stop:       Ctrl-C (foreground) — remove with: node bin/cmesh.js -f $COMPOSE down
EOF

if [ "$DETACH" = 1 ]; then
  cmesh up -d --wait --build --timeout 180
  show
  if [ "${DEMO_DOWN:-}" = "1" ]; then
    echo "==> cmesh down"
    cmesh down
  else
    echo "==> running in the background; stop it with: node bin/cmesh.js -f $COMPOSE down"
  fi
  exit 0
fi

# Foreground like `docker compose up`: builds, starts, streams logs until Ctrl-C, which stops the project.
exec node bin/cmesh.js -f "$COMPOSE" up --build
