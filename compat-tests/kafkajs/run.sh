#!/usr/bin/env bash
# kafkajs scenarios (the root devDependency), run with tsx. Needs BOOTSTRAP; see ../lib/common.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/common.sh"
root=$(cd "$here/../.." && pwd)

record_version kafkajs "kafkajs $(node -p "require('$root/node_modules/kafkajs/package.json').version"), Node $(node -v)"
for scenario in admin produce-codecs idempotent-producer consumer-group transactions seek pause-resume; do
  run_scenario kafkajs "$scenario" tsx "$here/scenarios/$scenario.ts"
done
finish_client
