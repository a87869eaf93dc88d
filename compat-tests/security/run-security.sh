#!/usr/bin/env bash
# Runs the security scenarios (TLS, SASL) against the reference Apache Kafka and against Krill, both started
# by broker.sh from the same server.properties with --security tls. Exits non-zero when any
# scenario fails on either target.
#   run-security.sh [--target krill|kafka]   (default: both, Kafka first)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
node_bin=$("$root/scripts/ensure-node.sh")
export PATH="$node_bin:$root/node_modules/.bin:$PATH"
targets="kafka krill"
[ "${1:-}" = "--target" ] && targets=${2:?}
work="$here/../.work/security-$$"
mkdir -p "$work"
status=0
for target in $targets; do
  dir="$work/$target"
  bootstrap=$("$here/../broker.sh" start "$target" --dir "$dir" --security tls) || {
    echo "run-security: $target did not start" >&2
    status=1
    continue
  }
  (
    trap '"$here/../broker.sh" stop --dir "$dir"' EXIT
    export TARGET=$target RESULTS_FILE="$work/results.tsv" LOG_DIR="$work/logs" SCENARIO_TIMEOUT_S=300
    export BOOTSTRAP=$bootstrap SSL_BOOTSTRAP=$(cat "$dir/ssl-bootstrap") MTLS_BOOTSTRAP=$(cat "$dir/mtls-bootstrap")
    export SASL_BOOTSTRAP=$(cat "$dir/sasl-bootstrap")
    export CERTS_DIR="$dir/certs"
    "$here/run.sh"
  ) || status=1
done
# The producer_byte_rate and consumer_byte_rate measurements, side by side.
grep -h '^MEASURED' "$work"/logs/*/security/quota-*-rate.log 2>/dev/null || true
echo "run-security: results in $work/results.tsv, logs in $work/logs"
exit $status
