#!/usr/bin/env bash
# Make local stand-ins for the four images of deploy/docker-compose.yml, with
# no image registry (only Debian's package mirror, the npm registry and the Go
# module proxy are needed, and only on the first run):
#
#   DECRED_IMAGE        dcrd + dcrwallet: the static binaries of
#                       scripts/build-nodes.sh, compose/decred-entrypoint.sh
#                       and a POSIX shell with the few tools it uses
#   DCRVOTED_IMAGE      scripts/build-image.sh (skipped when DCRVOTED_IMAGE is
#                       set: that image is used as it is)
#   PROMETHEUS_IMAGE    Debian's prometheus package:   /bin/prometheus
#   ALERTMANAGER_IMAGE  Debian's prometheus-alertmanager: /bin/alertmanager
#
# Each local image is a minimal root file system (binaries plus exactly the
# shared libraries `ldd` lists) loaded with `tar | docker import`, shaped like
# the official image it stands for: same entrypoint, same user (decred 10002,
# nobody 65534), same data directories. The finished root file systems (tar
# files) are kept under ${DCRVOTED_CACHE:-~/.cache/dcrvoted}/compose-images/,
# so a Docker engine that lost its images gets them back without the network.
# An image is remade only when what goes into it changed (label
# dcrvoted.compose.key). Also makes sure a compose CLI exists: `docker compose`
# if the plugin is there, else docker-compose (Debian's, installed when
# missing and running as root).
#
#   scripts/compose-local-images.sh                      # prints KEY=VALUE lines on stdout:
#     DECRED_IMAGE=… DCRVOTED_IMAGE=… PROMETHEUS_IMAGE=… ALERTMANAGER_IMAGE=… COMPOSE=<compose CLI>
#   scripts/compose-local-images.sh --env-file deploy/.env   # and sets them for compose
#
# Options: --env-file FILE  also set the four image variables in FILE, keeping
#          its other lines (compose reads deploy/.env by itself).
# Messages and step times go to stderr.
set -euo pipefail

cd "$(dirname "$0")/.."

CACHE="${DCRVOTED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dcrvoted}"
DIR="$CACHE/compose-images"
# Bump when a rootfs recipe below changes: cached tars and images are remade.
RECIPE=2
ENV_FILE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --env-file) ENV_FILE="${2:?--env-file needs a file name}"; shift 2 ;;
    -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
    *) echo "[compose-images] unknown argument: $1" >&2; exit 2 ;;
  esac
done

say() { echo "[compose-images] $*" >&2; }
# The working directory is the repository root here (see the cd above).
# shellcheck source=scripts/lib/build-common.sh
. scripts/lib/build-common.sh
die() { echo "[compose-images] ERROR: $*" >&2; exit 1; }


WORK=""
trap '[ -z "$WORK" ] || rm -rf "$WORK"' EXIT

# ---- helpers -----------------------------------------------------------------


# new_rootfs DIR: the skeleton every image here shares.
new_rootfs() {
  local r="$1"
  mkdir -p "$r"/{usr/bin,usr/lib,usr/lib64,usr/local/bin,etc,tmp,proc,sys,dev,run}
  ln -s usr/bin "$r/bin"
  ln -s usr/lib "$r/lib"
  ln -s usr/lib64 "$r/lib64"
  ln -s usr/bin "$r/sbin"
  chmod 1777 "$r/tmp"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$r/etc/nsswitch.conf"
  printf '127.0.0.1 localhost\n::1 localhost\n' >"$r/etc/hosts"
  : >"$r/etc/resolv.conf"
}

# pack ROOTFS TAR UID:GID DIR...: a tar of the rootfs owned by root, with the
# named directories (created empty) owned by UID:GID. tar's --owner options
# do this without chown, so no root is needed.
pack() {
  local rootfs="$1" tar="$2" owner="$3" d
  shift 3
  tar -C "$rootfs" --numeric-owner --owner=0 --group=0 -cf "$tar.tmp" .
  local data="$WORK/data-dirs"
  rm -rf "$data"
  mkdir -p "$data"
  for d in "$@"; do mkdir -p "$data/$d"; chmod 0755 "$data/$d"; done
  (cd "$data" && tar --numeric-owner --owner="${owner%%:*}" --group="${owner##*:}" -rf "$tar.tmp" "$@")
  mv -f "$tar.tmp" "$tar"
}

# image_current IMAGE KEY: the image exists and was made from KEY.
image_current() {
  [ "$(docker image inspect -f '{{index .Config.Labels "dcrvoted.compose.key"}}' "$1" 2>/dev/null || true)" = "$2" ]
}

# import TAR IMAGE KEY CHANGE...: docker import with the given Dockerfile
# instructions, labelled with KEY; removes the image it replaces.
import_tar() {
  local tar="$1" image="$2" key="$3" old
  shift 3
  local -a changes=()
  local c
  for c in "$@"; do changes+=(--change "$c"); done
  old="$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)"
  docker import "${changes[@]}" --change "LABEL dcrvoted.compose.key=$key" "$tar" "$image" >/dev/null
  if [ -n "$old" ] && [ "$(docker image inspect -f '{{len .RepoTags}}' "$old" 2>/dev/null || echo 1)" = 0 ]; then
    docker rmi "$old" >/dev/null 2>&1 || true
  fi
  say "imported $image ($(( $(stat -c %s "$tar") / 1000000 )) MB tar)"
}

sha() { sha256sum "$@" | sha256sum | cut -c1-16; }

# ---- docker engine and compose CLI --------------------------------------------
COMPOSE=""
engine() {
  bash scripts/start-docker.sh >&2
  docker info >/dev/null 2>&1 || die "no docker engine answers"
  if docker compose version >/dev/null 2>&1; then
    COMPOSE="docker compose"
  else
    if ! command -v docker-compose >/dev/null 2>&1; then
      [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
        || die "neither \`docker compose\` nor docker-compose is installed (install docker-compose-plugin or Debian's docker-compose)"
      say "installing Debian's docker-compose (the compose plugin is not packaged by Debian 12)"
      export DEBIAN_FRONTEND=noninteractive
      apt-get install -y -qq --no-install-recommends docker-compose >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends docker-compose >/dev/null; } \
        || die "apt-get install docker-compose failed"
    fi
    COMPOSE="docker-compose"
  fi
  say "compose: $COMPOSE ($($COMPOSE version --short 2>/dev/null || $COMPOSE version 2>/dev/null | head -n1))"
}

# ---- dcrd + dcrwallet ----------------------------------------------------------
DECRED_IMAGE="${LOCAL_DECRED_IMAGE:-dcrvoted-decred:local}"
decred() {
  local out dcrd dcrwallet key tar rootfs tool path
  out="$(bash scripts/build-nodes.sh)" || die "scripts/build-nodes.sh failed"
  dcrd="$(sed -n 's/^DCRD_BIN=//p' <<<"$out")"
  dcrwallet="$(sed -n 's/^DCRWALLET_BIN=//p' <<<"$out")"
  [ -x "$dcrd" ] && [ -x "$dcrwallet" ] || die "build-nodes.sh gave no binaries"
  key="r$RECIPE-$(sha "$dcrd" "$dcrwallet" deploy/compose/decred-entrypoint.sh "$(command -v dash || command -v sh)")"
  if image_current "$DECRED_IMAGE" "$key"; then
    say "$DECRED_IMAGE is current ($key)"
    return
  fi
  mkdir -p "$DIR"
  tar="$DIR/decred-$key.tar"
  if [ ! -s "$tar" ]; then
    WORK="$(mktemp -d)"
    rootfs="$WORK/rootfs"
    new_rootfs "$rootfs"
    install -m 0755 "$dcrd" "$rootfs/usr/local/bin/dcrd"
    install -m 0755 "$dcrwallet" "$rootfs/usr/local/bin/dcrwallet"
    # The entrypoint's shell and tools (static Go binaries need nothing else).
    copy_with_libs "$rootfs" "$(command -v dash || command -v sh)" /usr/bin/sh
    for tool in cat chmod grep ls mkdir rm sleep; do
      path="$(command -v "$tool")" || die "$tool is needed for the decred image"
      copy_with_libs "$rootfs" "$path" "/usr/bin/$tool"
    done
    install -m 0755 deploy/compose/decred-entrypoint.sh "$rootfs/usr/local/bin/decred-entrypoint.sh"
    printf 'root:x:0:0:root:/root:/bin/sh\ndecred:x:10002:10002:decred:/data:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$rootfs/etc/passwd"
    printf 'root:x:0:\ndecred:x:10002:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
    pack "$rootfs" "$tar" 10002:10002 data certs
    rm -rf "$WORK"; WORK=""
    find "$DIR" -maxdepth 1 -name 'decred-*.tar' ! -name "decred-$key.tar" -delete
  fi
  import_tar "$tar" "$DECRED_IMAGE" "$key" \
    'ENV PATH=/usr/local/bin:/usr/bin:/bin' 'USER 10002:10002' 'WORKDIR /data' 'VOLUME ["/data"]' \
    'ENTRYPOINT ["/bin/sh", "/usr/local/bin/decred-entrypoint.sh"]' 'CMD ["dcrd"]'
}

# ---- Prometheus and Alertmanager from Debian ----------------------------------
# debian_image PACKAGE BINARY NAME IMAGE_REPO DATA_DIR VAR: /usr/bin/BINARY
# of the package becomes /bin/NAME (the official image's entrypoint); the
# image is IMAGE_REPO:<upstream version>-debian, its name is stored in VAR.
PROMETHEUS_IMAGE=""
ALERTMANAGER_IMAGE=""
apt_updated=0
debian_image() {
  local pkg="$1" bin="$2" name="$3" repo="$4" datadir="$5" var="$6" tar version key deb image rootfs
  # A cached rootfs of this recipe is used without asking apt (no network).
  tar="$(ls -t "$DIR/$pkg"_*"-r$RECIPE.tar" 2>/dev/null | head -n1 || true)"
  if [ -z "$tar" ]; then
    mkdir -p "$DIR/debs"
    version="$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')"
    if [ -z "$version" ] || [ "$version" = "(none)" ]; then
      [ "$apt_updated" = 1 ] || { say "apt-get update (no candidate for $pkg)"; apt-get update -qq >/dev/null 2>&1 || true; apt_updated=1; }
      version="$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')"
    fi
    [ -n "$version" ] && [ "$version" != "(none)" ] || die "Debian package $pkg is not available (apt-get update?)"
    deb="$(ls "$DIR/debs/${pkg}_"*.deb 2>/dev/null | head -n1 || true)"
    if [ -z "$deb" ]; then
      say "downloading Debian's $pkg $version"
      (cd "$DIR/debs" && apt-get download -q "$pkg=$version" >/dev/null 2>&1) \
        || (cd "$DIR/debs" && apt-get download "$pkg" >&2) || die "apt-get download $pkg failed"
      deb="$(ls "$DIR/debs/${pkg}_"*.deb | head -n1)"
    fi
    WORK="$(mktemp -d)"
    dpkg-deb -x "$deb" "$WORK/pkg"
    [ -x "$WORK/pkg/usr/bin/$bin" ] || die "$deb has no /usr/bin/$bin"
    version="$(dpkg-deb -f "$deb" Version)"
    rootfs="$WORK/rootfs"
    new_rootfs "$rootfs"
    copy_with_libs "$rootfs" "$WORK/pkg/usr/bin/$bin" "/usr/bin/$name"
    [ ! -x "$WORK/pkg/usr/bin/amtool" ] || copy_with_libs "$rootfs" "$WORK/pkg/usr/bin/amtool" /usr/bin/amtool
    [ ! -x "$WORK/pkg/usr/bin/promtool" ] || copy_with_libs "$rootfs" "$WORK/pkg/usr/bin/promtool" /usr/bin/promtool
    # Prometheus' console templates and static web files, where Debian's build looks for them.
    [ ! -d "$WORK/pkg/usr/share/prometheus" ] || { mkdir -p "$rootfs/usr/share"; cp -a "$WORK/pkg/usr/share/prometheus" "$rootfs/usr/share/"; }
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$rootfs/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
    tar="$DIR/${pkg}_${version//[^A-Za-z0-9.+~-]/_}-r$RECIPE.tar"
    pack "$rootfs" "$tar" 65534:65534 "${datadir#/}"
    rm -rf "$WORK"; WORK=""
    rm -f "$deb"
  fi
  version="$(basename "$tar" .tar)"; version="${version#"${pkg}_"}"; version="${version%-r"$RECIPE"}"
  key="r$RECIPE-$pkg-$version-$(stat -c %s "$tar")"
  image="$repo:${version%%[-+]*}-debian"
  if image_current "$image" "$key"; then
    say "$image is current ($key)"
  else
    import_tar "$tar" "$image" "$key" \
      'ENV PATH=/usr/bin:/bin' 'USER 65534:65534' "WORKDIR $datadir" "VOLUME [\"$datadir\"]" \
      "ENTRYPOINT [\"/bin/$name\"]"
  fi
  printf -v "$var" '%s' "$image"
}
prometheus() { debian_image prometheus prometheus prometheus dcrvoted-compose-prometheus /prometheus PROMETHEUS_IMAGE; }
alertmanager() { debian_image prometheus-alertmanager prometheus-alertmanager alertmanager dcrvoted-compose-alertmanager /alertmanager ALERTMANAGER_IMAGE; }

# ---- dcrvoted ---------------------------------------------------------------------
DCRVOTED=""
dcrvoted() {
  if [ -n "${DCRVOTED_IMAGE:-}" ]; then
    docker image inspect "$DCRVOTED_IMAGE" >/dev/null 2>&1 || die "DCRVOTED_IMAGE=$DCRVOTED_IMAGE does not exist"
    DCRVOTED="$DCRVOTED_IMAGE"
    say "dcrvoted: $DCRVOTED (DCRVOTED_IMAGE, not built here)"
    return
  fi
  local version
  version="$(node -p "require('./package.json').version")"
  bash scripts/build-image.sh >&2 || die "scripts/build-image.sh failed"
  DCRVOTED="dcrvoted:$version"
}

# ---- smoke: every image starts its program --------------------------------------
smoke() {
  docker run --rm --network none --entrypoint /usr/local/bin/dcrd "$DECRED_IMAGE" --version >/dev/null \
    || die "$DECRED_IMAGE cannot run dcrd"
  docker run --rm --network none --entrypoint /usr/local/bin/dcrwallet "$DECRED_IMAGE" --version >/dev/null \
    || die "$DECRED_IMAGE cannot run dcrwallet"
  docker run --rm --network none --entrypoint /bin/sh "$DECRED_IMAGE" -n /usr/local/bin/decred-entrypoint.sh \
    || die "$DECRED_IMAGE: the entrypoint does not parse"
  docker run --rm --network none --entrypoint /bin/sh "$DECRED_IMAGE" -c \
    'for t in cat chmod grep mkdir rm sleep; do command -v $t >/dev/null || { echo "$t is missing"; exit 1; }; done' \
    || die "$DECRED_IMAGE lacks a tool decred-entrypoint.sh uses"
  docker run --rm --network none "$PROMETHEUS_IMAGE" --version >/dev/null 2>&1 || die "$PROMETHEUS_IMAGE cannot run prometheus"
  docker run --rm --network none "$ALERTMANAGER_IMAGE" --version >/dev/null 2>&1 || die "$ALERTMANAGER_IMAGE cannot run alertmanager"
}

step engine engine
step decred decred
step prometheus prometheus
step alertmanager alertmanager
step dcrvoted dcrvoted
step smoke smoke

say "timings:"
for t in "${TIMINGS[@]}"; do say "  $t"; done
say "done in $(( $(now) - t_start ))s"

vars="DECRED_IMAGE=$DECRED_IMAGE
DCRVOTED_IMAGE=$DCRVOTED
PROMETHEUS_IMAGE=$PROMETHEUS_IMAGE
ALERTMANAGER_IMAGE=$ALERTMANAGER_IMAGE"
if [ -n "$ENV_FILE" ]; then
  # Replace only these four settings; keep everything else in the file.
  { [ ! -f "$ENV_FILE" ] || grep -vE '^(DECRED|DCRVOTED|PROMETHEUS|ALERTMANAGER)_IMAGE=' "$ENV_FILE" || true; printf '%s\n' "$vars"; } >"$ENV_FILE.tmp"
  mv -f "$ENV_FILE.tmp" "$ENV_FILE"
  say "set the four image variables in $ENV_FILE"
fi
printf '%s\nCOMPOSE=%s\n' "$vars" "$COMPOSE"
