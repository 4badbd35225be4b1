#!/usr/bin/env bash
# `npm run simnet`: a throwaway simnet (real dcrd + two dcrwallets) with
# dcrvoted voting on it. Installs what is missing first. Ctrl-C tears it down.
# Options go to the demo: --blocks N (stop after N blocks), --interval SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/tsx ] || npm ci --no-audit --no-fund
bash scripts/build-nodes.sh >/dev/null
export TESTCONTAINERS_RYUK_DISABLED=true
exec node --import tsx scripts/simnet-demo.ts "$@"
