#!/bin/sh
# Starts dcrd or dcrwallet with credentials taken from Docker secrets
# (/run/secrets/*) and written to a private config file, so no password is
# ever on a command line (visible in ps / docker inspect).
#   decred-entrypoint.sh dcrd [flags...]
#   decred-entrypoint.sh dcrwallet [flags...]     (--create works: interactive)
#   decred-entrypoint.sh <other command...>       runs it as is
#
# dcrd: DCRD_MININGADDR (miningaddr=, needed by `generate`, e.g. on simnet)
# and DCRD_LISTEN (listen=, the P2P address; default all interfaces) go into
# the config file when set.
#
# dcrwallet:
# - When the secret wallet-passphrase is mounted, the passphrase is given on
#   standard input. A wallet restored from a seed asks for it on its first
#   start (account discovery) and, without it, repeats the prompt forever.
# - When the secret wallet-seed is mounted and the network has no wallet yet,
#   the wallet is created from that seed (hex, or seed words on one line) with
#   the passphrase of wallet-passphrase, without prompts. The seed is never
#   printed; the mining addresses are. Meant for simnet/testnet stacks and
#   scripted restores; remove the secret once the wallet exists.
set -eu

secret() {
  f="/run/secrets/$1"
  if [ ! -r "$f" ]; then
    echo "decred-entrypoint: secret $1 is missing or unreadable ($f)" >&2
    exit 78
  fi
  IFS= read -r value <"$f" || [ -n "$value" ]
  printf '%s' "$value"
}

# Creates the wallet from the wallet-seed secret, answering dcrwallet
# --create's prompts on stdin: passphrase twice, no public-data encryption,
# an existing seed, the seed (and a blank line, which ends seed words); the
# birthday and xpub prompts that follow take the blank line / EOF as "no".
# Its output echoes the seed, so it goes to a private file of which only the
# mining addresses are shown (on failure, everything but the seed).
create_from_seed() {
  seed="$(secret wallet-seed)"
  pass="$(secret wallet-passphrase)"
  out=/data/.dcrwallet-create.out
  echo "decred-entrypoint: no wallet in /data/$netdir; creating it from the wallet-seed secret" >&2
  # shellcheck disable=SC2086
  if ! (umask 077; printf '%s\n%s\n%s\n%s\n%s\n\n' "$pass" "$pass" n y "$seed" \
        | dcrwallet --appdata=/data --configfile="$conf" $net --nofilelogging --create >"$out" 2>&1); then
    grep -v -F -e "$seed" -e "Hex:" "$out" >&2 || true
    rm -f "$out"
    echo "decred-entrypoint: creating the wallet from the wallet-seed secret failed" >&2
    exit 1
  fi
  grep -F "Mining address" "$out" >&2 || true
  rm -f "$out"
  echo "decred-entrypoint: wallet created in /data/$netdir" >&2
}

# dcrwallet writes its TLS certificate with mode 0600 whatever the umask, but
# dcrvoted (another uid) must read it to trust the wallet: make it 0644 now if
# it exists, else as soon as dcrwallet has written it (a watcher, detached so
# that init reaps it; it gives up after 10 minutes).
share_wallet_cert() {
  cert=/certs/dcrwallet/rpc.cert
  for arg in "$@"; do
    case "$arg" in --rpccert=*) cert="${arg#--rpccert=}" ;; esac
  done
  if [ -s "$cert" ]; then
    chmod 0644 "$cert"
    return 0
  fi
  ( (
    i=0
    while [ ! -s "$cert" ] && [ $i -lt 1200 ]; do sleep 0.5; i=$((i + 1)); done
    chmod 0644 "$cert" 2>/dev/null || true
  ) </dev/null >/dev/null 2>&1 & )
}

case "${DCR_NETWORK:-mainnet}" in
  mainnet) net="" ;;
  testnet) net="--testnet" ;;
  simnet) net="--simnet" ;;
  *) echo "decred-entrypoint: DCR_NETWORK must be mainnet, testnet or simnet" >&2; exit 78 ;;
esac

prog="${1:-dcrd}"
[ $# -gt 0 ] && shift
# Certificates written by dcrd/dcrwallet must stay world-readable (dcrvoted
# runs as another user); only the generated config files are private.
umask 022
case "$prog" in
  dcrd)
    mkdir -p /certs/dcrd
    conf=/data/dcrd-compose.conf
    (umask 077; {
      echo "[Application Options]"
      echo "rpcuser=${DCRD_RPCUSER:-dcrd}"
      echo "rpcpass=$(secret dcrd-password)"
      [ -z "${DCRD_MININGADDR:-}" ] || echo "miningaddr=${DCRD_MININGADDR}"
      [ -z "${DCRD_LISTEN:-}" ] || echo "listen=${DCRD_LISTEN}"
    } >"$conf")
    # shellcheck disable=SC2086
    exec dcrd --appdata=/data --configfile="$conf" $net "$@"
    ;;
  dcrwallet)
    mkdir -p /certs/dcrwallet
    # dcrd writes its certificate on first start; wait for it (up to 2 minutes).
    i=0
    while [ ! -s /certs/dcrd/rpc.cert ] && [ $i -lt 120 ]; do sleep 1; i=$((i + 1)); done
    conf=/data/dcrwallet-compose.conf
    (umask 077; {
      echo "[Application Options]"
      echo "dcrdusername=${DCRD_RPCUSER:-dcrd}"
      echo "dcrdpassword=$(secret dcrd-password)"
      echo "username=${WALLET_RPCUSER:-dcrwallet}"
      echo "password=$(secret wallet-jsonrpc-password)"
    } >"$conf")
    case "${DCR_NETWORK:-mainnet}" in
      testnet) netdir=testnet3 ;;
      *) netdir="${DCR_NETWORK:-mainnet}" ;;
    esac
    creating=0
    for arg in "$@"; do
      case "$arg" in --create|--createtemp|--create=*|--createtemp=*|--createwatchingonly*) creating=1 ;; esac
    done
    if [ "$creating" = 0 ] && [ ! -e "/data/$netdir/wallet.db" ] && [ -e /run/secrets/wallet-seed ]; then
      create_from_seed
    fi
    if [ "$creating" = 0 ]; then
      share_wallet_cert "$@"
    fi
    if [ "$creating" = 0 ] && [ -e /run/secrets/wallet-passphrase ]; then
      pass="$(secret wallet-passphrase)"
      # shellcheck disable=SC2086
      exec dcrwallet --appdata=/data --configfile="$conf" $net "$@" <<EOF
$pass
EOF
    fi
    # shellcheck disable=SC2086
    exec dcrwallet --appdata=/data --configfile="$conf" $net "$@"
    ;;
  *)
    exec "$prog" "$@"
    ;;
esac
