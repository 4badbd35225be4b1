#!/usr/bin/env bash
# Build (once, then cached) a Docker image that boots a real systemd as PID 1,
# for test/e2e/systemd.test.ts: the shipped unit is installed in it and run
# the way a Debian server runs it. No image registry is involved.
#
#   scripts/build-systemd-image.sh          # prints image=<tag> and node=<path> last
#   REBUILD=1 scripts/build-systemd-image.sh  # remake the root file system
#
# What it makes, and where it is cached (${DCRVOTED_CACHE:-$HOME/.cache/dcrvoted}/systemd):
#   - a Debian root file system: `debootstrap --variant=minbase` of $SUITE
#     (default bookworm) plus systemd, systemd-sysv and dbus, with the units
#     that would reach into the host kernel from a container masked (sysctl,
#     kernel modules, binfmt, kernel file systems, gettys, ...). Kept as
#     rootfs-<key>.tar.gz, where <key> is a hash of the recipe (suite,
#     architecture, packages, masked units and the function that builds it),
#     so a changed recipe makes a new one and an unchanged one is never
#     rebuilt. The image dcrvoted-systemd:<suite>-<key> is imported from it
#     with `docker import` (reused while it exists).
#   - Node.js $NODE_SPEC (default 24) from the npm package node-linux-<arch>,
#     fetched once with npm into node-<arch>-<spec>/. It is not part of the
#     image: the test mounts it as /usr/bin/node, the path the unit runs.
#
# Cold (nothing cached): debootstrap from $DEBIAN_MIRROR (default: this
# host's Debian mirror, or DEBIAN_MIRROR), about a minute. Warm: seconds.
# Superseded images and tarballs of other recipes are removed (KEEP_OLD=1
# keeps them). Concurrent runs are serialised with flock.
#
# The image's command (/usr/local/sbin/container-boot) makes / a shared mount
# before exec'ing systemd: systemd does that itself on a real host but leaves
# it to the container manager inside a container, and LoadCredential= needs
# it (the credentials mount is made in a helper's mount namespace and must
# propagate back). It also makes a read-only cgroup2 mount writable (cgroup
# v2 hosts without --privileged). How to run the image: see the test.
#
# Needs: root (debootstrap), docker (scripts/start-docker.sh is run first),
# npm, tar, gzip, flock. debootstrap is installed with apt-get when missing.
set -euo pipefail

cd "$(dirname "$0")/.."

say() { echo "[systemd-image] $*"; }
# The working directory is the repository root here (see the cd above).
# shellcheck source=scripts/lib/build-common.sh
. scripts/lib/build-common.sh
die() { echo "[systemd-image] ERROR: $*" >&2; exit 1; }

SUITE="${SUITE:-bookworm}"
NODE_SPEC="${NODE_SPEC:-24}"
CACHE_DIR="${DCRVOTED_CACHE:-${HOME}/.cache/dcrvoted}/systemd"
IMAGE_REPO="${IMAGE_REPO:-dcrvoted-systemd}"
PACKAGES="systemd,systemd-sysv,dbus"
# Units that would act on the host kernel or hardware when systemd runs in a
# container that shares the host's kernel (and network namespace), or that
# only make noise there.
MASKED_UNITS="systemd-sysctl.service systemd-modules-load.service systemd-binfmt.service
proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount sys-kernel-config.mount
sys-kernel-debug.mount sys-kernel-tracing.mount sys-fs-fuse-connections.mount dev-hugepages.mount
systemd-pstore.service systemd-remount-fs.service systemd-firstboot.service systemd-random-seed.service
systemd-hwdb-update.service systemd-tmpfiles-setup-dev.service kmod-static-nodes.service
ldconfig.service systemd-machine-id-commit.service systemd-update-utmp.service
systemd-update-utmp-runlevel.service systemd-logind.service systemd-journald-audit.socket
getty.target getty@.service console-getty.service systemd-ask-password-wall.path
systemd-ask-password-console.path e2scrub_reap.service e2scrub_all.timer apt-daily.timer
apt-daily-upgrade.timer dpkg-db-backup.timer fstrim.timer"

case "$(uname -m)" in
  x86_64) ARCH=amd64; NODE_ARCH=x64 ;;
  aarch64) ARCH=arm64; NODE_ARCH=arm64 ;;
  *) die "unsupported architecture $(uname -m)" ;;
esac

# The first Debian mirror this host's apt uses (so a proxy or local mirror
# configured there is used here too); DEBIAN_MIRROR overrides it.
host_mirror() {
  local m
  m="$(grep -rhoE '(URIs:[[:space:]]*|^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?)https?://[^[:space:]]+/debian/?([[:space:]]|$)' \
        /etc/apt/sources.list /etc/apt/sources.list.d 2>/dev/null \
      | grep -oE 'https?://[^[:space:]]+' | head -1 || true)"
  echo "$m"
}
DEBIAN_MIRROR="${DEBIAN_MIRROR:-$(host_mirror)}"
[ -n "$DEBIAN_MIRROR" ] || die "no Debian mirror found in /etc/apt/sources.list*; set DEBIAN_MIRROR"


# make_rootfs DIR: the recipe. Everything that decides what ends up in the
# root file system is in this function or in the variables it reads (all of
# them are part of the cache key).
make_rootfs() {
  local root="$1" unit
  debootstrap --variant=minbase --arch="$ARCH" --include="$PACKAGES" "$SUITE" "$root" "$DEBIAN_MIRROR" \
    >"$root.debootstrap.log" 2>&1 || { tail -n 30 "$root.debootstrap.log" >&2; return 1; }
  rm -f "$root.debootstrap.log"
  for unit in $MASKED_UNITS; do ln -sf /dev/null "$root/etc/systemd/system/$unit"; done
  # An empty machine-id: systemd makes a transient one at each boot.
  : >"$root/etc/machine-id"
  rm -f "$root/var/lib/dbus/machine-id"
  echo dcrvoted-systemd-test >"$root/etc/hostname"
  cat >"$root/usr/local/sbin/container-boot" <<'EOF'
#!/bin/sh
# Boot systemd as PID 1 in a container: make / a shared mount (systemd does
# this on a real host, not in a container; LoadCredential= relies on it) and
# make a read-only cgroup2 mount writable, then become systemd.
set -e
mount --make-rshared /
if grep -q ' /sys/fs/cgroup cgroup2 ro' /proc/self/mounts; then
  mount -o remount,rw /sys/fs/cgroup
fi
exec /lib/systemd/systemd
EOF
  chmod 0755 "$root/usr/local/sbin/container-boot"
  rm -rf "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* \
    "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* "$root"/var/log/*.log
}

recipe_key() {
  { echo "suite=$SUITE arch=$ARCH packages=$PACKAGES"; echo "masked=$MASKED_UNITS"; declare -f make_rootfs; } \
    | sha256sum | cut -c1-16
}


WORK_DIR=""
trap '[ -z "$WORK_DIR" ] || rm -rf "$WORK_DIR"' EXIT

docker_engine() {
  bash scripts/start-docker.sh >/dev/null
  docker info >/dev/null 2>&1 || die "no docker engine answers (start dockerd, or run scripts/start-docker.sh)"
}

NODE_BIN=""
fetch_node() {
  local prefix="$CACHE_DIR/node-${NODE_ARCH}-${NODE_SPEC}" pkg="node-linux-${NODE_ARCH}"
  if [ ! -x "$prefix/node_modules/$pkg/bin/node" ]; then
    command -v npm >/dev/null || die "npm is needed to fetch ${pkg}@${NODE_SPEC}"
    say "fetching ${pkg}@${NODE_SPEC} from the npm registry into $prefix"
    rm -rf "$prefix.tmp"
    mkdir -p "$prefix.tmp"
    npm install --prefix "$prefix.tmp" --no-audit --no-fund --no-save --loglevel=error "${pkg}@${NODE_SPEC}" >/dev/null
    rm -rf "$prefix"
    mv "$prefix.tmp" "$prefix"
  fi
  NODE_BIN="$prefix/node_modules/$pkg/bin/node"
  say "node: $("$NODE_BIN" --version) ($NODE_BIN)"
}

KEY=""
IMAGE=""
TARBALL=""
rootfs_tarball() {
  if [ "${REBUILD:-0}" != 1 ] && [ -s "$TARBALL" ]; then
    say "root file system: cached $TARBALL"
    return
  fi
  [ "$(id -u)" -eq 0 ] || die "debootstrap needs root"
  if ! command -v debootstrap >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || die "debootstrap is missing and apt-get is not available"
    say "installing debootstrap"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends debootstrap >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; } \
      || die "cannot install debootstrap"
  fi
  WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/dcrvoted-systemd-rootfs.XXXXXX")"
  say "debootstrap $SUITE ($ARCH, +$PACKAGES) from $DEBIAN_MIRROR"
  make_rootfs "$WORK_DIR/rootfs" || die "building the root file system failed"
  tar -C "$WORK_DIR/rootfs" --numeric-owner -cf - . | gzip -1 >"$TARBALL.tmp"
  mv "$TARBALL.tmp" "$TARBALL"
  rm -rf "$WORK_DIR"
  WORK_DIR=""
  say "root file system: $TARBALL ($(du -h "$TARBALL" | cut -f1))"
}

import_image() {
  if [ "${REBUILD:-0}" != 1 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
    say "image: reusing $IMAGE"
    return
  fi
  docker import \
    --change 'ENV container=docker' \
    --change "LABEL dcrvoted.systemd.recipe=$KEY dcrvoted.systemd.suite=$SUITE" \
    --change 'CMD ["/usr/local/sbin/container-boot"]' \
    "$TARBALL" "$IMAGE" >/dev/null
  say "image: imported $IMAGE"
}

# Images and tarballs of other recipes.
tidy() {
  local tag f
  [ "${KEEP_OLD:-0}" != 1 ] || return 0
  for tag in $(docker image ls --format '{{.Repository}}:{{.Tag}}' "$IMAGE_REPO" 2>/dev/null); do
    [ "$tag" != "$IMAGE" ] || continue
    if docker rmi "$tag" >/dev/null 2>&1; then say "removed superseded $tag"; fi
  done
  for f in "$CACHE_DIR"/rootfs-*.tar.gz; do
    if [ -e "$f" ] && [ "$f" != "$TARBALL" ]; then rm -f "$f" && say "removed superseded $f"; fi
  done
  return 0
}

main() {
  mkdir -p "$CACHE_DIR"
  exec 9>"$CACHE_DIR/.lock"
  flock 9
  KEY="$(recipe_key)"
  IMAGE="$IMAGE_REPO:$SUITE-$KEY"
  TARBALL="$CACHE_DIR/rootfs-$SUITE-$KEY.tar.gz"
  step docker docker_engine
  step node fetch_node
  step rootfs rootfs_tarball
  step import import_image
  step tidy tidy
  say "timings:"
  for t in "${TIMINGS[@]}"; do say "  $t"; done
  say "done in $(( $(now) - t_start ))s"
  echo "image=$IMAGE"
  echo "node=$NODE_BIN"
}

main
