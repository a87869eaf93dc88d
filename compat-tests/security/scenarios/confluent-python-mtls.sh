# confluent-kafka (librdkafka) producer and consumer over mutual TLS, with the client key store as
# PKCS12 (ssl.keystore.location), and refused without a certificate.
set -euo pipefail
source "$(dirname "$0")/../../lib/assert.sh"
topic=$(unique_topic py-mtls)
out=$(/usr/bin/python3 - "$MTLS_BOOTSTRAP" "$CERTS_DIR" "$topic" <<'PY'
import sys
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient
bootstrap, certs, topic = sys.argv[1:4]
base = {"bootstrap.servers": bootstrap, "security.protocol": "SSL", "ssl.ca.location": certs + "/ca.pem"}
mtls = dict(base, **{"ssl.keystore.location": certs + "/client.p12", "ssl.keystore.password": "changeit1"})
# Without a client certificate the listener refuses: no metadata within the timeout.
try:
    md = AdminClient(dict(base)).list_topics(timeout=5)
    print("unexpected metadata", md.brokers)
    sys.exit(1)
except Exception as e:
    pass
p = Producer(dict(mtls, **{"message.timeout.ms": 20000}))
for i in range(5):
    p.produce(topic, key=b"k%d" % i, value=b"v%d" % i)
assert p.flush(30) == 0, "messages not delivered"
c = Consumer(dict(mtls, **{"group.id": "py-mtls", "auto.offset.reset": "earliest"}))
c.subscribe([topic])
got = []
for _ in range(60):
    m = c.poll(1.0)
    if m is None or m.error():
        continue
    got.append(m.value().decode())
    if len(got) == 5:
        break
c.close()
print(",".join(got))
PY
)
assert_eq "$out" "v0,v1,v2,v3,v4" "records over mutual TLS"
