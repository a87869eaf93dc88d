"""kill -9 of the transaction coordinator's node under a transactional producer (issue 16):
__transaction_state with replication factor 3 and min.insync.replicas=2, a producer running one
transaction after another over an RF=3 topic (every fourth aborted), the node leading its
transactional id's __transaction_state partition killed in the middle. Checked: transactions
commit again after the kill (the time is printed, not asserted), and a read_committed consumer sees
every record of each committed transaction exactly once and none of an aborted one."""

import time

from cluster import (
    NODES,
    STEP_TIMEOUT_S,
    ScenarioFailure,
    bootstrap,
    check,
    coordinator,
    create_topic,
    kill,
    log,
    restart,
    run,
    unique_name,
    wait_state,
)
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

PARTITIONS = 2
PER_TXN = 20
BEFORE_KILL = 6
AFTER_KILL = 8


class Transactions:
    def __init__(self, topic, txn_id):
        self.topic = topic
        self.producer = Producer(
            {
                "bootstrap.servers": bootstrap(),
                "transactional.id": txn_id,
                "acks": "all",
                "enable.idempotence": True,
                "linger.ms": 5,
                "transaction.timeout.ms": 60000,
            }
        )
        self.committed = []
        self.aborted = []
        self.retries = 0
        self.next = 0

    def _retrying(self, what, call):
        """Runs call() until it succeeds; True, or False when the transaction must be aborted."""
        deadline = time.time() + STEP_TIMEOUT_S
        while True:
            try:
                call()
                return True
            except KafkaException as e:
                err = e.args[0]
                if err.fatal():
                    raise ScenarioFailure("%s: fatal error %s" % (what, err)) from e
                if err.txn_requires_abort():
                    log("%s: %s; aborting" % (what, err))
                    return False
                if not err.retriable() or time.time() > deadline:
                    raise
                self.retries += 1
                if self.retries % 10 == 1:
                    log("%s: %s; retrying" % (what, err))
                time.sleep(0.2)

    def one(self):
        """One transaction of PER_TXN records over both partitions; committed or aborted."""
        n = self.next
        self.next += 1
        self._retrying("begin", self.producer.begin_transaction)
        for j in range(PER_TXN):
            self.producer.produce(self.topic, value=("t%d-%d" % (n, j)).encode(), partition=j % PARTITIONS)
        self.producer.poll(0)
        if n % 4 == 3:
            # Written first, so the abort ends a transaction with records in both partitions (an
            # abort racing librdkafka's AddPartitionsToTxn gets INVALID_TXN_STATE from Kafka).
            self.producer.flush(30)
            check(self._retrying("abort", lambda: self.producer.abort_transaction(30)), "abort_transaction asked for an abort")
            self.aborted.append(n)
            return False
        if self._retrying("commit", lambda: self.producer.commit_transaction(30)):
            self.committed.append(n)
            return True
        check(self._retrying("abort", lambda: self.producer.abort_transaction(30)), "abort_transaction asked for an abort")
        self.aborted.append(n)
        return False


def read_committed(topic, group):
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap(),
            "group.id": group,
            "isolation.level": "read_committed",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    seen = {}
    at_end = set()
    deadline = time.time() + STEP_TIMEOUT_S
    while len(at_end) < PARTITIONS and time.time() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() == -191:  # _PARTITION_EOF
                at_end.add(msg.partition())
            continue
        at_end.discard(msg.partition())
        value = msg.value().decode()
        seen[value] = seen.get(value, 0) + 1
    consumer.close()
    check(len(at_end) == PARTITIONS, "read_committed did not reach the end of every partition")
    return seen


def scenario():
    topic = unique_name("kill-txn-coordinator")
    txn_id = unique_name("kill-txn-coordinator-id")
    create_topic(topic, PARTITIONS)
    txns = Transactions(topic, txn_id)
    txns.producer.init_transactions(60)
    while len(txns.committed) < BEFORE_KILL:
        txns.one()

    victim, partition = coordinator("__transaction_state", txn_id)
    survivors = [n for n in NODES if n != victim]
    committed_before = len(txns.committed)
    killed_at = time.time()
    kill(victim)
    log("killed node %d (leader of __transaction_state-%d, the coordinator of %s) after %d transactions" % (victim, partition, txn_id, txns.next))
    first_commit = None
    while len(txns.committed) < committed_before + AFTER_KILL:
        check(txns.next < committed_before + 4 * AFTER_KILL, "only %d commits after the kill in %d transactions" % (len(txns.committed) - committed_before, txns.next))
        if txns.one() and first_commit is None:
            first_commit = time.time()
            log("a transaction committed again %.2f s after the kill (transaction %d)" % (first_commit - killed_at, txns.committed[-1]))
    new_coordinator, _ = coordinator("__transaction_state", txn_id, survivors)
    check(new_coordinator in survivors, "the coordinator is still node %d" % new_coordinator)

    restart(victim)
    state = wait_state("__transaction_state", partition, NODES, "a full ISR", lambda leader, replicas, isr: leader >= 0 and len(isr) == 3)
    log("node %d restarted; __transaction_state-%d: leader %d, ISR %s" % (victim, partition, state[0], state[2]))
    for _ in range(2):
        txns.one()
    txns.producer.flush(30)

    seen = read_committed(topic, unique_name("kill-txn-check"))
    expected = {"t%d-%d" % (n, j) for n in txns.committed for j in range(PER_TXN)}
    forbidden = {"t%d-%d" % (n, j) for n in txns.aborted for j in range(PER_TXN)}
    missing = sorted(expected - set(seen))
    twice = sorted(v for v, c in seen.items() if c > 1)
    leaked = sorted(forbidden & set(seen))
    unknown = sorted(set(seen) - expected - forbidden)
    check(not missing, "%d records of committed transactions not read, first %s" % (len(missing), missing[:5]))
    check(not twice, "%d records read twice, first %s" % (len(twice), twice[:5]))
    check(not leaked, "%d records of aborted transactions read, first %s" % (len(leaked), leaked[:5]))
    check(not unknown, "records of no transaction read: %s" % unknown[:5])
    log(
        "%d transactions committed (each read exactly once with read_committed), %d aborted (never read), %d retried calls"
        % (len(txns.committed), len(txns.aborted), txns.retries)
    )


run(scenario)
