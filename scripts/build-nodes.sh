#!/usr/bin/env bash
# Build (once) the dcrd and dcrwallet binaries the real-node tests run.
#
# Pinned versions (module versions; the binaries report dcrd 2.1.6 and
# dcrwallet 2.1.5):
#   github.com/decred/dcrd       v1.10.8
#   decred.org/dcrwallet/v5      v5.1.0
#
# Binaries land outside the clone, keyed by module version, so a version bump
# rebuilds and old builds stay usable:
#   ${DCRVOTED_CACHE:-$HOME/.cache/dcrvoted}/bin/dcrd@v1.10.8/dcrd
#   ${DCRVOTED_CACHE:-$HOME/.cache/dcrvoted}/bin/dcrwallet@v5.1.0/dcrwallet
# plus convenience symlinks bin/dcrd and bin/dcrwallet to the pinned build.
#
# Why not `go install pkg@version`: the module proxy here refuses the
# @v/list lookup that command performs, so each binary is built from its own
# throwaway module (go.mod + `go get` + `go install`). Separate modules keep
# each binary's dependency versions exactly as upstream pinned them.
#
# Idempotent: a present, runnable binary is kept. Messages go to stderr; the
# last lines on stdout are machine-readable KEY=VALUE pairs the test harness
# parses (DCRD_BIN, DCRWALLET_BIN, NODES_KEY).
#
# Options: --force  rebuild even if present.
set -euo pipefail

DCRD_MODULE="github.com/decred/dcrd"
DCRD_VERSION="${DCRD_MODULE_VERSION:-v1.10.8}"
WALLET_MODULE="decred.org/dcrwallet/v5"
WALLET_VERSION="${DCRWALLET_MODULE_VERSION:-v5.1.0}"

CACHE="${DCRVOTED_CACHE:-$HOME/.cache/dcrvoted}"
BIN_ROOT="$CACHE/bin"
FORCE=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "[build-nodes] unknown argument: $arg" >&2; exit 2 ;;
  esac
done

say() { echo "[build-nodes] $*" >&2; }
die() { echo "[build-nodes] ERROR: $*" >&2; exit 1; }

# build NAME MODULE VERSION -> installs $BIN_ROOT/NAME@VERSION/NAME
build() {
  local name="$1" module="$2" version="$3"
  local dest_dir="$BIN_ROOT/$name@$version"
  local dest="$dest_dir/$name"
  if [ "$FORCE" -eq 0 ] && [ -x "$dest" ] && "$dest" --version >/dev/null 2>&1; then
    say "$name $version: present ($dest), skipping"
    return 0
  fi
  command -v go >/dev/null 2>&1 || die "go toolchain not found on PATH (needed to build $name)"
  local moddir="$CACHE/build/$name@$version"
  rm -rf "$moddir"
  mkdir -p "$moddir" "$dest_dir"
  cat >"$moddir/go.mod" <<MOD
module dcrvoted.local/$name

go 1.24
MOD
  say "$name $version: building (go get $module@$version; go install $module)"
  local start=$SECONDS
  (
    cd "$moddir"
    export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod" GOBIN="$moddir/out"
    go get "$module@$version"
    go install "$module"
  ) >&2 || die "building $name $version failed (see go output above)"
  [ -x "$moddir/out/$name" ] || die "go install did not produce $moddir/out/$name"
  mv -f "$moddir/out/$name" "$dest.tmp"
  mv -f "$dest.tmp" "$dest"
  rm -rf "$moddir"
  say "$name $version: built in $((SECONDS - start))s -> $dest ($("$dest" --version 2>&1 | head -n1))"
}

mkdir -p "$BIN_ROOT"
build dcrd "$DCRD_MODULE" "$DCRD_VERSION"
build dcrwallet "$WALLET_MODULE" "$WALLET_VERSION"

# Stable names for humans and other scripts.
for pair in "dcrd@$DCRD_VERSION/dcrd:dcrd" "dcrwallet@$WALLET_VERSION/dcrwallet:dcrwallet"; do
  target="${pair%%:*}" link="$BIN_ROOT/${pair##*:}"
  if [ "$(readlink "$link" 2>/dev/null || true)" != "$target" ]; then
    ln -sfn "$target" "$link.tmp" && mv -Tf "$link.tmp" "$link"
    say "linked $link -> $target"
  fi
done

echo "DCRD_BIN=$BIN_ROOT/dcrd@$DCRD_VERSION/dcrd"
echo "DCRWALLET_BIN=$BIN_ROOT/dcrwallet@$WALLET_VERSION/dcrwallet"
echo "NODES_KEY=dcrd-$DCRD_VERSION-dcrwallet-$WALLET_VERSION"
