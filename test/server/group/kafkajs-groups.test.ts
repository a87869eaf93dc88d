/**
 * Consumer groups end to end with kafkajs against a broker started in-process: members joining
 * and leaving with partitions moving between them and every message consumed once per group, a
 * member killed (SIGKILL, in its own process) losing its partitions after the session timeout,
 * committed offsets surviving a broker restart, and two groups reading one topic independently.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Consumer, type EachMessagePayload, Kafka, logLevel } from "kafkajs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../../src/index.js";
import { waiter } from "../wait-for.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Settings that keep rebalances quick: no initial delay, short sessions allowed. */
const GROUP_SETTINGS = {
  "group.initial.rebalance.delay.ms": 0,
  "group.min.session.timeout.ms": 1000,
  "offsets.topic.num.partitions": 5,
};

const waitFor = waiter(60_000);

interface Member {
  readonly name: string;
  readonly consumer: Consumer;
  /** Partitions of the last assignment received. */
  partitions: number[];
  joins: number;
}

function kafkaFor(broker: BrokerHandle, clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: [broker.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 20, initialRetryTime: 50 },
  });
}

async function startMember(
  broker: BrokerHandle,
  name: string,
  groupId: string,
  topic: string,
  seen: Map<string, string[]>,
  options: { fromBeginning?: boolean } = {},
): Promise<Member> {
  const consumer = kafkaFor(broker, name).consumer({
    groupId,
    sessionTimeout: 6000,
    heartbeatInterval: 200,
    rebalanceTimeout: 10_000,
    retry: { retries: 20, initialRetryTime: 50 },
  });
  const member: Member = { name, consumer, partitions: [], joins: 0 };
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    member.joins++;
    member.partitions = [...(e.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: options.fromBeginning ?? true });
  await consumer.run({
    autoCommitThreshold: 1,
    eachMessage: async ({ message }: EachMessagePayload) => {
      const key = message.value!.toString();
      const list = seen.get(key) ?? [];
      list.push(name);
      seen.set(key, list);
    },
  });
  return member;
}

async function produce(
  broker: BrokerHandle,
  topic: string,
  prefix: string,
  count: number,
  partitions: number,
): Promise<string[]> {
  const producer = kafkaFor(broker, "producer").producer();
  await producer.connect();
  const values: string[] = [];
  for (let i = 0; i < count; i++) values.push(`${prefix}-${i}`);
  await producer.send({
    topic,
    messages: values.map((value, i) => ({ value, partition: i % partitions })),
  });
  await producer.disconnect();
  return values;
}

describe("kafkajs consumer groups", () => {
  let broker: BrokerHandle;
  const consumers: Consumer[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    broker = await startBroker(GROUP_SETTINGS);
  });

  afterEach(async () => {
    for (const child of children.splice(0)) child.kill("SIGKILL");
    await Promise.all(consumers.splice(0).map((c) => c.disconnect().catch(() => {})));
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it("three members join and leave; partitions move and every message is consumed once", async () => {
    const topic = "orders-three";
    const admin = kafkaFor(broker, "admin").admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 6 }] });
    const seen = new Map<string, string[]>();
    const members: Member[] = [];
    const all: string[] = [];
    const stable = async (n: number) => {
      await waitFor(`${n} members with disjoint assignments covering 6 partitions`, async () => {
        const d = await admin.describeGroups(["three"]);
        const g = d.groups[0]!;
        if (g.state !== "Stable" || g.members.length !== n) return false;
        const live = members.filter((m) => consumers.includes(m.consumer));
        const owned = live.flatMap((m) => m.partitions).sort((a, b) => a - b);
        return owned.join() === "0,1,2,3,4,5";
      });
    };
    const consumedAll = () => waitFor(`${all.length} messages consumed`, () => all.every((v) => seen.has(v)));

    for (const name of ["m1", "m2", "m3"]) {
      const m = await startMember(broker, name, "three", topic, seen);
      members.push(m);
      consumers.push(m.consumer);
    }
    await stable(3);
    expect(members.map((m) => m.partitions.length)).toEqual([2, 2, 2]);
    all.push(...(await produce(broker, topic, "a", 120, 6)));
    await consumedAll();

    // m2 leaves: m1 and m3 take its partitions.
    const m2 = members[1]!;
    await m2.consumer.disconnect();
    consumers.splice(consumers.indexOf(m2.consumer), 1);
    await stable(2);
    expect(members[0]!.partitions.length + members[2]!.partitions.length).toBe(6);
    all.push(...(await produce(broker, topic, "b", 120, 6)));
    await consumedAll();

    // m4 joins: the partitions are shared by three again.
    const m4 = await startMember(broker, "m4", "three", topic, seen);
    members.push(m4);
    consumers.push(m4.consumer);
    await stable(3);
    expect(m4.partitions.length).toBe(2);
    all.push(...(await produce(broker, topic, "c", 120, 6)));
    await consumedAll();

    const duplicates = [...seen.entries()].filter(([, by]) => by.length !== 1);
    expect(duplicates).toEqual([]);
    expect(seen.size).toBe(360);
    // Those who stayed consumed after the reassignments too.
    expect(new Set([...seen.values()].flat())).toEqual(new Set(["m1", "m2", "m3", "m4"]));
    await admin.disconnect();
  }, 180_000);

  it("a member killed without leaving loses its partitions after the session timeout", async () => {
    const topic = "orders-kill";
    const admin = kafkaFor(broker, "admin").admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
    const seen = new Map<string, string[]>();
    const survivor = await startMember(broker, "survivor", "kill", topic, seen);
    consumers.push(survivor.consumer);
    await waitFor("survivor owns everything", () => survivor.partitions.length === 4);

    const child = spawn(
      process.execPath,
      [path.join(HERE, "fixtures", "kafkajs-member.mjs"), broker.bootstrap, "kill", topic, "3000"],
      { cwd: path.resolve(HERE, "../../.."), stdio: ["ignore", "pipe", "inherit"] },
    );
    children.push(child);
    let childAssigned = false;
    child.stdout!.on("data", (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n")) {
        if (line.trim() === "") continue;
        const e = JSON.parse(line) as { assignment: Record<string, number[]> };
        if ((e.assignment[topic] ?? []).length > 0) childAssigned = true;
      }
    });
    await waitFor(
      "the doomed member and the survivor share the partitions",
      () => childAssigned && survivor.partitions.length === 2,
    );
    const describeMembers = async () => (await admin.describeGroups(["kill"])).groups[0]!.members.length;
    expect(await describeMembers()).toBe(2);

    const killedAtMs = Date.now();
    child.kill("SIGKILL");
    await waitFor("the survivor owns all partitions again", () => survivor.partitions.length === 4, 40_000);
    const tookMs = Date.now() - killedAtMs;
    // Not before the 3 s session timeout of the killed member.
    expect(tookMs).toBeGreaterThanOrEqual(2_500);
    expect(await describeMembers()).toBe(1);
    const values = await produce(broker, topic, "after-kill", 40, 4);
    await waitFor("survivor consumes everything", () => values.every((v) => seen.has(v)));
    await admin.disconnect();
  }, 120_000);

  it("two groups on one topic read independently; a late group starts from the beginning", async () => {
    const topic = "orders-two";
    const admin = kafkaFor(broker, "admin").admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
    const live = new Map<string, string[]>();
    const liveMember = await startMember(broker, "live", "live-group", topic, live);
    consumers.push(liveMember.consumer);
    await waitFor("live member assigned", () => liveMember.partitions.length === 3);
    const early = await produce(broker, topic, "early", 60, 3);
    await waitFor("live group consumed the early messages", () => early.every((v) => live.has(v)));

    const late = new Map<string, string[]>();
    const lateMember = await startMember(broker, "late", "late-group", topic, late, { fromBeginning: true });
    consumers.push(lateMember.consumer);
    const more = await produce(broker, topic, "more", 30, 3);
    await waitFor("late group read everything from the beginning", () =>
      [...early, ...more].every((v) => late.has(v)),
    );
    await waitFor("live group read the new messages", () => more.every((v) => live.has(v)));
    expect(live.size).toBe(90);
    expect(late.size).toBe(90);
    const offsets = async (groupId: string) =>
      (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions
        .map((p) => Number(p.offset))
        .reduce((a, b) => a + b, 0);
    await waitFor(
      "both groups committed every offset",
      async () => (await offsets("live-group")) === 90 && (await offsets("late-group")) === 90,
    );
    const listed = (await admin.listGroups()).groups.map((g) => g.groupId);
    expect(listed).toEqual(expect.arrayContaining(["live-group", "late-group"]));
    await admin.disconnect();
  }, 120_000);
});

describe("committed offsets across a broker restart", () => {
  it("a restarted broker serves the group's offsets and the group resumes where it stopped", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "krill-groups-"));
    try {
      let broker = await startBroker({ ...GROUP_SETTINGS, "log.dirs": dir });
      const topic = "durable";
      let admin = kafkaFor(broker, "admin").admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
      const seen = new Map<string, string[]>();
      const first = await startMember(broker, "before", "durable-group", topic, seen);
      const before = await produce(broker, topic, "before", 50, 2);
      await waitFor("consumed before restart", () => before.every((v) => seen.has(v)));
      await first.consumer.disconnect();
      const committed = await admin.fetchOffsets({ groupId: "durable-group", topics: [topic] });
      expect(committed[0]!.partitions.map((p) => p.offset).sort()).toEqual(["25", "25"]);
      await admin.disconnect();
      await broker.stop();

      broker = await startBroker({ ...GROUP_SETTINGS, "log.dirs": dir });
      try {
        admin = kafkaFor(broker, "admin").admin();
        await admin.connect();
        const again = await admin.fetchOffsets({ groupId: "durable-group", topics: [topic] });
        expect(again[0]!.partitions.map((p) => p.offset).sort()).toEqual(["25", "25"]);
        const after = await produce(broker, topic, "after", 20, 2);
        const resumed = new Map<string, string[]>();
        const second = await startMember(broker, "after", "durable-group", topic, resumed);
        await waitFor("consumed after restart", () => after.every((v) => resumed.has(v)));
        // Nothing from before the restart is read again.
        expect([...resumed.keys()].filter((k) => k.startsWith("before"))).toEqual([]);
        await second.consumer.disconnect();
        await admin.disconnect();
      } finally {
        await broker.stop();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
