import { describe, expect, it } from "vitest";
import { loadConfig, parseArgs } from "../../src/cli.js";
import { brokerConfigFromEnv, brokerKeyOfEnvName } from "../../src/config/env.js";

describe("KAFKA_* environment variables, as Apache Kafka's container image reads them", () => {
  it("derives keys with the image's rules (_ is ., ___ is -, __ is _)", () => {
    expect(brokerKeyOfEnvName("KAFKA_LOG_RETENTION_MS")).toBe("log.retention.ms");
    expect(brokerKeyOfEnvName("KAFKA_ABC___DEF")).toBe("abc-def");
    expect(brokerKeyOfEnvName("KAFKA_ABC__DEF")).toBe("abc_def");
    expect(brokerKeyOfEnvName("KAFKA_LISTENER_NAME_PLAINTEXT_X")).toBe("listener.name.plaintext.x");
  });

  it("skips the launch scripts' variables and other prefixes", () => {
    const config = brokerConfigFromEnv({
      KAFKA_NUM_PARTITIONS: "3",
      KAFKA_HEAP_OPTS: "-Xmx1G",
      KAFKA_OPTS: "-Dx=y",
      KAFKA_LOG4J_ROOT_LOGLEVEL: "INFO",
      KRILL_LOG_LEVEL: "debug",
      PATH: "/bin",
    });
    expect([...config]).toEqual([["num.partitions", "3"]]);
  });

  it("takes the cluster id from CLUSTER_ID, as Kafka's image formats its storage, or KAFKA_CLUSTER_ID", () => {
    const id = "4L6g3nShT-eMCtK--X86sw";
    expect(brokerConfigFromEnv({ CLUSTER_ID: id }).get("cluster.id")).toBe(id);
    expect(brokerConfigFromEnv({ KAFKA_CLUSTER_ID: id }).get("cluster.id")).toBe(id);
    expect(brokerConfigFromEnv({ CLUSTER_ID: id, KAFKA_CLUSTER_ID: id }).get("cluster.id")).toBe(id);
    expect(brokerConfigFromEnv({ CLUSTER_ID: "" }).has("cluster.id")).toBe(false);
    expect(() => brokerConfigFromEnv({ CLUSTER_ID: id, KAFKA_CLUSTER_ID: "MkU3OEVBNTcwNTJENDM2Qk" })).toThrow(
      /CLUSTER_ID .* and KAFKA_CLUSTER_ID .* name different clusters/,
    );
  });

  it("formats empty log directories with CLUSTER_ID and refuses a node formatted for another cluster", async () => {
    const { mkdtempSync, rmSync } = await import("node:fs");
    const os = await import("node:os");
    const path = await import("node:path");
    const { startBroker } = await import("../../src/index.js");
    const dir = mkdtempSync(path.join(os.tmpdir(), "krill-env-"));
    try {
      const id = "4L6g3nShT-eMCtK--X86sw";
      const config = loadConfig(
        {
          configPath: undefined,
          overrides: new Map([
            ["log.dirs", dir],
            ["listeners", "PLAINTEXT://127.0.0.1:0"],
          ]),
          envConfig: true,
        },
        { CLUSTER_ID: id },
      );
      const broker = await startBroker(config);
      expect(broker.broker.context.clusterId).toBe(id);
      await broker.stop();
      const other = loadConfig(
        {
          configPath: undefined,
          overrides: new Map([
            ["log.dirs", dir],
            ["listeners", "PLAINTEXT://127.0.0.1:0"],
          ]),
          envConfig: true,
        },
        { CLUSTER_ID: "MkU3OEVBNTcwNTJENDM2Qk" },
      );
      await expect(startBroker(other)).rejects.toThrow(
        /cluster.id MkU3OEVBNTcwNTJENDM2Qk differs from 4L6g3nShT-eMCtK--X86sw/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("listens on every interface at the advertised ports when only the advertised listeners are set", () => {
    expect(
      brokerConfigFromEnv({
        KAFKA_ADVERTISED_LISTENERS: "PLAINTEXT://localhost:19092,OTHER://h.example:9094",
      }).get("listeners"),
    ).toBe("PLAINTEXT://0.0.0.0:19092,OTHER://0.0.0.0:9094");
    expect(
      brokerConfigFromEnv({
        KAFKA_ADVERTISED_LISTENERS: "PLAINTEXT://localhost:19092",
        KAFKA_LISTENERS: "PLAINTEXT://:9092",
      }).get("listeners"),
    ).toBe("PLAINTEXT://:9092");
    expect(
      brokerConfigFromEnv({
        KAFKA_ADVERTISED_LISTENERS: "PLAINTEXT://a:1",
        KAFKA_PROCESS_ROLES: "controller",
      }).has("listeners"),
    ).toBe(false);
  });

  it("applies over the file and under --override only with --env-config", () => {
    const env = { KAFKA_NUM_PARTITIONS: "4", KAFKA_ADVERTISED_LISTENERS: "PLAINTEXT://localhost:19092" };
    const withEnv = parseArgs(["start", "--env-config", "--override", "log.dirs=/tmp/x"]);
    expect(withEnv.kind).toBe("start");
    if (withEnv.kind !== "start") return;
    const config = loadConfig(withEnv.args, env);
    expect(config.get("num.partitions")).toBe(4);
    expect(config.get("advertised.listeners")).toBe("PLAINTEXT://localhost:19092");
    expect(config.get("listeners")).toBe("PLAINTEXT://0.0.0.0:19092");
    const overridden = parseArgs(["start", "--env-config", "--override", "num.partitions=7"]);
    if (overridden.kind !== "start") throw new Error("start expected");
    expect(loadConfig(overridden.args, env).get("num.partitions")).toBe(7);
    const without = parseArgs(["start"]);
    if (without.kind !== "start") throw new Error("start expected");
    expect(loadConfig(without.args, env).get("num.partitions")).toBe(1);
  });
});
