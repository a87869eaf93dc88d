# kcat -L -J: the broker lists itself on loopback and an auto-created topic with one partition led
# by it.
set -euo pipefail
source "$(dirname "$0")/../../lib/assert.sh"
topic=$(unique_topic kcat-meta)
echo "hello" | kcat -b "$BOOTSTRAP" -P -t "$topic" -X message.timeout.ms=20000
json=$(kcat -b "$BOOTSTRAP" -L -J -t "$topic" -m 15)
summary=$(printf '%s' "$json" | /usr/bin/python3 -c '
import json, sys
m = json.load(sys.stdin)
brokers = m["brokers"]
topics = [t for t in m["topics"] if t["topic"] == sys.argv[1]]
assert len(brokers) == 1, "expected one broker, got %r" % brokers
assert len(topics) == 1, "topic missing from metadata"
t = topics[0]
assert "error" not in t, "topic error %r" % t.get("error")
parts = t["partitions"]
print("brokers=%d host=%s partitions=%d leader_is_broker=%s" % (
    len(brokers), brokers[0]["name"].rsplit(":", 1)[0], len(parts),
    parts[0]["leader"] == brokers[0]["id"]))
' "$topic")
assert_eq "$summary" "brokers=1 host=127.0.0.1 partitions=1 leader_is_broker=True" "metadata summary"
