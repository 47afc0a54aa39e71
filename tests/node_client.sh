#!/usr/bin/env bash
# A test whose client is an official JavaScript SDK from npm (tests/mcp_sdk, tests/otel_sdk):
# installs the folder's pinned packages (package-lock.json) into its node_modules, which git
# ignores, and runs node client.mjs ENGRAM WORKDIR [DB DB] there (or $ENGRAM_NODE_SCRIPT in
# place of client.mjs: the dashboard's bench.mjs).
# Usage: node_client.sh FOLDER ENGRAM [--postgres]. With --postgres the stores are two new
# databases on the server ENGRAM_TEST_POSTGRES_URL names (scripts/with-postgres); without one,
# exit 77 (skipped).
set -euo pipefail
folder="$1"
engram="$2"
postgres="${3:-}"
cd "$folder"
name="$(basename "$folder")"
command -v node >/dev/null || { echo "$name: node is not installed (Node.js 20 brings npm)" >&2; exit 1; }
dbs=()
if [[ "$postgres" == --postgres ]]; then
  server="${ENGRAM_TEST_POSTGRES_URL:-}"
  if [[ -z "$server" ]]; then
    echo "$name: skipped: ${ENGRAM_TEST_POSTGRES_SKIP:-ENGRAM_TEST_POSTGRES_URL is not set (make test sets it through scripts/with-postgres)}" >&2
    exit 77
  fi
  psql=psql
  [[ -x /usr/lib/postgresql/15/bin/psql ]] && psql=/usr/lib/postgresql/15/bin/psql
  names=("engram_${name}_a_$$" "engram_${name}_b_$$")
  for name in "${names[@]}"; do
    "$psql" -X -q -v ON_ERROR_STOP=1 "$server" -c "CREATE DATABASE $name"
    dbs+=("${server%/*}/$name")
  done
  drop() {
    for name in "${names[@]}"; do
      "$psql" -X -q "$server" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" || true
    done
  }
fi
# npm ci only when the lock file changed since the last install.
if ! cmp -s package-lock.json node_modules/.engram-installed-lock 2>/dev/null; then
  timeout 600 npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.engram-installed-lock
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"; if [[ ${#dbs[@]} -gt 0 ]]; then drop; fi' EXIT
node "${ENGRAM_NODE_SCRIPT:-client.mjs}" "$engram" "$work" "${dbs[@]}"
