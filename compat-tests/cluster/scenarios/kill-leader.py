"""kill -9 of a partition leader under an idempotent acks=all producer (issue 16): a topic with
replication factor 3 and min.insync.replicas=2, confluent-kafka writing without pause, the leader's
node killed. Checked: writes are acknowledged again (the time is printed, not asserted), the ISR
shrinks to the two live replicas, grows back to three after the node restarts, and every
acknowledged record is read back at its acknowledged offset, none twice."""

import time

from cluster import (
    NODES,
    STEP_TIMEOUT_S,
    ScenarioFailure,
    admin,
    bootstrap,
    check,
    create_topic,
    kill,
    log,
    partition_state,
    restart,
    run,
    unique_name,
    wait_state,
)
from confluent_kafka import Consumer, Producer, TopicPartition


class Load:
    """An idempotent acks=all producer writing numbered records, one partition, a bounded number in
    flight; acks[value] = offset of each acknowledged record."""

    def __init__(self, topic):
        self.topic = topic
        self.producer = Producer(
            {
                "bootstrap.servers": bootstrap(),
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 5,
                # Long enough for any failover; a record not acknowledged by then is reported failed
                # (and is then simply not required to be readable).
                "message.timeout.ms": 120000,
                "topic.metadata.refresh.interval.ms": 1000,
            }
        )
        self.sent = 0
        self.acks = {}
        self.ack_times = []
        self.failed = 0
        self.errors = {}

    def _delivered(self, err, msg):
        if err is not None:
            self.failed += 1
            self.errors[str(err)] = self.errors.get(str(err), 0) + 1
            return
        value = msg.value().decode()
        if value in self.acks:
            raise ScenarioFailure("record %s acknowledged twice" % value)
        self.acks[value] = msg.offset()
        self.ack_times.append((int(value[1:]), time.time()))

    def run_for(self, seconds, max_in_flight=200):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.sent - len(self.acks) - self.failed < max_in_flight:
                self.producer.produce(self.topic, value=("r%07d" % self.sent).encode(), partition=0, on_delivery=self._delivered)
                self.sent += 1
            self.producer.poll(0.002)

    def finish(self):
        left = self.producer.flush(150)
        check(left == 0, "%d records still unanswered after the final flush" % left)


def read_all(topic, end_offset):
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap(),
            "group.id": unique_name("kill-leader-check"),
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.assign([TopicPartition(topic, 0, 0)])
    records = {}
    deadline = time.time() + 90
    next_offset = 0
    while next_offset < end_offset and time.time() < deadline:
        msg = consumer.poll(0.5)
        if msg is None or msg.error():
            continue
        value = msg.value().decode()
        if value in records:
            raise ScenarioFailure("%s read twice (offsets %d and %d)" % (value, records[value], msg.offset()))
        records[value] = msg.offset()
        next_offset = msg.offset() + 1
    consumer.close()
    check(next_offset >= end_offset, "read up to offset %d of %d" % (next_offset, end_offset))
    return records


def scenario():
    topic = unique_name("kill-leader")
    create_topic(topic, 1, 3, {"min.insync.replicas": "2"})
    load = Load(topic)
    load.run_for(3)
    check(len(load.acks) > 0, "nothing acknowledged before the kill (%d sent, errors %s)" % (load.sent, load.errors))

    leader, replicas, isr = wait_state(topic, 0, NODES, "a leader", lambda leader, replicas, isr: leader >= 0)
    survivors = [n for n in NODES if n != leader]
    acked_before = len(load.acks)
    killed_at = time.time()
    kill(leader)
    log("killed node %d (leader of %s-0, replicas %s, ISR %s) with %d records acknowledged" % (leader, topic, replicas, isr, acked_before))

    # Writes go on; the failover time is until the first acknowledgement of a record produced after
    # the kill (an earlier record's answer may have arrived before it and been reported after).
    first_after = load.sent
    deadline = time.time() + 120
    while not any(n >= first_after for n, _ in load.ack_times) and time.time() < deadline:
        load.run_for(0.5)
    after = [t for n, t in load.ack_times if n >= first_after]
    check(after, "no write acknowledged within 120 s of the kill (errors %s)" % load.errors)
    log("writes acknowledged again %.2f s after the kill" % (min(after) - killed_at))

    state = wait_state(
        topic, 0, survivors, "the ISR shrunk to the two live replicas", lambda leader, replicas, isr: leader in survivors and isr == sorted(survivors)
    )
    log("after the kill: leader %d, ISR %s (%.1f s after the kill)" % (state[0], state[2], time.time() - killed_at))
    load.run_for(2)

    restart(leader)
    restarted_at = time.time()
    log("node %d restarted" % leader)
    # The load goes on while the restarted node catches up and rejoins.
    probe = admin(survivors)
    while time.time() - restarted_at < STEP_TIMEOUT_S:
        load.run_for(0.5)
        state = partition_state(probe, topic, 0)
        if state is not None and state[2] == sorted(NODES):
            break
    state = wait_state(topic, 0, NODES, "the ISR grown back to three", lambda leader, replicas, isr: isr == sorted(NODES))
    log("ISR %s again %.1f s after the restart" % (state[2], time.time() - restarted_at))
    load.run_for(1)
    load.finish()

    check(len(load.acks) > acked_before, "nothing acknowledged after the kill")
    end = max(load.acks.values()) + 1
    records = read_all(topic, end)
    missing = [v for v, o in load.acks.items() if records.get(v) != o]
    check(not missing, "%d acknowledged records not at their offset, first %s" % (len(missing), sorted(missing)[:5]))
    log(
        "%d sent, %d acknowledged (%d after the kill), %d failed %s; all %d read back at their offsets, none twice (%d records in the log up to the last ack)"
        % (load.sent, len(load.acks), len(load.acks) - acked_before, load.failed, load.errors, len(load.acks), len(records))
    )


run(scenario)
