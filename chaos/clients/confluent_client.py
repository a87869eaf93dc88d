#!/usr/bin/python3
"""A chaos workload client on confluent-kafka (librdkafka), writing the history the checker reads.

    confluent_client.py MODE --bootstrap B --topic T --partitions N --process NAME --history FILE
                        [--seed S] [--duration-ms MS]

MODE is one of
  queue  an idempotent acks=all producer and a consumer in a group (read_committed) that commits
         its offsets after each poll, interleaved at random;
  txn    consume-transform-produce: a transactional producer and a read_committed consumer in a
         group; each transaction polls, sends one to three values to random partitions of the same
         topic, adds the consumer's offsets, and commits (about one in ten aborts);
  final  assigns every partition from the beginning and polls until each is read to its end.

History ops are JSON lines (see chaos/src/history.ts). A key is "topic/partition"; a value is
"NAME:counter", unique. After an outcome it cannot know (a commit that timed out, a fatal producer
error), the client starts over with new clients and a new process name (NAME.1, NAME.2, ...), as
Jepsen does after a crash, so that one process's ops stay sequential and meaningful.

SIGTERM ends the loop after the current operation.
"""
import argparse
import json
import random
import signal
import sys
import time

from confluent_kafka import (OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer,
                             TopicPartition)

stopping = False


def on_term(_signum, _frame):
    global stopping
    stopping = True


signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)


class History:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1)

    def op(self, process, type_, f, value, started, error=None):
        op = {"process": process, "type": type_, "f": f, "value": value,
              "time": started, "end": time.time() * 1000}
        if error is not None:
            op["error"] = str(error)[:300]
        self.f.write(json.dumps(op) + "\n")


def key(topic, partition):
    return f"{topic}/{partition}"


class Client:
    def __init__(self, args):
        self.args = args
        self.rnd = random.Random(args.seed)
        self.history = History(args.history)
        self.incarnation = 0
        self.counter = 0
        self.deadline = time.time() + args.duration_ms / 1000

    @property
    def process(self):
        return self.args.process if self.incarnation == 0 else f"{self.args.process}.{self.incarnation}"

    def next_value(self):
        self.counter += 1
        return f"{self.process}:{self.counter}"

    def running(self):
        return not stopping and time.time() < self.deadline

    def consumer_config(self, group):
        return {
            "bootstrap.servers": self.args.bootstrap,
            "group.id": group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "session.timeout.ms": 10000,
            "heartbeat.interval.ms": 1000,
            "socket.timeout.ms": 5000,
        }

    def log_assignment(self, keys):
        self.history.op(self.process, "ok", "assign", sorted(keys), time.time() * 1000)

    def subscribe(self, consumer):
        topic = self.args.topic

        def on_assign(c, partitions):
            self.assigned = {key(topic, p.partition) for p in partitions}
            self.log_assignment(self.assigned)

        def on_revoke(c, partitions):
            self.assigned = set()
            self.log_assignment(self.assigned)

        self.assigned = set()
        consumer.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)

    @staticmethod
    def polled(messages):
        reads = {}
        for m in messages:
            if m.error() is not None:
                continue
            reads.setdefault(key(m.topic(), m.partition()), []).append([m.offset(), m.value().decode()])
        return reads

    # --- queue ---------------------------------------------------------------------------------

    def queue(self):
        while self.running():
            producer = Producer({
                "bootstrap.servers": self.args.bootstrap,
                "enable.idempotence": True,
                "acks": "all",
                "message.timeout.ms": 8000,
                "request.timeout.ms": 4000,
                "socket.timeout.ms": 4000,
                "linger.ms": 2,
            })
            consumer = Consumer(self.consumer_config("chaos-queue"))
            self.subscribe(consumer)
            try:
                restart = self.queue_loop(producer, consumer)
            finally:
                try:
                    producer.flush(5)
                except Exception:
                    pass
                try:
                    consumer.close()
                except Exception:
                    pass
            if not restart:
                return
            self.incarnation += 1

    def queue_loop(self, producer, consumer):
        """Returns True when the clients must be replaced (a fatal producer error)."""
        topic = self.args.topic
        while self.running():
            if self.rnd.random() < 0.5:
                # One to three values, each its own op in the order sent (the producer is
                # idempotent: per partition they land in that order or not at all).
                sent = []
                for _ in range(self.rnd.randint(1, 3)):
                    partition = self.rnd.randrange(self.args.partitions)
                    value = self.next_value()
                    outcome = {}

                    def report(err, msg, outcome=outcome):
                        outcome["err"] = err
                        outcome["offset"] = msg.offset() if err is None else None

                    started = time.time() * 1000
                    try:
                        producer.produce(topic, value=value.encode(), partition=partition, on_delivery=report)
                    except BufferError as err:
                        self.history.op(self.process, "fail", "send",
                                        [["send", key(topic, partition), [None, value]]], started, err)
                        continue
                    sent.append((partition, value, outcome, started))
                producer.flush(12)
                fatal = False
                for partition, value, outcome, started in sent:
                    err = outcome.get("err")
                    if "err" in outcome and err is None:
                        self.history.op(self.process, "ok", "send",
                                        [["send", key(topic, partition), [outcome["offset"], value]]], started)
                    else:
                        # Timed out or failed after it may have reached the log: unknown.
                        self.history.op(self.process, "info", "send",
                                        [["send", key(topic, partition), [None, value]]], started,
                                        err if err is not None else "no delivery report")
                        fatal = fatal or (err is not None and err.fatal()) or "err" not in outcome
                if fatal:
                    return True
            else:
                started = time.time() * 1000
                messages = consumer.consume(num_messages=50, timeout=0.5)
                reads = self.polled(messages)
                if not reads:
                    continue
                error = None
                try:
                    consumer.commit(asynchronous=False)
                except KafkaException as err:
                    error = f"commit: {err}"
                # The poll happened whatever became of the commit: the consumer moved on.
                self.history.op(self.process, "ok", "poll", [["poll", reads]], started, error)
        return False

    # --- txn -----------------------------------------------------------------------------------

    def txn(self):
        while self.running():
            producer = Producer({
                "bootstrap.servers": self.args.bootstrap,
                "transactional.id": f"chaos-txn-{self.args.process}",
                "acks": "all",
                "enable.idempotence": True,
                "transaction.timeout.ms": 15000,
                "message.timeout.ms": 8000,
                "request.timeout.ms": 4000,
                "socket.timeout.ms": 4000,
            })
            consumer = Consumer(self.consumer_config("chaos-txn"))
            try:
                producer.init_transactions(15)
                self.subscribe(consumer)
                self.txn_loop(producer, consumer)
            except KafkaException as err:
                sys.stderr.write(f"{self.process}: starting over after {err}\n")
            finally:
                try:
                    consumer.close()
                except Exception:
                    pass
            self.incarnation += 1

    def rewind(self, consumer):
        """After an abort: back to the group's committed offsets, as the transaction never ran."""
        assignment = consumer.assignment()
        if not assignment:
            return
        for tp in consumer.committed(assignment, timeout=10):
            consumer.seek(TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_BEGINNING))

    def txn_loop(self, producer, consumer):
        topic = self.args.topic
        while self.running():
            started = time.time() * 1000
            messages = consumer.consume(num_messages=10, timeout=0.5)
            reads = self.polled(messages)
            sends = []
            outcomes = []
            mops = [["poll", reads]] if reads else []
            abort = self.rnd.random() < 0.1
            try:
                producer.begin_transaction()
                for _ in range(self.rnd.randint(1, 3)):
                    partition = self.rnd.randrange(self.args.partitions)
                    value = self.next_value()
                    outcome = {}

                    def report(err, msg, outcome=outcome):
                        outcome["err"] = err
                        outcome["offset"] = msg.offset() if err is None else None

                    producer.produce(topic, value=value.encode(), partition=partition, on_delivery=report)
                    sends.append((partition, value))
                    outcomes.append(outcome)
                producer.flush(20)
                if not abort:
                    positions = consumer.position(consumer.assignment())
                    producer.send_offsets_to_transaction(positions, consumer.consumer_group_metadata(), 10)
                    producer.commit_transaction(20)
                    type_, error = "ok", None
                else:
                    producer.abort_transaction(20)
                    type_, error = "fail", "aborted by the workload"
            except (KafkaException, BufferError) as err:
                kerr = err.args[0] if isinstance(err, KafkaException) else None
                if kerr is None or kerr.txn_requires_abort():
                    try:
                        producer.abort_transaction(20)
                        type_, error = "fail", f"aborted after {err}"
                    except KafkaException as err2:
                        type_, error = "info", f"abort failed: {err2}"
                else:
                    type_, error = "info", str(kerr)
            for (partition, value), outcome in zip(sends, outcomes):
                offset = outcome.get("offset") if type_ == "ok" else None
                mops.append(["send", key(topic, partition), [offset, value]])
            self.history.op(self.process, type_, "txn", mops, started, error)
            if type_ == "info":
                return  # unknown outcome: start over as a new process
            if type_ == "fail":
                self.rewind(consumer)

    # --- final ---------------------------------------------------------------------------------

    def final(self):
        topic = self.args.topic
        consumer = Consumer({**self.consumer_config(f"chaos-final-{self.args.process}"),
                             "enable.partition.eof": True})
        partitions = [TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(self.args.partitions)]
        consumer.assign(partitions)
        self.log_assignment({key(topic, p) for p in range(self.args.partitions)})
        ends = {}
        for p in range(self.args.partitions):
            while self.running():
                try:
                    _, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=5)
                    ends[p] = high
                    break
                except KafkaException:
                    time.sleep(0.5)
        done = set()
        while self.running() and len(done) < self.args.partitions:
            started = time.time() * 1000
            messages = consumer.consume(num_messages=500, timeout=1)
            for m in messages:
                err = m.error()
                if err is not None and err.code() == KafkaError._PARTITION_EOF:
                    if m.offset() >= ends.get(m.partition(), 0):
                        done.add(m.partition())
            reads = self.polled(messages)
            if reads:
                self.history.op(self.process, "ok", "poll", [["poll", reads]], started)
        consumer.close()
        if len(done) < self.args.partitions:
            sys.stderr.write(f"final reader: partitions not read to their end: "
                             f"{sorted(set(range(self.args.partitions)) - done)}\n")
            sys.exit(3)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["queue", "txn", "final"])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--partitions", type=int, required=True)
    parser.add_argument("--process", required=True)
    parser.add_argument("--history", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--duration-ms", type=int, default=60000)
    args = parser.parse_args()
    client = Client(args)
    getattr(client, args.mode)()


if __name__ == "__main__":
    main()
