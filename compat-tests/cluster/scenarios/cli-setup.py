"""State for the cli-tools scenario to read with Kafka's tools:

  cli-setup.py group TOPIC GROUP       produces 10 keyed records to each of TOPIC's 3 partitions,
                                       consumes them in GROUP and commits; prints the group's
                                       coordinator ("coordinator N")
  cli-setup.py txn TOPIC TXN_ID        one committed transaction over TOPIC's 3 partitions; prints
                                       the transactional id's coordinator and producer id
"""

import sys
import time

from cluster import bootstrap, check, coordinator, run
from confluent_kafka import Consumer, Producer

PARTITIONS = 3
PER_PARTITION = 10


def group(topic, name):
    producer = Producer({"bootstrap.servers": bootstrap(), "acks": "all"})
    for i in range(PARTITIONS * PER_PARTITION):
        producer.produce(topic, key=b"k%d" % i, value=b"v%d" % i, partition=i % PARTITIONS)
    check(producer.flush(60) == 0, "records not produced")
    consumer = Consumer(
        {"bootstrap.servers": bootstrap(), "group.id": name, "auto.offset.reset": "earliest", "enable.auto.commit": False}
    )
    consumer.subscribe([topic])
    seen = 0
    deadline = time.time() + 60
    while seen < PARTITIONS * PER_PARTITION and time.time() < deadline:
        seen += len([m for m in consumer.consume(num_messages=100, timeout=1) if not m.error()])
    check(seen == PARTITIONS * PER_PARTITION, "consumed %d records" % seen)
    consumer.commit(asynchronous=False)
    consumer.close()
    print("coordinator %d" % coordinator("__consumer_offsets", name)[0])


def txn(topic, txn_id):
    producer = Producer({"bootstrap.servers": bootstrap(), "transactional.id": txn_id})
    producer.init_transactions(60)
    producer.begin_transaction()
    for p in range(PARTITIONS):
        producer.produce(topic, value=b"txn", partition=p)
    producer.commit_transaction(60)
    print("coordinator %d" % coordinator("__transaction_state", txn_id)[0])


def main():
    what, topic, name = sys.argv[1:4]
    {"group": group, "txn": txn}[what](topic, name)


run(main)
