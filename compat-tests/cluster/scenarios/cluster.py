"""Helpers for the three-node scenarios (compat-tests/cluster/run.sh): the cluster's nodes as
compat-tests/quorum/cluster.sh started them (CLUSTER_DIR), kill -9 and restart through it, partition
leaders and ISRs as Metadata reports them, the coordinator of a group or transactional id as Kafka
places it, and the "FAIL: reason" wrapper of the other clients' scenarios. Every wait is bounded."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../confluent-python/scenarios"))

from common import ScenarioFailure, check, run, unique_name  # noqa: E402,F401
from confluent_kafka import KafkaException  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CLUSTER_SH = os.path.join(HERE, "../../quorum/cluster.sh")
NODES = (1, 2, 3)
# A step of a scenario (a failover, an ISR change) gets this long; the whole scenario is bounded by
# SCENARIO_TIMEOUT_S around it.
STEP_TIMEOUT_S = 90


def cluster_dir():
    d = os.environ.get("CLUSTER_DIR")
    if not d:
        raise ScenarioFailure("CLUSTER_DIR is not set")
    return d


def target():
    with open(os.path.join(cluster_dir(), "target")) as f:
        return f.read().strip()


def port(node):
    with open(os.path.join(cluster_dir(), "node-%d" % node, "port")) as f:
        return int(f.read().strip())


def address(node):
    return "127.0.0.1:%d" % port(node)


def bootstrap(nodes=NODES):
    return ",".join(address(n) for n in nodes)


def log(message):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), message), flush=True)


def kill(node):
    """kill -9 of the node's process group (cluster.sh kill waits until it is gone)."""
    subprocess.run([CLUSTER_SH, "kill", str(node), "--dir", cluster_dir()], check=True)


def restart(node):
    subprocess.run([CLUSTER_SH, "restart", str(node), "--dir", cluster_dir()], check=True)


def admin(nodes=NODES):
    return AdminClient({"bootstrap.servers": bootstrap(nodes)})


def java_hash(s):
    """Java's String.hashCode (Kafka's coordinators place keys with it)."""
    h = 0
    units = s.encode("utf-16-be")
    for i in range(0, len(units), 2):
        h = (31 * h + (units[i] << 8 | units[i + 1])) & 0xFFFFFFFF
    return h - (1 << 32) if h & 0x80000000 else h


def partition_for(key, partitions):
    """Kafka's Utils.abs(key.hashCode) % partitions (Utils.abs maps MIN_VALUE to 0)."""
    h = java_hash(key)
    return (0 if h == -(1 << 31) else abs(h)) % partitions


def partition_state(client, topic, partition):
    """(leader, replicas, isr) as the Metadata of one broker says, or None while unknown."""
    try:
        meta = client.list_topics(topic=topic, timeout=10)
    except KafkaException:
        return None
    t = meta.topics.get(topic)
    if t is None or t.error is not None or partition not in t.partitions:
        return None
    p = t.partitions[partition]
    return p.leader, list(p.replicas), sorted(p.isrs)


def wait_for(what, f, timeout_s=STEP_TIMEOUT_S, interval_s=0.2):
    deadline = time.time() + timeout_s
    while True:
        v = f()
        if v:
            return v
        if time.time() > deadline:
            raise ScenarioFailure("timed out after %d s waiting for %s" % (timeout_s, what))
        time.sleep(interval_s)


def wait_state(topic, partition, nodes, what, predicate, timeout_s=STEP_TIMEOUT_S):
    """Waits until every broker of `nodes` reports a state of the partition that satisfies
    predicate(leader, replicas, isr); returns that state."""
    clients = {n: admin([n]) for n in nodes}

    def agreed():
        states = [partition_state(c, topic, partition) for c in clients.values()]
        if any(s is None or not predicate(*s) for s in states):
            return None
        return states[0]

    return wait_for("%s (%s-%d)" % (what, topic, partition), agreed, timeout_s)


def create_topic(topic, partitions, replication_factor=3, config=None):
    client = admin()
    futures = client.create_topics(
        [NewTopic(topic, num_partitions=partitions, replication_factor=replication_factor, config=config or {})],
        operation_timeout=30,
    )
    futures[topic].result(timeout=60)
    for p in range(partitions):
        wait_state(topic, p, NODES, "a leader and a full ISR", lambda leader, replicas, isr: leader >= 0 and len(isr) == replication_factor)


def internal_partitions(topic, nodes=NODES):
    """Partition count of an internal topic (created on first use: the caller triggers it first)."""

    def count():
        try:
            meta = admin(nodes).list_topics(topic=topic, timeout=10)
        except KafkaException:
            return None
        t = meta.topics.get(topic)
        return len(t.partitions) if t is not None and t.error is None and t.partitions else None

    return wait_for("%s in the metadata" % topic, count)


def coordinator(internal_topic, key, nodes=NODES):
    """(node, partition) of the coordinator of `key`: the leader of its internal partition, as the
    brokers `nodes` agree on it."""
    partition = partition_for(key, internal_partitions(internal_topic, nodes))
    state = wait_state(internal_topic, partition, nodes, "a leader", lambda leader, replicas, isr: leader in nodes)
    return state[0], partition


def wait_full_isr(topic, partitions, timeout_s=STEP_TIMEOUT_S):
    for p in range(partitions):
        wait_state(topic, p, NODES, "all three replicas in the ISR", lambda leader, replicas, isr: leader >= 0 and isr == sorted(replicas), timeout_s)
