"""kill -9 of the group coordinator's node under a consumer group that commits offsets (issue 16):
__consumer_offsets with replication factor 3, a consumer reading an RF=3 topic and committing
after each batch, the node leading the group's __consumer_offsets partition killed. Checked: the
offsets committed before the kill are still there when the new coordinator is asked (none lost),
commits succeed again (the time is printed, not asserted), consumption resumes and reaches the end,
every record is consumed, and after the node restarts the group's final offsets are the end offsets
through every node."""

import time

from cluster import (
    NODES,
    STEP_TIMEOUT_S,
    bootstrap,
    check,
    coordinator,
    create_topic,
    kill,
    log,
    restart,
    run,
    unique_name,
    wait_for,
    wait_state,
)
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

PARTITIONS = 3
RECORDS = 3000
BATCH = 100


def produce(topic):
    producer = Producer({"bootstrap.servers": bootstrap(), "enable.idempotence": True, "acks": "all", "linger.ms": 5})
    failed = []
    for i in range(RECORDS):
        producer.produce(topic, key=("k%d" % i).encode(), value=("v%05d" % i).encode(), partition=i % PARTITIONS, on_delivery=lambda err, msg: err and failed.append(err))
        if i % 500 == 0:
            producer.poll(0)
    check(producer.flush(60) == 0 and not failed, "the records were not all produced: %s" % failed[:3])


def group_consumer(group, nodes=NODES):
    return Consumer(
        {
            "bootstrap.servers": bootstrap(nodes),
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "session.timeout.ms": 10000,
            "heartbeat.interval.ms": 1000,
        }
    )


def committed(group, topic, nodes):
    """The group's committed offsets {partition: offset} as its coordinator answers OffsetFetch
    (retried while no coordinator answers)."""
    probe = group_consumer(group, nodes)
    try:

        def fetch():
            try:
                tps = probe.committed([TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=10)
            except KafkaException as e:
                log("OffsetFetch: %s" % e)
                return None
            if any(tp.error is not None for tp in tps):
                log("OffsetFetch: %s" % [str(tp.error) for tp in tps if tp.error is not None])
                return None
            return {tp.partition: tp.offset for tp in tps}

        return wait_for("the group's committed offsets", fetch, interval_s=1)
    finally:
        probe.close()


def scenario():
    topic = unique_name("kill-coordinator")
    group = unique_name("kill-coordinator-group")
    create_topic(topic, PARTITIONS)
    produce(topic)

    consumer = group_consumer(group)
    consumer.subscribe([topic])
    consumed = {}  # value -> times consumed
    position = {}  # partition -> next offset to commit
    last_committed = {}  # partition -> the offset of the last commit that succeeded
    batches = 0
    commit_failures = 0
    killed_at = None
    victim = None
    first_commit_after_kill = None
    deadline = time.time() + 4 * STEP_TIMEOUT_S
    while time.time() < deadline:
        done = len(consumed) == RECORDS and all(last_committed.get(p) == RECORDS // PARTITIONS for p in range(PARTITIONS))
        if done:
            break
        for msg in consumer.consume(num_messages=BATCH, timeout=1):
            if msg.error():
                continue
            value = msg.value().decode()
            consumed[value] = consumed.get(value, 0) + 1
            position[msg.partition()] = msg.offset() + 1
        if not position:
            continue
        offsets = [TopicPartition(topic, p, o) for p, o in sorted(position.items())]
        try:
            answer = consumer.commit(offsets=offsets, asynchronous=False)
            errors = [tp for tp in answer if tp.error is not None]
            if errors:
                raise KafkaException(errors[0].error)
            for tp in offsets:
                last_committed[tp.partition] = tp.offset
            if killed_at is not None and first_commit_after_kill is None:
                first_commit_after_kill = time.time()
                log("offsets committed again %.2f s after the kill" % (first_commit_after_kill - killed_at))
        except KafkaException as e:
            commit_failures += 1
            if commit_failures % 10 == 1:
                log("commit failed (%d so far): %s" % (commit_failures, e))
        batches += 1
        # Slow enough that the kill lands in the middle of the group's work.
        time.sleep(0.2)
        if victim is None and len(consumed) >= RECORDS // 3 and last_committed:
            victim, partition = coordinator("__consumer_offsets", group)
            before = dict(last_committed)
            killed_at = time.time()
            kill(victim)
            log("killed node %d (leader of __consumer_offsets-%d, the group's coordinator) after %d records, committed %s" % (victim, partition, len(consumed), before))
            survivors = [n for n in NODES if n != victim]
            # None lost: the new coordinator answers at least what was committed before the kill.
            after = committed(group, topic, survivors)
            log("the new coordinator answers %s (%.2f s after the kill)" % (after, time.time() - killed_at))
            lost = [p for p, o in before.items() if after.get(p, -1) < o]
            check(not lost, "committed offsets lost in the failover: before %s, after %s" % (before, after))
            new_victim, _ = coordinator("__consumer_offsets", group, survivors)
            check(new_victim in survivors, "the coordinator is still node %d" % new_victim)
    consumer.close()
    check(victim is not None, "the kill never happened (%d records consumed)" % len(consumed))
    check(first_commit_after_kill is not None, "no commit succeeded after the kill")
    check(len(consumed) == RECORDS, "consumed %d of %d records" % (len(consumed), RECORDS))
    end = {p: RECORDS // PARTITIONS for p in range(PARTITIONS)}
    check(last_committed == end, "the last commits are %s, not the end offsets %s" % (last_committed, end))
    redelivered = sum(n - 1 for n in consumed.values())
    log("%d records consumed (%d delivered again after the failover, as at-least-once allows), %d commits failed during the failover" % (RECORDS, redelivered, commit_failures))

    restart(victim)
    _, partition = coordinator("__consumer_offsets", group)
    state = wait_state("__consumer_offsets", partition, NODES, "the group's partition with a full ISR", lambda leader, replicas, isr: leader >= 0 and len(isr) == 3)
    log("node %d restarted; __consumer_offsets-%d: leader %d, ISR %s" % (victim, partition, state[0], state[2]))
    for node in NODES:
        offsets = committed(group, topic, [node])
        check(offsets == end, "through node %d the group's offsets are %s, not %s" % (node, offsets, end))
    log("the final offsets %s through each of nodes %s" % (end, list(NODES)))


run(scenario)
