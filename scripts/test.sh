#!/usr/bin/env bash
# The whole test suite: type check, unit, component (in-process fake peers)
# and end-to-end (real dcrd + dcrwallet on a throwaway simnet).
# Installs what is missing first, so it works on a fresh machine:
# npm packages, the pinned dcrd/dcrwallet builds (cached outside the clone),
# and, when run as root, a Docker engine for the testcontainers backend
# (without one the real nodes run as child processes).
# Extra arguments go to vitest, e.g. `npm test -- test/unit`.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules/vitest ] || npm ci --no-audit --no-fund
bash scripts/build-nodes.sh >/dev/null
if [ "$(id -u)" -eq 0 ] && [ -z "${DCRVOTED_E2E_BACKEND:-}" ]; then
  bash scripts/start-docker.sh || echo "[test] no Docker engine: real nodes run as child processes"
fi
export TESTCONTAINERS_RYUK_DISABLED=true

npx tsc -p tsconfig.json --noEmit
if [ "$#" -gt 0 ]; then
  exec npx vitest run "$@"
fi
# The real-node files mine blocks and build a container image; run them after
# the fast suites rather than beside them, so 2 cores are not shared with
# timing-sensitive component tests.
npx vitest run --project unit --project component
npx vitest run --project e2e
