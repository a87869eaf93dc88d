"""AdminClient: create (with a config), list, create partitions, describe and alter configs,
describe the broker's configs, list groups, delete."""

import time

from common import admin, check, create_topic, run, unique_name
from confluent_kafka.admin import ConfigResource, NewPartitions, NewTopic


def body():
    client = admin()
    topic = unique_name("admin")
    create_topic(client, topic, 3, {"retention.ms": "3600000"})
    meta = client.list_topics(timeout=10)
    check(topic in meta.topics, "list_topics misses %s" % topic)
    check(len(meta.brokers) == 1, "brokers %r" % meta.brokers)
    broker = list(meta.brokers.values())[0]
    check(broker.host == "127.0.0.1", "broker host %s" % broker.host)
    for p in meta.topics[topic].partitions.values():
        check(p.leader == broker.id, "partition %d leader %d" % (p.id, p.leader))

    existing = client.create_topics([NewTopic(topic, 1, 1)])[topic]
    error = existing.exception(timeout=30)
    check(error is not None, "creating an existing topic succeeded")
    check("TOPIC_ALREADY_EXISTS" in str(error), "unexpected error for an existing topic: %s" % error)

    client.create_partitions([NewPartitions(topic, 5)])[topic].result(timeout=30)
    deadline = time.time() + 10
    while len(client.list_topics(topic=topic, timeout=10).topics[topic].partitions) != 5 and time.time() < deadline:
        time.sleep(0.2)
    check(len(client.list_topics(topic=topic, timeout=10).topics[topic].partitions) == 5, "partitions after create_partitions")

    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    configs = client.describe_configs([resource])[resource].result(timeout=30)
    check(configs["retention.ms"].value == "3600000", "retention.ms %s" % configs["retention.ms"].value)
    check(configs["cleanup.policy"].value == "delete", "cleanup.policy default %s" % configs["cleanup.policy"].value)
    check(configs["retention.ms"].source == 1, "retention.ms source %s (expected DYNAMIC_TOPIC_CONFIG)" % configs["retention.ms"].source)

    # alter_configs replaces the whole set of dynamic configs of the resource.
    alter = ConfigResource(ConfigResource.Type.TOPIC, topic, set_config={"retention.ms": "7200000", "max.message.bytes": "2000000"})
    client.alter_configs([alter])[alter].result(timeout=30)
    configs = client.describe_configs([resource])[resource].result(timeout=30)
    check(configs["retention.ms"].value == "7200000", "retention.ms after alter %s" % configs["retention.ms"].value)
    check(configs["max.message.bytes"].value == "2000000", "max.message.bytes after alter")

    broker_resource = ConfigResource(ConfigResource.Type.BROKER, str(broker.id))
    broker_configs = client.describe_configs([broker_resource])[broker_resource].result(timeout=30)
    check("log.retention.hours" in broker_configs, "broker configs miss log.retention.hours")

    client.list_groups(timeout=10)
    client.delete_topics([topic], operation_timeout=30)[topic].result(timeout=30)
    deadline = time.time() + 10
    while topic in client.list_topics(timeout=10).topics and time.time() < deadline:
        time.sleep(0.2)
    check(topic not in client.list_topics(timeout=10).topics, "topic still listed after delete")


run(body)
