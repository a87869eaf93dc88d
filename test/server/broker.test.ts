import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isKrillError } from "../../src/errors.js";
import { startBroker } from "../../src/index.js";
import { FETCH_API } from "../../src/protocol/generated/apis.js";
import {
  defaultFetchRequest,
  defaultFetchRequestFetchPartition,
  defaultFetchRequestFetchTopic,
} from "../../src/protocol/generated/fetch-request.js";
import { client, request } from "./wire.js";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), "krill-broker-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const topic = (name: string, numPartitions: number) => ({
  name,
  numPartitions,
  replicationFactor: 1,
  assignments: [],
  configs: [{ name: "retention.ms", value: "1234" }],
});

describe("broker lifecycle", () => {
  it("keeps cluster id, topics, ids, configs and dynamic broker configs across restarts", async () => {
    const dir = tempDir();
    const first = await startBroker({ "log.dirs": dir });
    const ctx = first.broker.context;
    const [created] = await ctx.controller.createTopics([topic("kept", 3)], false);
    await ctx.controller.alterBrokerConfigs(
      "1",
      [{ name: "message.max.bytes", value: "4000" }],
      false,
      false,
    );
    expect(ctx.config.int("message.max.bytes")).toBe(4000);
    const clusterId = ctx.clusterId;
    await first.stop();

    const second = await startBroker({ "log.dirs": dir });
    const image = second.broker.context.image();
    expect(second.broker.context.clusterId).toBe(clusterId);
    expect(image.topicsByName.get("kept")?.topicId).toBe(created!.topicId);
    expect(image.topicsByName.get("kept")?.partitions).toHaveLength(3);
    expect(image.topicConfigs("kept").get("retention.ms")).toBe("1234");
    expect(second.broker.context.config.int("message.max.bytes")).toBe(4000);
    // The partition logs exist again and carry the topic's settings.
    const log = second.broker.context.logs.getLog({ topic: "kept", partition: 2 });
    expect(log).toBeDefined();
    await second.stop();
  });

  it("refuses to start on directories of another node or cluster", async () => {
    const dir = tempDir();
    const b = await startBroker({ "log.dirs": dir });
    await b.stop();
    await expect(startBroker({ "log.dirs": dir, "node.id": 2 })).rejects.toSatisfy(
      (err: unknown) => isKrillError(err, "CONFIG_INVALID") && /node id/i.test((err as Error).message),
    );
    await expect(startBroker({ "log.dirs": dir, "cluster.id": "MkU3OEVBNTcwNTJENDM2Qg" })).rejects.toSatisfy(
      (err: unknown) => isKrillError(err, "CONFIG_INVALID") && /cluster\.id/.test((err as Error).message),
    );
  });

  it("refuses a second broker on directories a running one holds (log.dirs and metadata.log.dir)", async () => {
    const dir = tempDir();
    const metadataDir = tempDir();
    const first = await startBroker({ "log.dirs": dir, "metadata.log.dir": metadataDir });
    const lockedBy = (held: string) => (err: unknown) =>
      isKrillError(err, "STATE") &&
      (err as Error).message ===
        `Failed to acquire lock on file .lock in ${held}. A Kafka instance in another process or thread is using this directory.`;
    await expect(startBroker({ "log.dirs": dir })).rejects.toSatisfy(lockedBy(dir));
    await expect(startBroker({ "log.dirs": tempDir(), "metadata.log.dir": metadataDir })).rejects.toSatisfy(
      lockedBy(metadataDir),
    );
    // The first broker still serves, and its directories are free again once it stops.
    const [created] = await first.broker.context.controller.createTopics([topic("still-served", 1)], false);
    expect(created?.errorCode).toBe(0);
    await first.stop();
    const second = await startBroker({ "log.dirs": dir, "metadata.log.dir": metadataDir });
    await second.stop();
  });

  it("uses the configured cluster.id to format new directories", async () => {
    const b = await startBroker({ "log.dirs": tempDir(), "cluster.id": "MkU3OEVBNTcwNTJENDM2Qg" });
    expect(b.broker.context.clusterId).toBe("MkU3OEVBNTcwNTJENDM2Qg");
    await b.stop();
  });

  it("releases what it opened when start-up fails part-way", async () => {
    // The metrics endpoint is opened last: a port already taken there fails start-up after the
    // client listener is bound, which must then be released again.
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", () => resolve()));
    const takenPort = (blocker.address() as net.AddressInfo).port;
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", () => resolve()));
    const listenerPort = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const dir = tempDir();
    try {
      await expect(
        startBroker({
          "log.dirs": dir,
          listeners: `PLAINTEXT://127.0.0.1:${listenerPort}`,
          "metrics.port": takenPort,
        }),
      ).rejects.toThrow();
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
    // The listener port is free again and the directories start cleanly.
    const again = await startBroker({ "log.dirs": dir, listeners: `PLAINTEXT://127.0.0.1:${listenerPort}` });
    expect(again.port).toBe(listenerPort);
    await again.stop();
  });

  it("answers a request in flight (a long-polling fetch) before stopping", async () => {
    const b = await startBroker();
    const [created] = await b.broker.context.controller.createTopics([topic("poll", 1)], false);
    const c = await client(b.port);
    const fetch = {
      ...defaultFetchRequest(),
      maxWaitMs: 400,
      minBytes: 1,
      maxBytes: 1 << 20,
      topics: [
        {
          ...defaultFetchRequestFetchTopic(),
          topicId: created!.topicId,
          partitions: [
            {
              ...defaultFetchRequestFetchPartition(),
              partition: 0,
              fetchOffset: 0n,
              partitionMaxBytes: 1 << 20,
            },
          ],
        },
      ],
    };
    c.socket.write(request(FETCH_API, 13, 77, fetch));
    // Let the fetch start waiting, then stop: the broker must answer it before closing.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stopped = b.stop();
    const frame = await c.next();
    expect(frame.readInt32BE(0)).toBe(77);
    await stopped;
    await c.closed;
  });
});
