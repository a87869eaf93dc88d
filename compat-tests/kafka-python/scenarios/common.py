"""Helpers for the kafka-python scenarios: broker address, unique names, and the wrapper that
reports a failure as one "FAIL: reason" line with exit code 1."""

import os
import random
import sys
import time
import traceback

from kafka import KafkaAdminClient
from kafka.admin import NewTopic

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
    return "compat-kpy-%s-%d-%d" % (prefix, int(time.time() * 1000), random.randint(0, 99999))


def admin():
    return KafkaAdminClient(bootstrap_servers=bootstrap(), request_timeout_ms=30000)


def create_topic(client, topic, partitions, configs=None):
    client.create_topics([NewTopic(topic, partitions, 1, topic_configs=configs or {})], timeout_ms=30000)


def consume(consumer, count, timeout_s=DEADLINE_S):
    """Polls until count records arrived or the deadline passed."""
    records = []
    deadline = time.time() + timeout_s
    while len(records) < count and time.time() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            records.extend(batch)
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
