# Shared by the scripts that build images (build-image.sh,
# compose-local-images.sh, build-systemd-image.sh): step timing, and copying
# a dynamically linked binary with its libraries into a root file system.
# Sourced, not run; the sourcing script defines say().

now() { date +%s; }

t_start=$(now)
declare -a TIMINGS=()

# step NAME COMMAND...: run it and record how long it took. A failure exits
# (set -e stays in force because the call is not in a condition).
step() {
  local name="$1" t0 took
  shift
  t0=$(now)
  "$@"
  took=$(( $(now) - t0 ))
  TIMINGS+=("$(printf '%-13s %4ss' "$name" "$took")")
  say "step $name: ${took}s"
}

# copy_with_libs ROOTFS FILE [DEST]: the file and every shared library ldd
# lists, at the paths the dynamic loader expects (/lib* -> /usr/lib*; the
# root file systems made here have /lib -> usr/lib symlinks).
copy_with_libs() {
  local rootfs="$1" bin="$2" dest="${3:-$2}" lib target
  install -D -m 0755 "$(readlink -f "$bin")" "$rootfs$dest"
  for lib in $(ldd "$bin" 2>/dev/null | grep -oE '(/[^ ]+)' || true); do
    [ -e "$lib" ] || continue
    case "$lib" in
      /lib/*|/lib64/*) target="/usr$lib" ;;
      *) target="$lib" ;;
    esac
    [ -e "$rootfs$target" ] || install -D -m 0755 "$(readlink -f "$lib")" "$rootfs$target"
  done
}
