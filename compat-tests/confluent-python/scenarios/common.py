"""Helpers for the confluent-kafka-python scenarios: broker address, unique names, bounded
consumption, and the wrapper that reports a failure as one "FAIL: reason" line with exit code 1."""

import os
import random
import sys
import time
import traceback

from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient, NewTopic

DEADLINE_S = 45


class ScenarioFailure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise ScenarioFailure(message)


def bootstrap():
    address = os.environ.get("BOOTSTRAP")
    if not address:
        raise ScenarioFailure("BOOTSTRAP is not set")
    return address


def unique_name(prefix):
    return "compat-confluent-%s-%d-%d" % (prefix, int(time.time() * 1000), random.randint(0, 99999))


def admin():
    return AdminClient({"bootstrap.servers": bootstrap()})


def create_topic(client, topic, partitions, config=None):
    futures = client.create_topics(
        [NewTopic(topic, num_partitions=partitions, replication_factor=1, config=config or {})],
        operation_timeout=30,
    )
    futures[topic].result(timeout=30)
    # Metadata converges right after CreateTopics on one node, but allow it a bounded moment.
    deadline = time.time() + 10
    while time.time() < deadline:
        meta = client.list_topics(topic=topic, timeout=10)
        t = meta.topics.get(topic)
        if t is not None and t.error is None and len(t.partitions) == partitions:
            return
        time.sleep(0.2)
    raise ScenarioFailure("topic %s not in metadata with %d partitions" % (topic, partitions))


def consumer(group, **extra):
    config = {
        "bootstrap.servers": bootstrap(),
        "group.id": group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    }
    config.update(extra)
    return Consumer(config)


def consume(c, count, timeout_s=DEADLINE_S):
    """Polls until count records arrived or the deadline passed; fails on a record error."""
    records = []
    deadline = time.time() + timeout_s
    while len(records) < count and time.time() < deadline:
        msg = c.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            # Reaching the end of a partition is information, not a failure.
            if msg.error().code() == -191:  # KafkaError._PARTITION_EOF
                continue
            raise ScenarioFailure("consume error: %s" % msg.error())
        records.append(msg)
    return records


def run(body):
    try:
        body()
    except ScenarioFailure as e:
        print("FAIL: %s" % e, flush=True)
        sys.exit(1)
    except Exception as e:  # noqa: BLE001 - any client error is a scenario failure
        traceback.print_exc()
        print("FAIL: %s: %s" % (type(e).__name__, e), flush=True)
        sys.exit(1)
    sys.exit(0)
