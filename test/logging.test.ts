/**
 * The broker's log lines (src/logging.ts, src/server/metadata-changes.ts): ISO-8601 timestamps and
 * level names, the pretty format, rate-limited client warnings, and the info lines admin actions
 * leave (created/deleted topic and partition, config changes) on a real broker driven by kafkajs.
 */
import { Kafka, logLevel } from "kafkajs";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";
import { startBroker } from "../src/index.js";
import { createLogger, prettyLine, RateLimitedWarning, resolveLogFormat } from "../src/logging.js";

/** A destination collecting the lines a logger writes. */
function sink(isTTY = false): { write(line: string): void; isTTY: boolean; lines: string[] } {
  const lines: string[] = [];
  return {
    isTTY,
    lines,
    write(line: string) {
      lines.push(...line.split("\n").filter((l) => l !== ""));
    },
  };
}

describe("log format", () => {
  it("writes JSON lines with an ISO-8601 time and the level's name", () => {
    const out = sink();
    const logger = createLogger({ level: "info", format: "json", destination: out });
    logger.info({ topic: "t" }, "created topic");
    logger.debug("not at info");
    expect(out.lines).toHaveLength(1);
    const line = JSON.parse(out.lines[0]!) as Record<string, unknown>;
    expect(line.level).toBe("info");
    expect(line.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(line).toMatchObject({ name: "krill", msg: "created topic", topic: "t" });
  });

  it("writes one readable line per entry in the pretty format, with an error's stack below it", () => {
    const out = sink();
    const logger = createLogger({ level: "info", format: "pretty", destination: out });
    logger.info({ topic: "orders", partitions: 3, reason: "a b" }, "created topic");
    logger.error({ err: new Error("boom") }, "handler failed");
    expect(out.lines[0]).toMatch(
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z INFO {2}created topic topic=orders partitions=3 reason="a b"$/,
    );
    expect(out.lines[1]).toMatch(/Z ERROR handler failed$/);
    expect(out.lines[2]).toBe("    Error: boom");
    expect(prettyLine("not json")).toBe("not json\n");
  });

  it("chooses pretty on a terminal and JSON elsewhere unless told", () => {
    expect(resolveLogFormat("auto", true)).toBe("pretty");
    expect(resolveLogFormat("auto", false)).toBe("json");
    expect(resolveLogFormat(undefined, true)).toBe("pretty");
    expect(resolveLogFormat("json", true)).toBe("json");
    expect(resolveLogFormat("pretty", false)).toBe("pretty");
    const tty = sink(true);
    createLogger({ level: "info", destination: tty }).info("x");
    expect(tty.lines[0]).toMatch(/Z \S*INFO /);
  });
});

describe("RateLimitedWarning", () => {
  it("logs a key at most once per interval and then says how many were held back", () => {
    const clock = new ManualClock(1_000);
    const warnings = new RateLimitedWarning(clock, 10_000, 2);
    const logged: unknown[] = [];
    const logger = { warn: (fields: object, message: string) => logged.push([fields, message]) };
    for (let i = 0; i < 5; i++)
      warnings.warn(logger, "bad frame|10.0.0.1", { reason: "r" }, "closing connection");
    warnings.warn(logger, "bad frame|10.0.0.2", { reason: "r" }, "closing connection");
    expect(logged).toHaveLength(2);
    clock.advance(10_000);
    warnings.warn(logger, "bad frame|10.0.0.1", { reason: "r" }, "closing connection");
    expect(logged[2]).toEqual([{ reason: "r", suppressed: 4 }, "closing connection"]);
    // Bounded keys: a third key evicts the oldest, whose next warning is logged at once.
    warnings.warn(logger, "k3", {}, "m");
    warnings.warn(logger, "bad frame|10.0.0.2", {}, "m");
    expect(logged).toHaveLength(5);
  });
});

describe("admin actions at info", () => {
  it("logs topic and partition creation, config changes and deletion", async () => {
    const out = sink();
    const broker = await startBroker(
      {},
      { logger: createLogger({ level: "info", format: "json", destination: out }) },
    );
    const kafka = new Kafka({
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 3 },
    });
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.createTopics({
        topics: [
          { topic: "orders", numPartitions: 2, configEntries: [{ name: "retention.ms", value: "60000" }] },
        ],
      });
      await admin.createPartitions({ topicPartitions: [{ topic: "orders", count: 3 }] });
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          { type: 2, name: "orders", configEntries: [{ name: "cleanup.policy", value: "compact" }] },
        ],
      });
      await admin.deleteTopics({ topics: ["orders"] });
    } finally {
      await admin.disconnect();
      await broker.stop();
    }
    const entries = out.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const byMsg = (msg: string) => entries.filter((e) => e.msg === msg && e.level === "info");
    expect(byMsg("created topic")).toEqual([
      expect.objectContaining({ topic: "orders", partitions: 2, replicationFactor: 1 }),
    ]);
    expect(byMsg("created partition")).toEqual([
      expect.objectContaining({ topic: "orders", partition: 2, leader: 1 }),
    ]);
    expect(byMsg("config changed")).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          resourceType: "topic",
          resource: "orders",
          key: "retention.ms",
          value: "60000",
        }),
        expect.objectContaining({ resource: "orders", key: "cleanup.policy", value: "compact" }),
      ]),
    );
    expect(byMsg("deleted topic")).toEqual([expect.objectContaining({ topic: "orders", partitions: 3 })]);
    expect(entries.every((e) => typeof e.time === "string" && typeof e.level === "string")).toBe(true);
  });
});
