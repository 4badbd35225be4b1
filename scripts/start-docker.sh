#!/usr/bin/env bash
# Make a Docker engine available on this machine (idempotent).
#
#  1. If `docker info` already answers, do nothing.
#  2. If dockerd is missing, install Debian's docker.io (needs root + apt).
#  3. Start dockerd with --iptables=false --storage-driver=vfs (works inside
#     containers/VMs without iptables or overlayfs), clearing a stale pid file.
#  4. Wait (bounded, DOCKER_WAIT_SECONDS, default 60) for `docker info`.
#
# Exits non-zero with a message saying what failed. dockerd's log goes to
# ${DOCKERD_LOG:-/var/log/dockerd.log}.
set -euo pipefail

WAIT_SECONDS="${DOCKER_WAIT_SECONDS:-60}"
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/dockerd.log}"

say() { echo "[start-docker] $*"; }
die() { echo "[start-docker] ERROR: $*" >&2; exit 1; }

if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  say "docker engine already running ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  die "no docker engine answers and starting one needs root (run as root, or start dockerd yourself)"
fi

if ! command -v dockerd >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || die "dockerd is not installed and apt-get is not available to install docker.io"
  say "installing docker.io (apt-get update && apt-get install -y docker.io)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed"
  apt-get install -y -qq docker.io >/dev/null || die "apt-get install docker.io failed"
  command -v dockerd >/dev/null 2>&1 || die "docker.io installed but dockerd is still not on PATH"
  say "installed $(dockerd --version 2>/dev/null || echo dockerd)"
fi
command -v docker >/dev/null 2>&1 || die "docker CLI not found (install docker.io or docker-ce-cli)"

if pgrep -x dockerd >/dev/null 2>&1; then
  say "dockerd process exists but does not answer yet; waiting for it"
else
  pidfile=/var/run/docker.pid
  if [ -f "$pidfile" ]; then
    oldpid="$(cat "$pidfile" 2>/dev/null || true)"
    if [ -z "$oldpid" ] || ! kill -0 "$oldpid" 2>/dev/null; then
      say "removing stale $pidfile"
      rm -f "$pidfile"
    fi
  fi
  say "starting dockerd --iptables=false --storage-driver=vfs (log: $DOCKERD_LOG)"
  mkdir -p "$(dirname "$DOCKERD_LOG")"
  nohup dockerd --iptables=false --storage-driver=vfs >>"$DOCKERD_LOG" 2>&1 </dev/null &
  disown || true
fi

deadline=$(( $(date +%s) + WAIT_SECONDS ))
until docker info >/dev/null 2>&1; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    tail -n 20 "$DOCKERD_LOG" >&2 2>/dev/null || true
    die "docker engine did not answer within ${WAIT_SECONDS}s (see $DOCKERD_LOG)"
  fi
  sleep 1
done
say "docker engine ready ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
