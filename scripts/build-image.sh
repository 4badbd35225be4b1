#!/usr/bin/env bash
# Build the dcrvoted container image, with or without an image registry.
# Idempotent and cached, so CI can run it on every clone (test/e2e/image.test.ts
# does, through `npm test`).
#
#   scripts/build-image.sh                 # tag dcrvoted:<package.json version> and dcrvoted:latest
#   IMAGE=my/dcrvoted:1 scripts/build-image.sh
#   BASE_IMAGE=node:24-bookworm-slim scripts/build-image.sh   # force a base
#
# Base image selection (first that works):
#   1. $BASE_IMAGE if given;
#   2. node:24-bookworm-slim if already present locally;
#   3. the local base $LOCAL_BASE (default dcrvoted-base:node<NODE_SPEC>) if
#      present and made by this recipe for that Node.js version (its labels
#      dcrvoted.base.recipe and dcrvoted.base.node are checked) — no network;
#   4. node:24-bookworm-slim if pullable within PULL_TIMEOUT seconds (default
#      20; SKIP_PULL=1 skips the attempt);
#   5. a local base made here: a minimal glibc root file system copied from
#      this host (the dynamic loader, libc, libstdc++, libgcc_s, /bin/sh and a
#      few coreutils, with every library `ldd` lists) plus the Node.js binary
#      and npm from the npm registry packages node-linux-<arch>@NODE_SPEC and
#      npm@NPM_SPEC (kept in $DCRVOTED_CACHE/image-base, so a remake needs no
#      network), imported with `docker import` and tagged $LOCAL_BASE and
#      dcrvoted-base:node<exact version>. REBUILD_BASE=1 remakes it.
#
# The image is always rebuilt from the checkout (SRC_DIR, default this one);
# Docker's layer cache makes an unchanged rebuild take seconds (a remade base,
# REBUILD_BASE=1, starts the cache afresh). The `npm ci` steps need the npm registry: the build runs with
# --network host so the build containers use this host's network, npm's
# registry setting is passed as a build arg, HTTP(S)_PROXY/NO_PROXY are passed
# through when set, and the CA bundle npm trusts here (NPM_CA_FILE, default
# `npm config get cafile`, else $NODE_EXTRA_CA_CERTS) is given to the build
# stages only — it never reaches the runtime image.
#
# Build stages are tagged dcrvoted-stage:<stage> so the cache survives; stage
# images and the image a rebuild superseded are removed afterwards, so repeated
# runs do not fill the disk (KEEP_OLD=1 keeps them).
#
# Prints how long each step took and the image size. Exit 0 only when the
# built image runs `dcrvoted version`.
#
# Needs: docker (scripts/start-docker.sh is run first), npm, node, ldd, tar.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT="$PWD"

say() { echo "[build-image] $*"; }
# The working directory is the repository root here (see the cd above).
# shellcheck source=scripts/lib/build-common.sh
. scripts/lib/build-common.sh
die() { echo "[build-image] ERROR: $*" >&2; exit 1; }

VERSION="$(node -p "require('./package.json').version" 2>/dev/null || echo 0.0.0)"
IMAGE="${IMAGE:-dcrvoted:${VERSION}}"
NODE_SPEC="${NODE_SPEC:-24}"
NPM_SPEC="${NPM_SPEC:-11}"
OFFICIAL_BASE="${OFFICIAL_BASE:-node:${NODE_SPEC%%.*}-bookworm-slim}"
LOCAL_BASE="${LOCAL_BASE:-dcrvoted-base:node${NODE_SPEC}}"
STAGE_REPO="${STAGE_REPO:-dcrvoted-stage}"
PULL_TIMEOUT="${PULL_TIMEOUT:-20}"
CACHE_DIR="${DCRVOTED_BASE_CACHE:-${DCRVOTED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dcrvoted}/image-base}"
# Bump when make_local_base changes what goes into the base: older bases are
# then remade instead of reused.
BASE_RECIPE=2

# IMAGE without its tag (a registry host may carry a :port).
case "${IMAGE##*/}" in
  *:*) IMAGE_REPO="${IMAGE%:*}" ;;
  *) IMAGE_REPO="$IMAGE"; IMAGE="$IMAGE:latest" ;;
esac


WORK_DIR=""
CONTEXT=""
cleanup() {
  [ -z "$WORK_DIR" ] || rm -rf "$WORK_DIR"
  [ -z "$CONTEXT" ] || rm -rf "$CONTEXT"
}
trap cleanup EXIT

case "$(uname -m)" in
  x86_64) ARCH=x64 ;;
  aarch64) ARCH=arm64 ;;
  *) ARCH="" ;;
esac

# ---- docker engine ----------------------------------------------------------
docker_engine() {
  if [ -f scripts/start-docker.sh ]; then
    bash scripts/start-docker.sh
  fi
  docker info >/dev/null 2>&1 || die "no docker engine answers (start dockerd, or run scripts/start-docker.sh)"
}

# ---- base image --------------------------------------------------------------


# True when image $1 is a local base of this recipe holding Node.js $NODE_SPEC.
base_usable() {
  local labels recipe node
  labels="$(docker image inspect -f '{{index .Config.Labels "dcrvoted.base.recipe"}} {{index .Config.Labels "dcrvoted.base.node"}}' "$1" 2>/dev/null)" || return 1
  read -r recipe node <<<"$labels"
  [ "$recipe" = "$BASE_RECIPE" ] || return 1
  case "$node" in
    "$NODE_SPEC"|"$NODE_SPEC".*) return 0 ;;
    *) return 1 ;;
  esac
}

make_local_base() {
  local pkg rootfs prefix node node_version tool path nss t
  [ -n "$ARCH" ] || die "no node-linux-* npm package for $(uname -m); pass BASE_IMAGE=<an image with Node.js ${NODE_SPEC}>"
  pkg="node-linux-${ARCH}"
  command -v npm >/dev/null || die "npm is needed to fetch ${pkg}@${NODE_SPEC}"
  command -v ldd >/dev/null || die "ldd (libc-bin) is needed to collect shared libraries"

  prefix="$CACHE_DIR/npm-${ARCH}-node${NODE_SPEC}-npm${NPM_SPEC}"
  if [ ! -x "$prefix/node_modules/$pkg/bin/node" ] || [ ! -f "$prefix/node_modules/npm/bin/npm-cli.js" ]; then
    say "fetching ${pkg}@${NODE_SPEC} and npm@${NPM_SPEC} from the npm registry into $prefix"
    rm -rf "$prefix.tmp"
    mkdir -p "$prefix.tmp"
    npm install --prefix "$prefix.tmp" --no-audit --no-fund --no-save --loglevel=error \
      "${pkg}@${NODE_SPEC}" "npm@${NPM_SPEC}" >/dev/null
    rm -rf "$prefix"
    mv "$prefix.tmp" "$prefix"
  else
    say "using cached ${pkg} and npm from $prefix"
  fi
  node="$prefix/node_modules/$pkg/bin/node"
  node_version="$("$node" --version)" || die "$node does not run on this host"
  node_version="${node_version#v}"

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
  for tool in env mkdir chown chmod rm cat ls ln cp mv id true false sleep; do
    path="$(command -v "$tool" 2>/dev/null || true)"
    case "$path" in /*) copy_with_libs "$rootfs" "$path" "/usr/bin/$tool" ;; esac
  done
  # glibc's name-service modules are loaded at run time, so ldd cannot list them.
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

  local exact="dcrvoted-base:node${node_version}"
  OLD_BASE_ID="$(docker image inspect -f '{{.Id}}' "$LOCAL_BASE" 2>/dev/null || true)"
  say "importing $(du -sh "$rootfs" | cut -f1) root file system as $LOCAL_BASE and $exact (node $node_version)"
  tar -C "$rootfs" --numeric-owner -c . | docker import \
    --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin' \
    --change "ENV NODE_VERSION=${node_version}" \
    --change "LABEL dcrvoted.base.recipe=${BASE_RECIPE} dcrvoted.base.node=${node_version}" \
    --change 'CMD ["node"]' \
    - "$exact" >/dev/null
  [ "$exact" = "$LOCAL_BASE" ] || docker tag "$exact" "$LOCAL_BASE"
  rm -rf "$WORK_DIR"
  WORK_DIR=""
  docker run --rm --network none "$LOCAL_BASE" node -e 'process.exit(0)' \
    || die "the local base $LOCAL_BASE cannot run node"
}

BASE=""
OLD_BASE_ID=""
choose_base() {
  if [ -n "${BASE_IMAGE:-}" ]; then
    BASE="$BASE_IMAGE"; say "base: $BASE (BASE_IMAGE)"; return
  fi
  if docker image inspect "$OFFICIAL_BASE" >/dev/null 2>&1; then
    BASE="$OFFICIAL_BASE"; say "base: $BASE (present locally)"; return
  fi
  if [ "${REBUILD_BASE:-0}" != 1 ] && base_usable "$LOCAL_BASE"; then
    BASE="$LOCAL_BASE"
    say "base: reusing $BASE (node $(docker image inspect -f '{{index .Config.Labels "dcrvoted.base.node"}}' "$BASE"); REBUILD_BASE=1 remakes it)"
    return
  fi
  if [ "${SKIP_PULL:-0}" != 1 ] && timeout "$PULL_TIMEOUT" docker pull -q "$OFFICIAL_BASE" >/dev/null 2>&1; then
    BASE="$OFFICIAL_BASE"; say "base: $BASE (pulled)"; return
  fi
  say "$OFFICIAL_BASE is not available (no registry reachable); making the local base $LOCAL_BASE"
  make_local_base
  BASE="$LOCAL_BASE"
  say "base: $BASE (made here)"
}

# ---- build context -------------------------------------------------------------
# Only what the Dockerfile copies, plus the CA bundle npm trusts on this host
# when one is configured (a TLS-inspecting proxy's CA, say).
SRC_DIR="${SRC_DIR:-$ROOT}"
stage_context() {
  local f ca
  CONTEXT="$(mktemp -d)"
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
  say "context from $SRC_DIR: $(du -sh "$CONTEXT" | cut -f1)"
}

# ---- docker build ----------------------------------------------------------------
OLD_ID=""
build_image() {
  # --force-rm: a failed step leaves no container behind (it would pin its image).
  local -a args=(--network host --force-rm --build-arg "BASE_IMAGE=$BASE")
  local registry v stage
  registry="$(npm config get registry 2>/dev/null || true)"
  case "$registry" in http*) args+=(--build-arg "NPM_CONFIG_REGISTRY=$registry") ;; esac
  for v in HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy; do
    if [ -n "${!v:-}" ]; then args+=(--build-arg "$v=${!v}"); fi
  done
  # Without buildx the CLI needs to be told to use the classic builder.
  if ! docker buildx version >/dev/null 2>&1; then export DOCKER_BUILDKIT=0; fi

  OLD_ID="$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
  # The build stages first, each tagged, so their cache is not dangling (and
  # superseded ones can be removed safely); then the image, whose build and
  # deps stages are cached by then. The full output goes to a log, printed
  # when a build fails.
  local log cached
  log="$(mktemp)"
  for stage in build deps runtime; do
    local -a tags=(-t "$STAGE_REPO:$stage")
    [ "$stage" != runtime ] || tags=(--label "org.opencontainers.image.version=$VERSION" -t "$IMAGE" -t "$IMAGE_REPO:latest")
    say "docker build --target $stage ${tags[*]} (network host)"
    if ! docker build "${args[@]}" --target "$stage" "${tags[@]}" "$CONTEXT" >"$log" 2>&1; then
      tail -n 80 "$log" >&2
      rm -f "$log"
      die "docker build --target $stage failed (its last 80 lines are above)"
    fi
    cached="$(grep -c 'Using cache' "$log" || true)"
    say "  $stage: $cached of $(grep -cE '^Step [0-9]+/[0-9]+ : ' "$log" || true) steps from the layer cache"
  done
  rm -f "$log"
}

smoke_test() {
  docker run --rm --network none "$IMAGE" version || die "the image does not start (node /app/dist/src/cli.js version failed)"
}

# Remove what a rebuild superseded: the previous image (when nothing else tags
# it and no container uses it) and old build-stage images (labelled
# dcrvoted.image.stage, now untagged).
tidy() {
  local new_id
  [ "${KEEP_OLD:-0}" != 1 ] || return 0
  new_id="$(docker image inspect -f '{{.Id}}' "$IMAGE")"
  if [ -n "$OLD_ID" ] && [ "$OLD_ID" != "$new_id" ] \
     && [ "$(docker image inspect -f '{{len .RepoTags}}' "$OLD_ID" 2>/dev/null || echo 1)" = 0 ]; then
    docker rmi "$OLD_ID" >/dev/null 2>&1 && say "removed the superseded image ${OLD_ID#sha256:}" || true
  fi
  if [ -n "$OLD_BASE_ID" ] && [ "$(docker image inspect -f '{{len .RepoTags}}' "$OLD_BASE_ID" 2>/dev/null || echo 1)" = 0 ]; then
    docker rmi "$OLD_BASE_ID" >/dev/null 2>&1 && say "removed the superseded base ${OLD_BASE_ID#sha256:}" || true
  fi
  docker image prune -f --filter "label=dcrvoted.image.stage" >/dev/null 2>&1 || true
}

step docker docker_engine
step base choose_base
step context stage_context
step build build_image
step smoke smoke_test
step tidy tidy

size="$(docker image inspect -f '{{.Size}}' "$IMAGE")"
say "timings:"
for t in "${TIMINGS[@]}"; do say "  $t"; done
say "built $IMAGE ($(docker image inspect -f '{{.Id}}' "$IMAGE" | cut -c8-19)) from $BASE in $(( $(now) - t_start ))s, size $(( size / 1000000 )) MB"
