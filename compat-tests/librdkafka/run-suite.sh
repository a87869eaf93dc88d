#!/usr/bin/env bash
# Runs librdkafka's own integration tests (its tests/ folder) against one single-node broker,
# Krill or the reference Apache Kafka, each test number in its own test-runner process, and writes
# one line per test to OUT/results.tsv (test, status, seconds, reason). See FINDINGS.md beside this file.
#
#   run-suite.sh --librdkafka DIR --target krill|kafka --out OUT [--from 0] [--to 150]
#                [--timeout 120] [--tests "0011 0033"]
#
# DIR is an existing librdkafka source tree already built (./configure && make && make -C tests
# build); this script neither downloads nor builds it. The broker comes from ../broker.sh with its
# generated server.properties (the same for both targets) and is stopped at the end. Local-only
# tests (mock cluster, unit tests) are skipped with test-runner's -L: they never reach the broker.
# Not quick mode (-Q would skip sub-tests). TEST_KAFKA_VERSION=4.4.0 for both targets, so the
# suite's version gates open the same tests on both.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
lrk="" target="" out="" from=0 to=150 per_test_timeout=120 tests=""
while [ $# -gt 0 ]; do
  case "$1" in
  --librdkafka) lrk=$2 && shift 2 ;;
  --target) target=$2 && shift 2 ;;
  --out) out=$2 && shift 2 ;;
  --from) from=$2 && shift 2 ;;
  --to) to=$2 && shift 2 ;;
  --timeout) per_test_timeout=$2 && shift 2 ;;
  --tests) tests=$2 && shift 2 ;;
  *) echo "run-suite.sh: unknown argument $1" >&2 && exit 2 ;;
  esac
done
[ -n "$lrk" ] && [ -n "$out" ] || {
  echo "usage: run-suite.sh --librdkafka DIR --target krill|kafka --out OUT" >&2
  exit 2
}
case "$target" in krill | kafka) ;; *) echo "run-suite.sh: --target krill|kafka" >&2 && exit 2 ;; esac
lrk=$(cd "$lrk" && pwd)
[ -x "$lrk/tests/test-runner" ] || {
  echo "run-suite.sh: $lrk/tests/test-runner is missing; build librdkafka and its tests first" >&2
  exit 2
}
mkdir -p "$out/logs"
out=$(cd "$out" && pwd)
broker_dir="$out/broker"

# summarize_one NNNN: one line per test of that number (a file may define several, e.g.
# 0033_regex_subscribe and 0033_regex_subscribe_local): name, status, seconds, reason; from the
# summary table test-runner prints at exit ("| 0011_produce_batch | PASSED | 3.2s |"), or one line
# TIMEOUT / CRASH(rc=N) when it printed none, ABSENT when no test has that number.
summarize_one() {
  local t=$1 log="$out/logs/$1.log" rc secs rows
  read -r rc secs <"$out/logs/$1.rc"
  rows=$(sed 's/\x1b\[[0-9;]*[A-Za-z]//g; s/\x1b([A-Za-z]//g' "$log" | grep -E "^\| ${t}_" || true)
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    printf '%s\tTIMEOUT\t%s\t\n' "$t" "$secs"
  elif [ -n "$rows" ]; then
    printf '%s\n' "$rows" | awk -F'|' -v secs="$secs" '{
      for (i = 2; i <= 5; i++) gsub(/^ +| +$/, "", $i)
      printf "%s\t%s\t%s\t%s\n", $2, $3, secs, $5 }'
  elif ! grep -q "${t}_" "$log"; then
    printf '%s\tABSENT\t%s\t\n' "$t" "$secs"
  else
    printf '%s\tCRASH(rc=%s)\t%s\t%s\n' "$t" "$rc" "$secs" \
      "$(sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$log" | grep -A1 -m1 '^### Test' | tail -n 1)"
  fi
}

cleanup() { "$here/../broker.sh" stop --dir "$broker_dir" || true; }
trap cleanup EXIT

# The suite's "default" scenario (tests/scenarios/default.json): auto-created topics get 4
# partitions. Kafka's StandardAuthorizer, everything allowed until a test adds ACLs (0081 creates
# and deletes ACLs, 0109/0115/0119 deny a topic with kafka-acls.sh and expect the client refused).
bootstrap=$("$here/../broker.sh" start "$target" --dir "$broker_dir" --property num.partitions=4 \
  --property authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer \
  --property allow.everyone.if.no.acl.found=true)
printf 'bootstrap.servers=%s\n' "$bootstrap" >"$out/test.conf"
# A few tests run $KAFKA_PATH/bin/kafka-{topics,acls,configs}.sh (--bootstrap-server $BROKERS), or
# build small Java programs against $KAFKA_PATH/libs/kafka-clients-*.jar and run them with
# $KAFKA_PATH/bin/kafka-run-class.sh (as under trivup): here Kafka 4.4.0's, from the compat suite's
# Maven classpath, for both targets.
classpath_file="$here/../.cache/kafka-4.4.0.classpath"
mkdir -p "$out/kafka-path/bin" "$out/kafka-path/libs"
cat >"$out/kafka-path/bin/kafka-topics.sh" <<SH
#!/usr/bin/env bash
source "$here/../java/kafka-tool.sh"
kafka_tool kafka-topics "\$@"
SH
cat >"$out/kafka-path/bin/kafka-acls.sh" <<SH
#!/usr/bin/env bash
source "$here/../java/kafka-tool.sh"
kafka_tool kafka-acls "\$@"
SH
cat >"$out/kafka-path/bin/kafka-configs.sh" <<SH
#!/usr/bin/env bash
source "$here/../java/kafka-tool.sh"
kafka_tool kafka-configs "\$@"
SH
cat >"$out/kafka-path/bin/kafka-run-class.sh" <<SH
#!/usr/bin/env bash
exec java -Xmx256m -XX:+UseSerialGC -cp "\${CLASSPATH:+\$CLASSPATH:}\$(cat "$classpath_file")" "\$@"
SH
chmod +x "$out/kafka-path/bin/"*.sh
ln -sf "$(tr ':' '\n' <"$classpath_file" | grep -m1 '/kafka-clients-[0-9.]*\.jar$')" "$out/kafka-path/libs/"
: >"$out/results.tsv"

if [ -z "$tests" ]; then
  tests=$(seq -f '%04g' "$from" "$to")
fi
cd "$lrk/tests"
export LD_LIBRARY_PATH="$lrk/src:$lrk/src-cpp" RDKAFKA_TEST_CONF="$out/test.conf" TEST_KAFKA_VERSION=4.4.0 \
  KAFKA_PATH="$out/kafka-path" BROKERS="$bootstrap"
for t in $tests; do
  start=$(date +%s)
  rc=0
  TESTS=$t timeout -k 10 "$per_test_timeout" ./test-runner -L >"$out/logs/$t.log" 2>&1 || rc=$?
  secs=$(($(date +%s) - start))
  printf '%s\t%s\n' "$rc" "$secs" >"$out/logs/$t.rc"
  summarize_one "$t" | tee -a "$out/results.tsv"
  # The broker must still be serving; otherwise the remaining tests say nothing about it.
  if ! kill -0 "$(cat "$broker_dir/broker.pid")" 2>/dev/null; then
    printf '%s\tBROKER-DIED\t\t\n' "$t" | tee -a "$out/results.tsv"
    exit 1
  fi
done
