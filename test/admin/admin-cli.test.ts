/**
 * The admin commands (`krill topic|group|config|cluster`) against an in-process Krill: each action,
 * its Kafka-tool output and its exit status. The same commands run against Apache Kafka 4.4 in
 * the compat suite (compat-tests/krill-cli).
 */
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseOptions, UsageError } from "../../src/admin/args.js";
import { runAdmin } from "../../src/admin/main.js";
import { type BrokerHandle, startBroker } from "../../src/index.js";

interface Run {
  code: number;
  out: string;
  err: string;
}

let broker: BrokerHandle;
let kafka: Kafka;

async function krill(...argv: string[]): Promise<Run> {
  let out = "";
  let err = "";
  const code = await runAdmin([...argv, "--bootstrap-server", broker.bootstrap], {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
  });
  return { code, out, err };
}

/** A table's data rows (blank lines and the header dropped), split on runs of spaces. */
function rows(text: string): string[][] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "" && !/^(GROUP|BROKER-ID|NodeId)\b/.test(l))
    .map((l) => l.trim().split(/\s+/));
}

beforeAll(async () => {
  broker = await startBroker({ "group.initial.rebalance.delay.ms": 0, "num.partitions": 2 });
  kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 5 } });
});

afterAll(async () => {
  await broker?.stop();
});

describe("krill topic", () => {
  it("creates, lists, describes, alters and deletes topics as kafka-topics does", async () => {
    const created = await krill(
      "topic",
      "create",
      "cli-a",
      "--partitions",
      "3",
      "--config",
      "retention.ms=60000",
    );
    expect(created).toEqual({ code: 0, out: "Created topic cli-a.\n", err: "" });
    expect((await krill("topic", "create", "--topic", "cli-b")).out).toBe("Created topic cli-b.\n");

    const again = await krill("topic", "create", "cli-a");
    expect(again.code).toBe(1);
    expect(again.err).toContain("TOPIC_ALREADY_EXISTS");
    expect((await krill("topic", "create", "cli-a", "--if-not-exists")).code).toBe(0);

    const list = await krill("topic", "list");
    expect(list.code).toBe(0);
    expect(list.out.split("\n")).toEqual(expect.arrayContaining(["cli-a", "cli-b"]));

    const described = await krill("topic", "describe", "cli-a");
    expect(described.code).toBe(0);
    const lines = described.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(
      /^Topic: cli-a\tTopicId: [A-Za-z0-9_-]{22}\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention\.ms=60000$/,
    );
    expect(lines.slice(1)).toEqual(
      [0, 1, 2].map(
        (p) => `\tTopic: cli-a\tPartition: ${p}\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: N/A\tLastKnownElr: N/A`,
      ),
    );
    // The broker's default (num.partitions=2) when --partitions is not given.
    expect((await krill("topic", "describe", "cli-b")).out).toContain("PartitionCount: 2\t");

    expect(await krill("topic", "alter", "cli-a", "--partitions", "5")).toEqual({
      code: 0,
      out: "",
      err: "",
    });
    expect((await krill("topic", "describe", "cli-a")).out).toContain("PartitionCount: 5\t");
    const shrink = await krill("topic", "alter", "cli-a", "--partitions", "2");
    expect(shrink.code).toBe(1);
    expect(shrink.err).toContain("INVALID_PARTITIONS");

    expect(await krill("topic", "delete", "cli-a", "cli-b")).toEqual({ code: 0, out: "", err: "" });
    const gone = await krill("topic", "describe", "cli-a");
    expect(gone.code).toBe(1);
    expect(gone.err).toContain("UNKNOWN_TOPIC_OR_PARTITION");
    expect((await krill("topic", "delete", "cli-a")).code).toBe(1);
    expect((await krill("topic", "delete", "cli-a", "--if-exists")).code).toBe(0);
  });

  it("answers usage errors with status 2 and the command's usage", async () => {
    const bad = await krill("topic", "create", "x", "--partitions", "zero");
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--partitions must be an integer");
    expect(bad.err).toContain("Usage: krill topic");
    expect((await krill("topic", "frobnicate")).code).toBe(2);
    expect((await krill("topic", "list", "--no-such-option")).err).toContain(
      'unknown option "--no-such-option"',
    );
    const help = await krill("topic", "create", "--help");
    expect(help.code).toBe(0);
    expect(help.out).toContain("Usage: krill topic");
  });

  it("fails with status 1 and a clear message when no broker answers", async () => {
    let err = "";
    const code = await runAdmin(["topic", "list", "--bootstrap-server", "127.0.0.1:1", "--timeout", "2000"], {
      out: () => {},
      err: (t) => {
        err += t;
      },
    });
    expect(code).toBe(1);
    expect(err).toContain("no broker answered at 127.0.0.1:1");
  });
});

describe("krill group", () => {
  it("lists and describes groups with committed offsets, log end offsets and lag, and deletes them", async () => {
    expect((await krill("topic", "create", "lagged", "--partitions", "2")).code).toBe(0);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: "lagged",
      messages: [
        ...Array.from({ length: 7 }, () => ({ partition: 0, value: "a" })),
        ...Array.from({ length: 4 }, () => ({ partition: 1, value: "b" })),
      ],
    });
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.setOffsets({
      groupId: "cli-billing",
      topic: "lagged",
      partitions: [{ partition: 0, offset: "5" }],
    });
    await admin.disconnect();

    const list = await krill("group", "list");
    expect(list.out.split("\n")).toContain("cli-billing");
    const withState = await krill("group", "list", "--state");
    expect(rows(withState.out)).toContainEqual(["cli-billing", "Empty"]);

    const described = await krill("group", "describe", "cli-billing");
    expect(described.code).toBe(0);
    expect(described.err).toContain("Consumer group 'cli-billing' has no active members.");
    expect(described.out).toMatch(
      /^\nGROUP +TOPIC +PARTITION +CURRENT-OFFSET +LOG-END-OFFSET +LAG +CONSUMER-ID +HOST +CLIENT-ID\n/,
    );
    expect(rows(described.out)).toEqual([["cli-billing", "lagged", "0", "5", "7", "2", "-", "-", "-"]]);

    // A live member: the partitions it holds, with the offsets it has not committed yet.
    const consumer = kafka.consumer({ groupId: "cli-live", sessionTimeout: 30_000 });
    await consumer.connect();
    await consumer.subscribe({ topic: "lagged", fromBeginning: true });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({ autoCommit: false, eachMessage: async () => {} });
    await joined;
    try {
      const live = await krill("group", "describe", "cli-live");
      expect(live.code).toBe(0);
      const liveRows = rows(live.out);
      expect(liveRows.map((r) => r.slice(0, 6))).toEqual([
        ["cli-live", "lagged", "0", "-", "7", "-"],
        ["cli-live", "lagged", "1", "-", "4", "-"],
      ]);
      expect(liveRows[0]![6]).toMatch(/^kafkajs-/);
      const members = await krill("group", "describe", "cli-live", "--members", "--verbose");
      expect(rows(members.out)).toHaveLength(1);
      expect(members.out).toContain("lagged(0,1)");
      const state = await krill("group", "describe", "cli-live", "--state");
      expect(rows(state.out)[0]).toEqual([
        "cli-live",
        `${broker.bootstrap}`,
        "(1)",
        "RoundRobinAssigner",
        "Stable",
        "1",
      ]);
      // A group with a member cannot be deleted.
      const busy = await krill("group", "delete", "cli-live");
      expect(busy.code).toBe(1);
      expect(busy.err).toContain("NON_EMPTY_GROUP");
    } finally {
      await consumer.disconnect();
    }

    const missing = await krill("group", "describe", "cli-nobody");
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("Consumer group 'cli-nobody' does not exist.");

    expect(await krill("group", "delete", "cli-billing")).toEqual({
      code: 0,
      out: "Deletion of requested consumer groups ('cli-billing') was successful.\n",
      err: "",
    });
    expect((await krill("group", "list")).out.split("\n")).not.toContain("cli-billing");
  });
});

describe("krill config", () => {
  it("gets and sets topic and broker configs as kafka-configs does", async () => {
    expect((await krill("topic", "create", "configured")).code).toBe(0);
    expect(
      await krill(
        "config",
        "set",
        "--topic",
        "configured",
        "--add-config",
        "retention.ms=1000,cleanup.policy=[compact,delete]",
      ),
    ).toEqual({
      code: 0,
      out: "Completed updating config for topic configured.\n",
      err: "",
    });
    const got = await krill("config", "get", "--topic", "configured");
    expect(got.out).toBe(
      "Dynamic configs for topic configured are:\n" +
        "  cleanup.policy=compact,delete sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:cleanup.policy=compact,delete, DEFAULT_CONFIG:log.cleanup.policy=delete}\n" +
        "  retention.ms=1000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=1000}\n",
    );
    const notSet = await krill(
      "config",
      "set",
      "--entity-type",
      "topics",
      "--entity-name",
      "configured",
      "--delete-config",
      "segment.ms",
    );
    expect(notSet).toEqual({ code: 1, out: "", err: "Invalid config(s): segment.ms\n" });
    expect((await krill("config", "set", "--topic", "configured", "--delete", "retention.ms")).code).toBe(0);
    expect((await krill("config", "get", "--topic", "configured")).out).not.toContain("retention.ms");
    const invalid = await krill("config", "set", "--topic", "configured", "--set", "retention.ms=soon");
    expect(invalid.code).toBe(1);
    expect(invalid.err).toContain("INVALID_CONFIG");

    expect((await krill("config", "set", "--broker", "1", "--set", "log.retention.ms=3600000")).code).toBe(0);
    expect((await krill("config", "get", "--broker", "1")).out).toContain(
      "  log.retention.ms=3600000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:log.retention.ms=3600000",
    );
    const all = await krill("config", "get", "--broker", "1", "--all");
    expect(all.out.startsWith("All configs for broker 1 are:\n")).toBe(true);
    expect(all.out).toContain("  num.partitions=2 sensitive=false");
    expect((await krill("config", "get", "--broker-defaults")).out).toBe(
      "Default configs for brokers in the cluster are:\n",
    );
    expect((await krill("config", "get")).code).toBe(2);
  });
});

describe("krill cluster", () => {
  it("prints the cluster id, the controller and the brokers", async () => {
    const info = await krill("cluster", "info");
    expect(info.code).toBe(0);
    const [idLine, controllerLine, header, broker1] = info.out.split("\n");
    expect(idLine).toMatch(/^Cluster ID: [A-Za-z0-9_-]{22}$/);
    expect(controllerLine).toBe("Controller ID: 1");
    expect(header!.split("\t").map((c) => c.trim())).toEqual([
      "BROKER-ID",
      "HOST",
      "PORT",
      "RACK",
      "STATUS",
      "",
    ]);
    expect(broker1!.split("\t").map((c) => c.trim())).toEqual([
      "1",
      broker.host,
      String(broker.port),
      "-",
      "unfenced",
      "",
    ]);
  });
});

describe("option parsing", () => {
  it("takes --name value, --name=value, aliases, flags and positionals", () => {
    const parsed = parseOptions(
      ["a", "--partitions=3", "-t", "b", "--if-not-exists", "c"],
      [
        { name: "--partitions", value: true },
        { name: "--topic", value: true, aliases: ["-t"] },
        { name: "--if-not-exists" },
      ],
    );
    expect(parsed.positional).toEqual(["a", "c"]);
    expect(parsed.values.get("--partitions")).toEqual(["3"]);
    expect(parsed.values.get("--topic")).toEqual(["b"]);
    expect(parsed.flags.has("--if-not-exists")).toBe(true);
    expect(() => parseOptions(["--if-not-exists=1"], [{ name: "--if-not-exists" }])).toThrow(UsageError);
    expect(() => parseOptions(["--partitions"], [{ name: "--partitions", value: true }])).toThrow(UsageError);
  });
});
