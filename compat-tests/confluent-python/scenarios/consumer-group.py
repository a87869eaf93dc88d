"""Consumer groups: two members split the partitions and consume everything once; synchronous
commits; committed() matches; a member of the same group resumes after the commit; seek and
offsets_for_times / get_watermark_offsets."""

import time

from common import DEADLINE_S, admin, bootstrap, check, consume, consumer, create_topic, run, unique_name
from confluent_kafka import Producer, TopicPartition

PARTITIONS = 4
RECORDS = 100


def body():
    topic = unique_name("group")
    group = topic + "-g"
    create_topic(admin(), topic, PARTITIONS)
    a = consumer(group)
    b = consumer(group)
    a.subscribe([topic])
    b.subscribe([topic])
    seen = {}
    deadline = time.time() + DEADLINE_S
    try:
        # Produce only once both members hold partitions, so that the split is what is tested
        # (otherwise the first member to join could consume everything before the second one).
        while time.time() < deadline:
            for c in (a, b):
                for m in consume(c, 50, timeout_s=0.3):
                    seen[m.value()] = seen.get(m.value(), 0) + 1
            if a.assignment() and b.assignment() and len(a.assignment()) + len(b.assignment()) == PARTITIONS:
                break
        check(a.assignment() and b.assignment(), "the partitions were not split: %r" % ((a.assignment(), b.assignment()),))
        producer = Producer({"bootstrap.servers": bootstrap(), "acks": "all"})
        for i in range(RECORDS):
            producer.produce(topic, key=b"k%d" % i, value=b"%d" % i)
        check(producer.flush(30) == 0, "records left unflushed")
        while sum(seen.values()) < RECORDS and time.time() < deadline:
            for c in (a, b):
                for m in consume(c, 50, timeout_s=0.5):
                    seen[m.value()] = seen.get(m.value(), 0) + 1
        check(len(seen) == RECORDS, "consumed %d distinct of %d" % (len(seen), RECORDS))
        check(all(n == 1 for n in seen.values()), "some records consumed twice")
        assignments = (a.assignment(), b.assignment())
        check(len(assignments[0]) + len(assignments[1]) == PARTITIONS and assignments[0] and assignments[1],
              "assignment %r" % (assignments,))
        a.commit(asynchronous=False)
        b.commit(asynchronous=False)
        committed = a.committed([TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=30)
        total = 0
        for tp in committed:
            low, high = a.get_watermark_offsets(tp, timeout=10)
            check(tp.offset == high, "partition %d committed %d, high watermark %d" % (tp.partition, tp.offset, high))
            check(low == 0, "partition %d low watermark %d" % (tp.partition, low))
            total += high
        check(total == RECORDS, "high watermarks sum to %d" % total)
    finally:
        a.close()
        b.close()

    producer.produce(topic, key=b"late", value=b"late", partition=0)
    check(producer.flush(30) == 0, "late record unflushed")
    c = consumer(group)
    c.subscribe([topic])
    try:
        got = consume(c, 1)
        check([m.value() for m in got] == [b"late"], "resumed member got %r" % [m.value() for m in got])
        # offsets_for_times with timestamp 0 is the first offset; seek there and read again.
        found = c.offsets_for_times([TopicPartition(topic, 0, 0)], timeout=10)
        check(found[0].offset == 0, "offsets_for_times(0) = %d" % found[0].offset)
        c.seek(TopicPartition(topic, 0, 0))
        again = consume(c, 1)
        check(again and again[0].offset() == 0 and again[0].partition() == 0, "after seek(0): %r" % [(m.partition(), m.offset()) for m in again])
    finally:
        c.close()


run(body)
