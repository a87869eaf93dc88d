#!/usr/bin/env bash
# A chaos run: see chaos/src/run.ts for the options (`chaos/run.sh --help` prints them).
# Examples:
#   chaos/run.sh --target krill --duration-s 60 --seed 7 --faults kill,pause
#   chaos/run.sh --target kafka --duration-s 60 --seed 7          # three nodes, netns, all faults
# Writes chaos/out/<target>-<seed>-<time>/report.md (and result.json, history.jsonl).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
PATH="$("$root/scripts/ensure-node.sh"):$root/node_modules/.bin:$PATH"
export PATH
exec node --import tsx chaos/src/run.ts "$@"
