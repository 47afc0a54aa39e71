#!/usr/bin/env bash
# Installs the pinned MCP TypeScript SDK (package-lock.json) into tests/mcp_sdk/node_modules,
# which git ignores, and drives engram with it: node client.mjs ENGRAM WORKDIR.
set -euo pipefail
engram="$1"
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
command -v node >/dev/null || { echo "mcp_sdk: node is not installed (Node.js 20 brings npm)" >&2; exit 1; }
# npm ci only when the lock file changed since the last install.
if ! cmp -s package-lock.json node_modules/.engram-installed-lock 2>/dev/null; then
  timeout 600 npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.engram-installed-lock
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
node client.mjs "$engram" "$work"
