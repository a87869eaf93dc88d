#!/usr/bin/env bash
# @platformatic/kafka scenarios (this folder's own package, Node >= 22). Needs BOOTSTRAP; see
# ../lib/common.sh for the other inputs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/common.sh"
[ -d "$here/node_modules/@platformatic/kafka" ] ||
  { echo "platformatic: @platformatic/kafka is not installed; run scripts/install-compat-deps.sh" >&2 && exit 1; }

record_version platformatic "@platformatic/kafka $(node -p "require('$here/node_modules/@platformatic/kafka/package.json').version"), Node $(node -v)"
for scenario in admin produce-consume-codecs consumer-group transactions; do
  run_scenario platformatic "$scenario" node "$here/scenarios/$scenario.mjs"
done
finish_client
