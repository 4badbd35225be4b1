#!/usr/bin/env bash
# Build the dcrvoted container image, with or without an image registry.
#
#   scripts/build-image.sh                 # tag dcrvoted:<package.json version> and dcrvoted:latest
#   IMAGE=my/dcrvoted:1 scripts/build-image.sh
#   BASE_IMAGE=node:24-bookworm-slim scripts/build-image.sh   # force a base
#
# Base image selection (first that works):
#   1. $BASE_IMAGE if given;
#   2. node:24-bookworm-slim if already present locally, or pullable within
#      PULL_TIMEOUT seconds (default 20);
#   3. a local base made here, tagged $LOCAL_BASE (default dcrvoted-base:node24):
#      a minimal glibc root file system copied from this host (the dynamic
#      loader, libc, libstdc++, libgcc_s, /bin/sh and a few coreutils, with
#      every library `ldd` lists) plus the Node.js 24 binary and npm from the
#      npm registry packages node-linux-<arch>@24 and npm@11, imported with
#      `docker import`. It is reused on later runs (REBUILD_BASE=1 remakes it).
#
# The build itself runs `npm ci`, so it needs the npm registry: it is run with
# --network host so the build containers use this host's network and npm
# settings (HTTP(S)_PROXY is passed through as build args when set).
#
# SRC_DIR=<dir> builds from another checkout. NPM_CA_FILE=<pem> adds a CA for
# the registry (default: npm's cafile setting, else $NODE_EXTRA_CA_CERTS).
#
# Needs: docker (scripts/start-docker.sh is run first when present), npm, ldd, tar.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT="$PWD"

say() { echo "[build-image] $*"; }
die() { echo "[build-image] ERROR: $*" >&2; exit 1; }
now() { date +%s; }

VERSION="$(node -p "require('./package.json').version" 2>/dev/null || echo 0.0.0)"
IMAGE="${IMAGE:-dcrvoted:${VERSION}}"
OFFICIAL_BASE="${OFFICIAL_BASE:-node:24-bookworm-slim}"
LOCAL_BASE="${LOCAL_BASE:-dcrvoted-base:node24}"
NODE_SPEC="${NODE_SPEC:-24}"
NPM_SPEC="${NPM_SPEC:-11}"
PULL_TIMEOUT="${PULL_TIMEOUT:-20}"
CACHE_DIR="${DCRVOTED_BASE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dcrvoted-base}"

t_start=$(now)
WORK_DIR=""
trap '[ -z "$WORK_DIR" ] || rm -rf "$WORK_DIR"' EXIT

if [ -x scripts/start-docker.sh ] || [ -f scripts/start-docker.sh ]; then
  bash scripts/start-docker.sh
fi
docker info >/dev/null 2>&1 || die "no docker engine answers (start dockerd, or run scripts/start-docker.sh)"

# Copy a file and every shared library it needs into the root file system,
# keeping the paths the dynamic loader expects.
copy_with_libs() {
  local rootfs="$1" bin="$2" dest="${3:-$2}"
  install -D -m 0755 "$(readlink -f "$bin")" "$rootfs$dest"
  local lib
  for lib in $(ldd "$bin" 2>/dev/null | grep -oE '(/[^ ]+)' || true); do
    [ -e "$lib" ] || continue
    case "$lib" in
      /lib/*|/lib64/*) target="/usr$lib" ;;
      *) target="$lib" ;;
    esac
    [ -e "$rootfs$target" ] || install -D -m 0755 "$(readlink -f "$lib")" "$rootfs$target"
  done
}

make_local_base() {
  local arch pkg t0 rootfs prefix
  t0=$(now)
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) die "no node-linux-* npm package for $(uname -m); pass BASE_IMAGE=<an image with Node.js 24>" ;;
  esac
  pkg="node-linux-${arch}"
  command -v npm >/dev/null || die "npm is needed to fetch ${pkg}@${NODE_SPEC}"
  command -v ldd >/dev/null || die "ldd (libc-bin) is needed to collect shared libraries"

  prefix="$CACHE_DIR/npm-${arch}-node${NODE_SPEC}-npm${NPM_SPEC}"
  if [ ! -x "$prefix/node_modules/$pkg/bin/node" ] || [ ! -f "$prefix/node_modules/npm/bin/npm-cli.js" ]; then
    say "fetching ${pkg}@${NODE_SPEC} and npm@${NPM_SPEC} from the npm registry into $prefix"
    mkdir -p "$prefix"
    npm install --prefix "$prefix" --no-audit --no-fund --no-save --loglevel=error \
      "${pkg}@${NODE_SPEC}" "npm@${NPM_SPEC}" >/dev/null
  fi
  local node="$prefix/node_modules/$pkg/bin/node"
  local node_version
  node_version="$("$node" --version)" || die "$node does not run on this host"

  WORK_DIR="$(mktemp -d)"
  rootfs="$WORK_DIR/rootfs"
  mkdir -p "$rootfs"/{usr/bin,usr/sbin,usr/lib,usr/lib64,usr/local/bin,usr/local/lib,etc,tmp,root,var/tmp,run,proc,sys,dev}
  ln -s usr/bin "$rootfs/bin"
  ln -s usr/sbin "$rootfs/sbin"
  ln -s usr/lib "$rootfs/lib"
  ln -s usr/lib64 "$rootfs/lib64"
  chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
  chmod 0700 "$rootfs/root"

  # glibc, libstdc++ and friends come along with node.
  copy_with_libs "$rootfs" "$node" /usr/local/bin/node
  # A POSIX shell and the few tools Dockerfile RUN steps use.
  copy_with_libs "$rootfs" "$(command -v dash || command -v sh)" /usr/bin/sh
  ln -s sh "$rootfs/usr/bin/dash"
  local tool
  for tool in env mkdir chown chmod rm cat ls ln cp mv id true false sleep; do
    local path
    path="$(command -v "$tool" 2>/dev/null || true)"
    case "$path" in /*) copy_with_libs "$rootfs" "$path" "/usr/bin/$tool" ;; esac
  done
  # glibc's name-service modules are loaded at run time, so ldd cannot list them.
  local nss
  for nss in /lib/*-linux-gnu/libnss_files.so.2 /lib/*-linux-gnu/libnss_dns.so.2 /usr/lib/*-linux-gnu/libnss_files.so.2 /usr/lib/*-linux-gnu/libnss_dns.so.2; do
    [ -e "$nss" ] || continue
    case "$nss" in /lib/*) t="/usr$nss" ;; *) t="$nss" ;; esac
    [ -e "$rootfs$t" ] || install -D -m 0644 "$(readlink -f "$nss")" "$rootfs$t"
  done

  mkdir -p "$rootfs/usr/local/lib/node_modules"
  cp -a "$prefix/node_modules/npm" "$rootfs/usr/local/lib/node_modules/npm"
  printf '#!/bin/sh\nexec /usr/local/bin/node /usr/local/lib/node_modules/npm/bin/npm-cli.js "$@"\n' >"$rootfs/usr/local/bin/npm"
  printf '#!/bin/sh\nexec /usr/local/bin/node /usr/local/lib/node_modules/npm/bin/npx-cli.js "$@"\n' >"$rootfs/usr/local/bin/npx"
  chmod 0755 "$rootfs/usr/local/bin/npm" "$rootfs/usr/local/bin/npx"

  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
  printf '127.0.0.1 localhost\n::1 localhost\n' >"$rootfs/etc/hosts"
  : >"$rootfs/etc/resolv.conf"

  say "importing $(du -sh "$rootfs" | cut -f1) root file system as $LOCAL_BASE (node $node_version)"
  tar -C "$rootfs" --numeric-owner -c . | docker import \
    --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin' \
    --change "ENV NODE_VERSION=${node_version#v}" \
    --change 'CMD ["node"]' \
    - "$LOCAL_BASE" >/dev/null
  docker run --rm --network none "$LOCAL_BASE" node -e 'process.exit(0)' \
    || die "the local base $LOCAL_BASE cannot run node"
  say "local base ready in $(( $(now) - t0 ))s"
}

pick_base() {
  if [ -n "${BASE_IMAGE:-}" ]; then
    echo "$BASE_IMAGE"; return
  fi
  if docker image inspect "$OFFICIAL_BASE" >/dev/null 2>&1; then
    echo "$OFFICIAL_BASE"; return
  fi
  if [ "${SKIP_PULL:-0}" != 1 ] && timeout "$PULL_TIMEOUT" docker pull -q "$OFFICIAL_BASE" >/dev/null 2>&1; then
    echo "$OFFICIAL_BASE"; return
  fi
  echo ""
}

base="$(pick_base)"
if [ -z "$base" ]; then
  say "$OFFICIAL_BASE is not available (no registry reachable); using a local base"
  if [ "${REBUILD_BASE:-0}" = 1 ] || ! docker image inspect "$LOCAL_BASE" >/dev/null 2>&1; then
    make_local_base
  else
    say "reusing existing $LOCAL_BASE (REBUILD_BASE=1 to remake it)"
  fi
  base="$LOCAL_BASE"
fi
say "base image: $base"

build_args=(--build-arg "BASE_IMAGE=$base")
registry="$(npm config get registry 2>/dev/null || true)"
case "$registry" in http*) build_args+=(--build-arg "NPM_CONFIG_REGISTRY=$registry") ;; esac
for v in HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy; do
  if [ -n "${!v:-}" ]; then build_args+=(--build-arg "$v=${!v}"); fi
done

# Without buildx the CLI needs to be told to use the classic builder.
if ! docker buildx version >/dev/null 2>&1; then export DOCKER_BUILDKIT=0; fi

# Stage a small build context: only what the Dockerfile copies, plus the CA
# bundle npm trusts on this host when one is configured (a TLS-inspecting
# proxy's CA, say). The CA is used by the build stages only and never reaches
# the runtime image.
SRC_DIR="${SRC_DIR:-$ROOT}"
CONTEXT="$(mktemp -d)"
trap '[ -z "$WORK_DIR" ] || rm -rf "$WORK_DIR"; rm -rf "$CONTEXT"' EXIT
for f in Dockerfile .dockerignore package.json package-lock.json tsconfig.json src proto; do
  [ -e "$SRC_DIR/$f" ] || die "$SRC_DIR/$f is missing"
  cp -a "$SRC_DIR/$f" "$CONTEXT/"
done
ca="${NPM_CA_FILE:-$(npm config get cafile 2>/dev/null || true)}"
case "$ca" in null|undefined) ca="" ;; esac
[ -n "$ca" ] || ca="${NODE_EXTRA_CA_CERTS:-}"
if [ -n "$ca" ] && [ -f "$ca" ]; then
  say "build stages will trust the CA bundle $ca (npm's cafile)"
  cp "$ca" "$CONTEXT/npm-ca.pem"
fi

t_build=$(now)
say "docker build -t $IMAGE (network host)"
docker build --network host "${build_args[@]}" -t "$IMAGE" -t "${IMAGE%%:*}:latest" "$CONTEXT"
build_secs=$(( $(now) - t_build ))

say "smoke test: $IMAGE version"
docker run --rm --network none "$IMAGE" version || die "the image does not start (node /app/dist/src/cli.js version failed)"

size="$(docker image inspect -f '{{.Size}}' "$IMAGE")"
say "built $IMAGE from $base: build ${build_secs}s, total $(( $(now) - t_start ))s, size $(( size / 1000000 )) MB"
