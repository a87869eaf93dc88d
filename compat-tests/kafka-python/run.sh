#!/usr/bin/env bash
# kafka-python (Debian's python3-kafka). Needs BOOTSTRAP; see ../lib/common.sh for the other inputs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/common.sh"

record_version kafka-python "kafka-python $("$PYTHON" -c 'import kafka; print(kafka.__version__)'), Python $("$PYTHON" -c 'import platform; print(platform.python_version())')"
for scenario in admin produce-consume consumer-group; do
  run_scenario kafka-python "$scenario" "$PYTHON" "$here/scenarios/$scenario.py"
done
finish_client
