"""KafkaAdminClient: create (with a config), list, describe configs, create partitions, list and
describe consumer groups, delete."""

import time

from common import admin, bootstrap, check, create_topic, run, unique_name
from kafka import KafkaConsumer
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions
from kafka.errors import TopicAlreadyExistsError


def body():
    client = admin()
    try:
        topic = unique_name("admin")
        create_topic(client, topic, 3, {"retention.ms": "3600000"})
        check(topic in client.list_topics(), "list_topics misses %s" % topic)
        try:
            create_topic(client, topic, 3)
            raise AssertionError("creating an existing topic succeeded")
        except TopicAlreadyExistsError:
            pass

        described = client.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        entries = {e[0]: e[1] for e in described[0].resources[0][4]}
        check(entries.get("retention.ms") == "3600000", "retention.ms %r" % entries.get("retention.ms"))

        client.create_partitions({topic: NewPartitions(total_count=5)})
        # A fresh consumer fetches metadata for the topic on first use; retry for a bounded while.
        deadline = time.time() + 10
        partitions = set()
        while len(partitions) != 5 and time.time() < deadline:
            c = KafkaConsumer(bootstrap_servers=bootstrap())
            try:
                partitions = c.partitions_for_topic(topic) or set()
            finally:
                c.close()
        check(len(partitions) == 5, "partitions after create_partitions: %r" % partitions)

        client.list_consumer_groups()
        client.delete_topics([topic], timeout_ms=30000)
        deadline = time.time() + 10
        while topic in client.list_topics() and time.time() < deadline:
            time.sleep(0.2)
        check(topic not in client.list_topics(), "topic still listed after delete")
    finally:
        client.close()


run(body)
