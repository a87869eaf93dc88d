import { describe, expect, it } from "vitest";
import { BROKER_CONFIG_DEFS, BrokerConfig } from "../../src/config/broker-config.js";
import { parseConfigValue } from "../../src/config/config-def.js";
import { KAFKA_BROKER_CONFIG_KEYS } from "../../src/config/kafka-known-keys.js";
import { isKrillError } from "../../src/errors.js";

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isKrillError(err, "CONFIG_INVALID")).toBe(true);
    return (err as Error).message;
  }
  throw new Error("expected CONFIG_INVALID");
}

describe("BrokerConfig", () => {
  it("has Kafka's defaults", () => {
    const c = BrokerConfig.create({});
    expect(c.int("num.partitions")).toBe(1);
    expect(c.int("socket.request.max.bytes")).toBe(104857600);
    expect(c.int("message.max.bytes")).toBe(1048588);
    expect(c.int("log.segment.bytes")).toBe(1073741824);
    expect(c.bool("auto.create.topics.enable")).toBe(true);
    expect(c.logDirs).toEqual(["/tmp/kraft-combined-logs"]);
    expect(c.logRetentionMs).toBe(168 * 3_600_000);
    expect(c.listeners).toEqual([{ name: "PLAINTEXT", securityProtocol: "PLAINTEXT", host: "", port: 9092 }]);
    expect(c.list("log.cleanup.policy")).toEqual(["delete"]);
    expect(c.string("log.message.timestamp.type")).toBe("CreateTime");
    expect(c.int("log.message.timestamp.after.max.ms")).toBe(3_600_000);
  });

  it("every default passes its own validator", () => {
    for (const d of BROKER_CONFIG_DEFS)
      expect(() => parseConfigValue(d, d.defaultValue, "default")).not.toThrow();
  });

  it("applies retention precedence ms > minutes > hours", () => {
    expect(BrokerConfig.create({ "log.retention.hours": "1" }).logRetentionMs).toBe(3_600_000);
    expect(
      BrokerConfig.create({ "log.retention.hours": "1", "log.retention.minutes": "2" }).logRetentionMs,
    ).toBe(120_000);
    expect(
      BrokerConfig.create({ "log.retention.minutes": "2", "log.retention.ms": "5" }).logRetentionMs,
    ).toBe(5);
    expect(BrokerConfig.create({ "log.retention.ms": "-1" }).logRetentionMs).toBe(-1);
  });

  it("later sources override earlier ones; log.dirs beats log.dir", () => {
    const c = BrokerConfig.create(
      new Map([
        ["num.partitions", "3"],
        ["log.dir", "/a"],
      ]),
      { "num.partitions": 5, "log.dirs": "/b, /c" },
    );
    expect(c.int("num.partitions")).toBe(5);
    expect(c.logDirs).toEqual(["/b", "/c"]);
    expect(c.isExplicit("num.partitions")).toBe(true);
    expect(c.isExplicit("message.max.bytes")).toBe(false);
  });

  it("rejects invalid values naming the key and accepted values", () => {
    expect(configError(() => BrokerConfig.create({ "num.partitions": "0" }))).toMatch(
      /num\.partitions.*\[1,\.\.\.\]/,
    );
    expect(configError(() => BrokerConfig.create({ "num.partitions": "abc" }))).toContain("num.partitions");
    expect(configError(() => BrokerConfig.create({ "auto.create.topics.enable": "yes" }))).toContain(
      "auto.create.topics.enable",
    );
    expect(configError(() => BrokerConfig.create({ "log.message.timestamp.type": "Now" }))).toContain(
      "[CreateTime, LogAppendTime]",
    );
    expect(configError(() => BrokerConfig.create({ "log.cleanup.policy": "delete,shred" }))).toContain(
      "compact",
    );
    expect(configError(() => BrokerConfig.create({ "num.partitions": "99999999999" }))).toContain(
      "out of range",
    );
    expect(configError(() => BrokerConfig.create({ "metrics.port": "70000" }))).toContain("[0,...,65535]");
  });

  it("warns about unknown keys, refuses them in strict mode, accepts Kafka keys Krill does not use", () => {
    const c = BrokerConfig.create({
      "num.network.threads": "3",
      "num.partition": "3",
      "confluent.support.metrics.enable": "false",
      "listener.name.plaintext.max.connections.per.ip.overrides": "",
      "config.providers": "",
    });
    expect(c.unusedKafkaKeys).toEqual([
      "config.providers",
      "listener.name.plaintext.max.connections.per.ip.overrides",
      "num.network.threads",
    ]);
    expect(c.unknownKeys).toEqual([
      { key: "num.partition", origin: "override" },
      { key: "confluent.support.metrics.enable", origin: "override" },
    ]);
    expect(
      configError(() => BrokerConfig.create({ "num.partition": "3", "krill.config.strict": "true" })),
    ).toContain("Unknown configuration num.partition (override)");
    expect(BrokerConfig.create({ "num.partitions": "3", "krill.config.strict": "true" }).unknownKeys).toEqual(
      [],
    );
  });

  it("agrees with Kafka's ConfigDef on every key both define, but for the listed differences", () => {
    // Generated from Kafka's jars (tools/config-keys/generate.ts); each difference is deliberate.
    const differences: Record<string, string> = {
      "node.id": "default 1: a single node starts without configuration",
      "process.roles": "default broker,controller: always combined",
      "log.dir": "default /tmp/kraft-combined-logs, as Kafka's sample server.properties",
      "offsets.topic.replication.factor": "default 1: single node",
      "transaction.state.log.replication.factor": "default 1: single node",
      "group.coordinator.rebalance.protocols": "default without streams: Krill has no streams groups",
      listeners: "STRING, parsed as Kafka's LIST of NAME://host:port",
      "advertised.listeners": "STRING, parsed as Kafka's LIST",
      "controller.listener.names": "STRING, parsed as Kafka's LIST",
      "log.dirs": "STRING, parsed as Kafka's LIST",
    };
    const krillOnly = [
      "cluster.id",
      "group.max.offsets",
      "metrics.port",
      "metrics.host",
      "krill.log.format",
      "krill.config.strict",
      "krill.queued.max.response.bytes",
      "krill.queued.max.response.bytes.total",
    ];
    for (const d of BROKER_CONFIG_DEFS) {
      const kafka = KAFKA_BROKER_CONFIG_KEYS.get(d.name);
      if (kafka === undefined) {
        expect(krillOnly, d.name).toContain(d.name);
        continue;
      }
      if (d.name in differences) continue;
      expect(d.type, d.name).toBe(kafka.type);
      expect(d.defaultValue, d.name).toBe(kafka.defaultValue);
    }
  });

  it("parses listeners, advertised listeners and controller listeners", () => {
    const c = BrokerConfig.create({
      listeners: "PLAINTEXT://127.0.0.1:0,CONTROLLER://:9093,INTERNAL://[::1]:9094",
      "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT",
      "controller.listener.names": "CONTROLLER",
      "advertised.listeners": "PLAINTEXT://broker.example:19092",
    });
    expect(c.listeners.map((l) => `${l.name} ${l.host} ${l.port}`)).toEqual([
      "PLAINTEXT 127.0.0.1 0",
      "INTERNAL ::1 9094",
    ]);
    expect(c.advertisedListeners.map((l) => `${l.name} ${l.host} ${l.port}`)).toEqual([
      "PLAINTEXT broker.example 19092",
      "INTERNAL ::1 9094",
    ]);
  });

  it("rejects malformed listeners and unsupported security protocols", () => {
    expect(configError(() => BrokerConfig.create({ listeners: "localhost:9092" }))).toContain(
      "NAME://host:port",
    );
    expect(configError(() => BrokerConfig.create({ listeners: "PLAINTEXT://:99999" }))).toContain(
      "[0,...,65535]",
    );
    expect(configError(() => BrokerConfig.create({ listeners: "FOO://:9092" }))).toContain(
      "listener.security.protocol.map",
    );
    expect(configError(() => BrokerConfig.create({ listeners: "SASL_SSL://:9093" }))).toContain(
      "has no key store",
    );
    expect(configError(() => BrokerConfig.create({ listeners: "PLAINTEXT://:1,PLAINTEXT://:2" }))).toContain(
      "twice",
    );
    expect(
      configError(() =>
        BrokerConfig.create({
          "advertised.listeners": "OTHER://h:1",
          "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,OTHER:PLAINTEXT",
        }),
      ),
    ).toContain("not in listeners");
  });

  it("reconciles broker.id with node.id and checks cluster.id", () => {
    expect(BrokerConfig.create({ "broker.id": "7" }).nodeId).toBe(7);
    expect(configError(() => BrokerConfig.create({ "broker.id": "7", "node.id": "8" }))).toContain("differ");
    expect(configError(() => BrokerConfig.create({ "cluster.id": "short" }))).toContain("cluster.id");
    expect(BrokerConfig.create({ "cluster.id": "MkU3OEVBNTcwNTJENDM2Qg" }).string("cluster.id")).toBe(
      "MkU3OEVBNTcwNTJENDM2Qg",
    );
  });
});

describe("Kafka's sample KRaft server.properties", () => {
  it("loads unchanged, reporting the keys Krill does not use", async () => {
    const { parseProperties } = await import("../../src/config/properties.js");
    const text = `
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=localhost:9093
listeners=PLAINTEXT://:9092,CONTROLLER://:9093
inter.broker.listener.name=PLAINTEXT
advertised.listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
socket.receive.buffer.bytes=102400
socket.request.max.bytes=104857600
log.dirs=/tmp/kraft-combined-logs
num.partitions=1
num.recovery.threads.per.data.dir=1
offsets.topic.replication.factor=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
log.retention.hours=168
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
`;
    const c = BrokerConfig.create(parseProperties(text));
    expect(c.listeners.map((l) => l.name)).toEqual(["PLAINTEXT"]);
    expect(c.advertisedListeners).toEqual([
      { name: "PLAINTEXT", securityProtocol: "PLAINTEXT", host: "localhost", port: 9092 },
    ]);
    expect(c.unusedKafkaKeys).toContain("num.network.threads");
    expect(c.unusedKafkaKeys).toContain("share.coordinator.state.topic.min.isr");
  });
});
