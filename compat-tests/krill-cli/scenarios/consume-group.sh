# krill consume --group: a KIP-848 member that commits what it printed. Six of ten records, then
# the rest from the committed offsets; while a member runs, the group shows it and
# `group reset-offsets --execute` is refused (exit 1, Kafka's message); after SIGINT the member
# leaves (exit 0) and the reset goes through. Two members at once share the partitions.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
topic=$(unique_topic cli-cgroup)
group="$topic-group"
krill topic create "$topic" --partitions 2 >/dev/null
seq 1 10 | sed 's/.*/k&:&/' | krill produce "$topic" --key-separator :
first=$(krill consume "$topic" --group "$group" --from-beginning --count 6 2>/dev/null | wc -l)
assert_eq "$first" "6" "first member: six records"
desc=$(krill group describe "$group" 2>/dev/null)
committed=$(printf '%s\n' "$desc" | awk -v t="$topic" '$2 == t { s += $4 } END { print s }')
assert_eq "$committed" "6" "committed offsets add up to the six records printed"
rest=$(krill consume "$topic" --group "$group" --exit-at-end 2>/dev/null | sort -n | tr '\n' ' ')
all=$(krill consume "$topic" --from-beginning --exit-at-end 2>/dev/null | sort -n | tr '\n' ' ')
[ "$(printf '%s' "$rest" | wc -w)" -eq 4 ] || fail "second member: expected the four records left, got: $rest"
lag=$(krill group describe "$group" 2>/dev/null | awk -v t="$topic" '$2 == t { s += $6 } END { print s }')
assert_eq "$lag" "0" "no lag after both members"
assert_eq "$all" "1 2 3 4 5 6 7 8 9 10 " "the topic's records"
# A running member: listed, and resets are refused while it is there.
out=$(mktemp)
trap 'rm -f "$out" "$out.2"; [ -z "${pid:-}" ] || kill "$pid" 2>/dev/null || true; [ -z "${pid2:-}" ] || kill "$pid2" 2>/dev/null || true' EXIT
"$krill_bin" consume "$topic" --group "$group" --bootstrap-server "$BOOTSTRAP" --format '%p %o\n' >"$out" 2>&1 &
pid=$!
members=""
for _ in $(seq 1 60); do
  members=$(krill group describe "$group" --members 2>/dev/null | awk -v g="$group" '$1 == g' || true)
  [ -n "$members" ] && break
  sleep 0.5
done
[ -n "$members" ] || fail "the running member never showed in group describe --members"
set +e
refused=$(krill group reset-offsets "$group" --all-topics --to-earliest --execute 2>&1)
rc=$?
set -e
assert_eq "$rc" "1" "reset-offsets exit status with a member"
assert_contains "$refused" "Assignments can only be reset if the group '$group' is inactive, but the current state is" "reset refused while active"
# A second member joins: both end up with one partition each.
"$krill_bin" consume "$topic" --group "$group" --bootstrap-server "$BOOTSTRAP" >"$out.2" 2>&1 &
pid2=$!
shared=""
for _ in $(seq 1 60); do
  shared=$(krill group describe "$group" --members 2>/dev/null | awk -v g="$group" '$1 == g && $NF == 1' | wc -l)
  [ "$shared" -eq 2 ] && break
  sleep 0.5
done
assert_eq "$shared" "2" "two members with one partition each"
# New records reach the members; SIGINT ends each with status 0 after it committed and left.
seq 11 14 | krill produce "$topic"
for _ in $(seq 1 60); do
  [ "$(cat "$out" "$out.2" | grep -c -E '^(1[1-4]|[01] [0-9]+)$' || true)" -ge 4 ] && break
  sleep 0.5
done
kill -INT "$pid" "$pid2"
rc=0
wait "$pid" || rc=$?
assert_eq "$rc" "0" "first member's exit status after SIGINT"
rc=0
wait "$pid2" || rc=$?
assert_eq "$rc" "0" "second member's exit status after SIGINT"
pid="" pid2=""
assert_contains "$(cat "$out")" "Processed a total of" "summary after SIGINT"
lag=$(krill group describe "$group" 2>/dev/null | awk -v t="$topic" '$2 == t { s += $6 } END { print s }')
assert_eq "$lag" "0" "the members committed the new records before leaving"
reset=$(krill group reset-offsets "$group" --all-topics --to-earliest --execute)
assert_contains "$reset" "NEW-OFFSET" "reset after the members left"
krill group delete "$group" >/dev/null
krill topic delete "$topic"
