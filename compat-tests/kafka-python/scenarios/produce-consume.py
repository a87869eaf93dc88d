"""KafkaProducer (uncompressed and gzip, keys, headers, acks=all) and KafkaConsumer: record
metadata offsets, then every record back with its key, value and headers."""

from common import admin, bootstrap, check, consume, create_topic, run, unique_name
from kafka import KafkaConsumer, KafkaProducer

RECORDS = 200


def body():
    client = admin()
    try:
        for codec in (None, "gzip"):
            name = codec or "none"
            topic = unique_name("codec-" + name)
            create_topic(client, topic, 1)
            producer = KafkaProducer(bootstrap_servers=bootstrap(), compression_type=codec, acks="all", linger_ms=10)
            futures = [
                producer.send(topic, key=b"k%d" % i, value=b"%s %d" % (name.encode(), i), headers=[("i", str(i).encode())])
                for i in range(RECORDS)
            ]
            producer.flush(30)
            offsets = sorted(f.get(timeout=30).offset for f in futures)
            producer.close(10)
            check(offsets == list(range(RECORDS)), "%s: record metadata offsets are not 0..%d" % (name, RECORDS - 1))

            consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap(), group_id=topic + "-g",
                                     auto_offset_reset="earliest", enable_auto_commit=False)
            try:
                got = consume(consumer, RECORDS)
            finally:
                consumer.close()
            check(len(got) == RECORDS, "%s: consumed %d of %d" % (name, len(got), RECORDS))
            for i, r in enumerate(got):
                check(r.offset == i and r.key == b"k%d" % i and r.value == b"%s %d" % (name.encode(), i),
                      "%s: record %d is %r" % (name, i, (r.offset, r.key, r.value)))
                check(list(r.headers) == [("i", str(i).encode())], "%s: record %d headers %r" % (name, i, r.headers))
    finally:
        client.close()


run(body)
