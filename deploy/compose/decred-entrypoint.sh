#!/bin/sh
# Starts dcrd or dcrwallet with credentials taken from Docker secrets
# (/run/secrets/*) and written to a private config file, so no password is
# ever on a command line (visible in ps / docker inspect).
#   decred-entrypoint.sh dcrd [flags...]
#   decred-entrypoint.sh dcrwallet [flags...]     (--create works: interactive)
#   decred-entrypoint.sh <other command...>       runs it as is
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
    # shellcheck disable=SC2086
    exec dcrwallet --appdata=/data --configfile="$conf" $net "$@"
    ;;
  *)
    exec "$prog" "$@"
    ;;
esac
