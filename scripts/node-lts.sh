#!/usr/bin/env bash
# Prints the path of a Node.js 24 LTS binary, fetched once from the npm
# registry (package node-linux-<arch>@24) into ${DCRVOTED_CACHE:-~/.cache/dcrvoted}.
# The image ships Node 24; CI runs the unit and component suites on it too.
set -euo pipefail

SPEC="${NODE_LTS_SPEC:-24}"
case "$(uname -m)" in
  x86_64) ARCH=x64 ;;
  aarch64) ARCH=arm64 ;;
  *) echo "node-lts: no node-linux-* package for $(uname -m)" >&2; exit 1 ;;
esac
CACHE="${DCRVOTED_CACHE:-$HOME/.cache/dcrvoted}"
PREFIX="$CACHE/node-lts-${ARCH}-${SPEC}"
NODE="$PREFIX/node_modules/node-linux-${ARCH}/bin/node"
if [ ! -x "$NODE" ]; then
  echo "node-lts: fetching node-linux-${ARCH}@${SPEC} from the npm registry into $PREFIX" >&2
  rm -rf "$PREFIX.tmp"
  mkdir -p "$PREFIX.tmp"
  npm install --prefix "$PREFIX.tmp" --no-audit --no-fund --no-save --loglevel=error "node-linux-${ARCH}@${SPEC}" >/dev/null
  rm -rf "$PREFIX"
  mv "$PREFIX.tmp" "$PREFIX"
fi
"$NODE" --version >/dev/null
echo "$NODE"
