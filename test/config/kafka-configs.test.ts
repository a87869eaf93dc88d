// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the values are Kafka's ${provider:path:key} syntax, not templates
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { BrokerConfig } from "../../src/config/broker-config.js";
import { resolveConfigVariables } from "../../src/config/config-providers.js";
import { PropertiesFile } from "../../src/config/properties.js";
import { isKrillError } from "../../src/errors.js";
import { startBroker } from "../../src/index.js";

const FIXTURES = path.resolve(import.meta.dirname, "fixtures");
const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), "krill-config-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isKrillError(err, "CONFIG_INVALID")).toBe(true);
    return (err as Error).message;
  }
  throw new Error("expected CONFIG_INVALID");
}

/** Starts a broker from `file` on a free loopback port and a temporary folder; returns its warnings. */
async function startWithWarnings(file: PropertiesFile): Promise<Array<Record<string, unknown>>> {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line.trim() !== "") lines.push(JSON.parse(line));
      done();
    },
  });
  const config = BrokerConfig.create(file, {
    listeners: "PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0",
    "advertised.listeners": "PLAINTEXT://127.0.0.1:0",
    "log.dirs": tempDir(),
  });
  const broker = await startBroker(config, { logger: pino({ level: "warn" }, sink) });
  await broker.stop();
  return lines.filter((l) => l.level === 40);
}

describe("real Kafka configurations", () => {
  it("Kafka 4.4's own config/server.properties starts Krill with no unknown key", async () => {
    const file = PropertiesFile.read(path.join(FIXTURES, "kafka-4.4-server.properties"));
    const config = BrokerConfig.create(file);
    expect(config.unknownKeys).toEqual([]);
    expect(config.unusedKafkaKeys).toContain("num.network.threads");
    expect(config.listeners.map((l) => `${l.name}://${l.host}:${l.port}`)).toEqual(["PLAINTEXT://:9092"]);
    const warnings = await startWithWarnings(file);
    expect(warnings.filter((w) => String(w.msg).includes("isn't a known config"))).toEqual([]);
  });

  it("a Confluent server.properties starts Krill, warning once per vendor key with its file and line", async () => {
    const filePath = path.join(FIXTURES, "confluent-server.properties");
    const file = PropertiesFile.read(filePath);
    const config = BrokerConfig.create(file);
    expect(config.unknownKeys.map((u) => u.key)).toEqual([
      "confluent.license.topic.replication.factor",
      "confluent.metadata.topic.replication.factor",
      "confluent.security.event.logger.exporter.kafka.topic.replicas",
      "confluent.balancer.enable",
      "confluent.balancer.topic.replication.factor",
      "confluent.cluster.link.enable",
      "confluent.support.metrics.enable",
      "confluent.support.customer.id",
      "confluent.metrics.reporter.bootstrap.servers",
      "confluent.metrics.reporter.topic.replicas",
    ]);
    expect(config.unknownKeys[0]).toEqual({
      key: "confluent.license.topic.replication.factor",
      origin: `${filePath}:16`,
    });
    const warnings = await startWithWarnings(file);
    const unknown = warnings.filter((w) => String(w.msg).includes("isn't a known config"));
    expect(unknown).toHaveLength(10);
    expect(unknown[0]).toMatchObject({
      key: "confluent.license.topic.replication.factor",
      origin: `${filePath}:16`,
      msg: "The configuration 'confluent.license.topic.replication.factor' was supplied but isn't a known config.",
    });
  });

  it("strict mode refuses a typo naming the file read and the line", () => {
    const dir = tempDir();
    const filePath = path.join(dir, "server.properties");
    writeFileSync(filePath, "# Kafka\nnode.id=1\n\nlog.retention.hour=24\n");
    const message = configError(() =>
      BrokerConfig.create(PropertiesFile.read(filePath), { "krill.config.strict": "true" }),
    );
    expect(message).toMatch(/^Unknown configuration log\.retention\.hour \(.*server\.properties:4\)/);
    expect(message).toContain(`${filePath}:4`);
    writeFileSync(filePath, "krill.config.strict=true\nlog.retention.hour=24\n");
    expect(configError(() => BrokerConfig.create(PropertiesFile.read(filePath)))).toContain(`${filePath}:2`);
    // A continued line is reported at the line it starts on.
    writeFileSync(filePath, "node.id=1\nnum.partitions=\\\n  x\n");
    expect(configError(() => BrokerConfig.create(PropertiesFile.read(filePath)))).toContain(
      `num.partitions (${filePath}:2)`,
    );
  });
});

describe("config providers", () => {
  const FILE = "org.apache.kafka.common.config.provider.FileConfigProvider";
  const DIR = "org.apache.kafka.common.config.provider.DirectoryConfigProvider";
  const ENV = "org.apache.kafka.common.config.provider.EnvVarConfigProvider";
  const raw = (entries: Record<string, string>) =>
    new Map(Object.entries(entries).map(([k, v]) => [k, { text: v, origin: "test:1" }]));

  it("resolves file, directory and env variables as Kafka's providers do", () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, "secrets.properties"), "partitions=7\nrack = r1\n");
    mkdirSync(path.join(dir, "secrets"));
    writeFileSync(path.join(dir, "secrets", "log-dir"), path.join(dir, "data"));
    const resolved = resolveConfigVariables(
      raw({
        "config.providers": "file,dir,env",
        "config.providers.file.class": FILE,
        "config.providers.dir.class": DIR,
        "config.providers.env.class": ENV,
        "config.providers.env.param.allowlist.pattern": "KRILL_TEST_.*",
        "num.partitions": "${file:" + path.join(dir, "secrets.properties") + ":partitions}",
        "broker.rack": "rack-${file:" + path.join(dir, "secrets.properties") + ":rack}",
        "log.dirs": "${dir:" + path.join(dir, "secrets") + ":log-dir}",
        "metrics.host": "${env::KRILL_TEST_HOST}",
      }),
      { KRILL_TEST_HOST: "0.0.0.0", OTHER: "x" },
    );
    expect(resolved.get("num.partitions")?.text).toBe("7");
    expect(resolved.get("broker.rack")?.text).toBe("rack-r1");
    expect(resolved.get("log.dirs")?.text).toBe(path.join(dir, "data"));
    expect(resolved.get("metrics.host")?.text).toBe("0.0.0.0");
    // Through BrokerConfig.create with the real environment.
    process.env.KRILL_TEST_PARTITIONS = "5";
    try {
      const config = BrokerConfig.create({
        "config.providers": "env",
        "config.providers.env.class": ENV,
        "num.partitions": "${env::KRILL_TEST_PARTITIONS}",
      });
      expect(config.int("num.partitions")).toBe(5);
      expect(config.unknownKeys).toEqual([]);
    } finally {
      delete process.env.KRILL_TEST_PARTITIONS;
    }
  });

  it("refuses what it cannot resolve, naming the key and the variable", () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, "a.properties"), "x=1\n");
    const cases: Array<[Record<string, string>, string]> = [
      [{ "num.partitions": "${vault:secret/kafka:partitions}" }, "does not declare a provider named vault"],
      [
        { "config.providers": "vault", "config.providers.vault.class": "io.example.VaultConfigProvider" },
        "Krill resolves only the config providers Kafka ships",
      ],
      [{ "config.providers": "file" }, "config.providers.file.class is not set"],
      [
        {
          "config.providers": "file",
          "config.providers.file.class": FILE,
          "num.partitions": "${file:" + path.join(dir, "a.properties") + ":missing}",
        },
        "cannot resolve: no such key",
      ],
      [
        {
          "config.providers": "file",
          "config.providers.file.class": FILE,
          "num.partitions": "${file:" + path.join(dir, "nope.properties") + ":x}",
        },
        "Could not read properties from file",
      ],
      [
        {
          "config.providers": "file",
          "config.providers.file.class": FILE,
          "config.providers.file.param.allowed.paths": "/etc/kafka",
          "num.partitions": "${file:" + path.join(dir, "a.properties") + ":x}",
        },
        "is not in config.providers.file.param.allowed.paths",
      ],
      [
        {
          "config.providers": "env",
          "config.providers.env.class": ENV,
          "config.providers.env.param.allowlist.pattern": "KAFKA_.*",
          "num.partitions": "${env::HOME}",
        },
        "cannot resolve: no such key",
      ],
      [
        { "config.providers": "env", "config.providers.env.class": ENV, "num.partitions": "${env:/x:HOME}" },
        "Path is not supported for EnvVarConfigProvider",
      ],
    ];
    for (const [entries, expected] of cases) {
      const message = configError(() => resolveConfigVariables(raw(entries), { HOME: "/root" }));
      expect(message, JSON.stringify(entries)).toContain(expected);
    }
    expect(configError(() => resolveConfigVariables(raw({ "num.partitions": "${vault:a:b}" })))).toMatch(
      /^num\.partitions \(test:1\) refers to \$\{vault:a:b\}/,
    );
  });
});
