"""Consumer group: consume, commit synchronously, committed(); a new member of the group resumes at
the commit; seek, beginning/end offsets and offsets_for_times; the admin client lists the group
and its offsets."""

import time

from common import admin, bootstrap, check, consume, create_topic, run, unique_name
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

PARTITIONS = 2
RECORDS = 50


def new_consumer(topic, group):
    return KafkaConsumer(topic, bootstrap_servers=bootstrap(), group_id=group, auto_offset_reset="earliest",
                         enable_auto_commit=False)


def body():
    client = admin()
    topic = unique_name("group")
    group = topic + "-g"
    try:
        create_topic(client, topic, PARTITIONS)
        start_ms = int(time.time() * 1000) - 1000
        producer = KafkaProducer(bootstrap_servers=bootstrap(), acks="all")
        for i in range(RECORDS):
            producer.send(topic, key=b"k%d" % i, value=b"%d" % i)
        producer.flush(30)

        c = new_consumer(topic, group)
        try:
            got = consume(c, RECORDS)
            check(len(got) == RECORDS and len({r.value for r in got}) == RECORDS, "consumed %d of %d" % (len(got), RECORDS))
            c.commit()
            tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
            ends = c.end_offsets(tps)
            check(sum(ends.values()) == RECORDS, "end offsets %r" % ends)
            check(all(v == 0 for v in c.beginning_offsets(tps).values()), "beginning offsets")
            for tp in tps:
                check(c.committed(tp) == ends[tp], "committed %r for %r, end %r" % (c.committed(tp), tp, ends[tp]))
            times = c.offsets_for_times({tp: start_ms for tp in tps})
            check(all(t is not None and t.offset == 0 for t in times.values()), "offsets_for_times %r" % times)
            busiest = max(tps, key=lambda tp: ends[tp])
            c.seek(busiest, 1)
            again = consume(c, 1)
            check(again and again[0].offset == 1 and again[0].partition == busiest.partition,
                  "after seek(1): %r" % [(r.partition, r.offset) for r in again])
        finally:
            c.close()

        groups = [g[0] for g in client.list_consumer_groups()]
        check(group in groups, "list_consumer_groups misses %s" % group)
        offsets = client.list_consumer_group_offsets(group)
        check(sum(o.offset for o in offsets.values()) == RECORDS, "admin group offsets %r" % offsets)

        producer.send(topic, key=b"late", value=b"late")
        producer.flush(30)
        producer.close(10)
        c = new_consumer(topic, group)
        try:
            late = consume(c, 1)
            check([r.value for r in late] == [b"late"], "resumed member got %r" % [r.value for r in late])
        finally:
            c.close()
    finally:
        client.close()


run(body)
