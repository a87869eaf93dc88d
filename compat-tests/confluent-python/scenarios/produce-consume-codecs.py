"""Producer with every librdkafka codec (none, gzip, snappy, lz4, zstd), keys and headers;
delivery reports carry consecutive offsets; a consumer reads back exactly what was sent."""

from common import admin, bootstrap, check, consume, consumer, create_topic, run, unique_name
from confluent_kafka import Producer

RECORDS = 300


def body():
    client = admin()
    for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
        topic = unique_name("codec-" + codec)
        create_topic(client, topic, 1)
        producer = Producer({"bootstrap.servers": bootstrap(), "compression.type": codec, "linger.ms": 20, "acks": "all"})
        delivered = []

        def on_delivery(err, msg, delivered=delivered):
            delivered.append(err if err else msg.offset())

        for i in range(RECORDS):
            producer.produce(topic, key=b"k%d" % i, value=(b"%s value %d " % (codec.encode(), i)) + b"y" * i,
                             headers=[("codec", codec.encode()), ("i", str(i).encode())], on_delivery=on_delivery)
        check(producer.flush(30) == 0, "%s: records left unflushed" % codec)
        errors = [d for d in delivered if not isinstance(d, int)]
        check(not errors, "%s: delivery errors %s" % (codec, errors[:3]))
        check(sorted(delivered) == list(range(RECORDS)), "%s: delivered offsets are not 0..%d" % (codec, RECORDS - 1))

        c = consumer(topic + "-g")
        c.subscribe([topic])
        try:
            got = consume(c, RECORDS)
        finally:
            c.close()
        check(len(got) == RECORDS, "%s: consumed %d of %d" % (codec, len(got), RECORDS))
        for i, m in enumerate(got):
            check(m.offset() == i, "%s: record %d at offset %d" % (codec, i, m.offset()))
            check(m.key() == b"k%d" % i, "%s: record %d key %r" % (codec, i, m.key()))
            check(m.value() == (b"%s value %d " % (codec.encode(), i)) + b"y" * i, "%s: record %d value" % (codec, i))
            check(m.headers() == [("codec", codec.encode()), ("i", str(i).encode())], "%s: record %d headers %r" % (codec, i, m.headers()))


run(body)
