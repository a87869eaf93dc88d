"""Idempotent producer (enable.idempotence): many in-flight batches, every record exactly once
and in order per partition."""

from common import admin, bootstrap, check, consume, consumer, create_topic, run, unique_name
from confluent_kafka import Producer

RECORDS = 2000
PARTITIONS = 3


def body():
    topic = unique_name("idem")
    create_topic(admin(), topic, PARTITIONS)
    producer = Producer({"bootstrap.servers": bootstrap(), "enable.idempotence": True, "linger.ms": 5,
                         "batch.num.messages": 50, "max.in.flight.requests.per.connection": 5})
    for i in range(RECORDS):
        producer.produce(topic, value=b"%d" % i, partition=i % PARTITIONS)
    check(producer.flush(30) == 0, "records left unflushed")
    c = consumer(topic + "-g")
    c.subscribe([topic])
    try:
        got = consume(c, RECORDS)
    finally:
        c.close()
    check(len(got) == RECORDS, "consumed %d of %d" % (len(got), RECORDS))
    check(len({m.value() for m in got}) == RECORDS, "duplicates")
    for p in range(PARTITIONS):
        values = [int(m.value()) for m in got if m.partition() == p]
        check(values == sorted(values), "partition %d out of order" % p)
        offsets = [m.offset() for m in got if m.partition() == p]
        check(offsets == list(range(len(offsets))), "partition %d offsets are not contiguous from 0" % p)


run(body)
