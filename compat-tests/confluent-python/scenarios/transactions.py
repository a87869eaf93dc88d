"""Transactions: init, a committed and an aborted transaction, and one that commits consumer
offsets (send_offsets_to_transaction); read_committed sees only committed records."""

from common import admin, bootstrap, check, consume, consumer, create_topic, run, unique_name
from confluent_kafka import Producer, TopicPartition


def body():
    topic = unique_name("txn")
    create_topic(admin(), topic, 2)
    producer = Producer({"bootstrap.servers": bootstrap(), "transactional.id": topic + "-tid"})
    producer.init_transactions(30)

    producer.begin_transaction()
    for i in range(4):
        producer.produce(topic, value=b"committed %d" % i, partition=i % 2)
    producer.commit_transaction(30)

    producer.begin_transaction()
    for i in range(2):
        producer.produce(topic, value=b"aborted %d" % i, partition=i % 2)
    producer.flush(30)
    producer.abort_transaction(30)

    # A consume-transform-produce step: the offsets commit atomically with the output.
    source_group = topic + "-ctp"
    c = consumer(source_group, **{"isolation.level": "read_committed"})
    c.subscribe([topic])
    try:
        got = consume(c, 4)
        check(len(got) == 4, "read_committed input: %d of 4" % len(got))
        producer.begin_transaction()
        producer.produce(topic, value=b"derived", partition=0)
        producer.send_offsets_to_transaction(c.position(c.assignment()), c.consumer_group_metadata(), 30)
        producer.commit_transaction(30)
        committed = c.committed([TopicPartition(topic, 0), TopicPartition(topic, 1)], timeout=30)
        check(sorted(tp.offset for tp in committed) == sorted(tp.offset for tp in c.position(c.assignment())),
              "offsets committed in the transaction %r" % [(tp.partition, tp.offset) for tp in committed])
        check(all(tp.offset > 0 for tp in committed), "committed offsets %r" % [(tp.partition, tp.offset) for tp in committed])
    finally:
        c.close()

    rc = consumer(topic + "-rc", **{"isolation.level": "read_committed"})
    rc.subscribe([topic])
    try:
        # Ask for one more than expected so an aborted record that leaked through would show.
        values = sorted(m.value() for m in consume(rc, 6, timeout_s=8))
    finally:
        rc.close()
    check(values == [b"committed 0", b"committed 1", b"committed 2", b"committed 3", b"derived"], "read_committed saw %r" % values)

    ru = consumer(topic + "-ru", **{"isolation.level": "read_uncommitted"})
    ru.subscribe([topic])
    try:
        all_values = [m.value() for m in consume(ru, 7)]
    finally:
        ru.close()
    check(sum(1 for v in all_values if v.startswith(b"aborted")) == 2, "read_uncommitted saw %r" % all_values)


run(body)
