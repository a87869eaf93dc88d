# Shared by every client's run.sh (sourced, not executed).
#
# Inputs (environment):
#   BOOTSTRAP            broker address host:port (required)
#   BROKER_DATA_DIR      the broker's log.dirs, for scenarios reading its segment files
#   TARGET               label of the broker under test (kafka|krill), recorded with each result
#   RESULTS_FILE         TSV file results are appended to (optional)
#   LOG_DIR              folder for per-scenario output (default: compat-tests/.work/logs)
#   SCENARIOS            space-separated scenario names to run; empty means all
#   SCENARIO_TIMEOUT_S   hard timeout per scenario (default 120); the scenario is killed after it
#   KNOWN_GAPS_FILE      scenarios allowed to fail on Krill (default compat-tests/known-gaps.txt)
#   LIST_SCENARIOS       when 1, run nothing and print "CLIENT SCENARIO" per scenario (run-all.sh
#                        uses it to mark every scenario failed when a broker does not start)
#
# Results rows (tab-separated): result TARGET CLIENT SCENARIO pass|fail DURATION_MS REASON
# Version rows:                 version CLIENT VERSION
if [ "${LIST_SCENARIOS:-0}" != 1 ]; then
  : "${BOOTSTRAP:?BOOTSTRAP must be set to the broker address, e.g. 127.0.0.1:9092}"
fi
: "${TARGET:=unknown}"
: "${SCENARIO_TIMEOUT_S:=120}"
compat_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${LOG_DIR:=$compat_root/.work/logs}"
export BOOTSTRAP TARGET
compat_failures=0
compat_ran=0

: "${KNOWN_GAPS_FILE:=$compat_root/known-gaps.txt}"

# is_known_gap CLIENT SCENARIO: listed in KNOWN_GAPS_FILE, and the target is Krill (the reference
# has no gaps: a failure there is a broken scenario).
is_known_gap() {
  [ "$TARGET" = krill ] && [ -f "$KNOWN_GAPS_FILE" ] &&
    awk -v c="$1" -v s="$2" '$1 == c && $2 == s { found = 1 } END { exit !found }' "$KNOWN_GAPS_FILE"
}

# The Debian-packaged Python clients are importable by the system interpreter only.
PYTHON=/usr/bin/python3

wants_scenario() {
  [ -z "${SCENARIOS:-}" ] && return 0
  local s
  for s in $SCENARIOS; do
    [ "$s" = "$1" ] && return 0
  done
  return 1
}

record_version() {
  [ "${LIST_SCENARIOS:-0}" = 1 ] && return 0
  local client=$1 version=$2
  if [ -n "${RESULTS_FILE:-}" ]; then
    printf 'version\t%s\t%s\n' "$client" "$version" >>"$RESULTS_FILE"
  fi
}

# run_scenario CLIENT SCENARIO CMD...: runs CMD under a hard timeout, records pass/fail, duration
# and (on failure) the last line of output as the reason. Never aborts the caller.
run_scenario() {
  local client=$1 scenario=$2
  shift 2
  wants_scenario "$scenario" || return 0
  if [ "${LIST_SCENARIOS:-0}" = 1 ]; then
    printf '%s %s\n' "$client" "$scenario"
    return 0
  fi
  mkdir -p "$LOG_DIR/$TARGET/$client"
  local log="$LOG_DIR/$TARGET/$client/$scenario.log"
  local started_ms ended_ms status rc reason
  started_ms=$(date +%s%3N)
  set +e
  timeout -k 5 "$SCENARIO_TIMEOUT_S" "$@" >"$log" 2>&1 </dev/null
  rc=$?
  set -e
  ended_ms=$(date +%s%3N)
  if [ "$rc" -eq 0 ]; then
    status=pass
    reason=""
  else
    status=fail
    compat_failures=$((compat_failures + 1))
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
      reason="timed out after ${SCENARIO_TIMEOUT_S}s"
    else
      # The scenario's own "FAIL: ..." line, else the last error-looking line, else the last line.
      reason=$(grep -E '^FAIL' "$log" | tail -n 1 || true)
      [ -n "$reason" ] || reason=$(grep -E '(Error|Exception)\b' "$log" | tail -n 1 || true)
      [ -n "$reason" ] || reason=$(grep -v '^[[:space:]]*$' "$log" | tail -n 1 || true)
      reason=$(printf '%s' "$reason" | cut -c1-200 | tr '\t' ' ')
      [ -n "$reason" ] || reason="exit code $rc"
    fi
  fi
  if is_known_gap "$client" "$scenario"; then
    if [ "$status" = fail ]; then
      compat_failures=$((compat_failures - 1))
      reason="[known gap] $reason"
    else
      echo "NOTE: $client $scenario passes on Krill now: remove it from ${KNOWN_GAPS_FILE#"$compat_root"/} and close its FINDINGS.md row" >&2
    fi
  fi
  compat_ran=$((compat_ran + 1))
  printf '%-5s %-18s %-28s %6s ms %s\n' "$status" "$client" "$scenario" "$((ended_ms - started_ms))" "$reason" >&2
  if [ -n "${RESULTS_FILE:-}" ]; then
    printf 'result\t%s\t%s\t%s\t%s\t%s\t%s\n' "$TARGET" "$client" "$scenario" "$status" \
      "$((ended_ms - started_ms))" "$reason" >>"$RESULTS_FILE"
  fi
}

# Ends a run.sh: non-zero when any scenario failed.
finish_client() {
  [ "$compat_failures" -eq 0 ]
}
