/**
 * The controller-listener handlers (src/server/controller-handlers): BrokerRegistration,
 * BrokerHeartbeat and AlterPartition decoded from the wire shapes and answered by the controller.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BrokerConfig } from "../../src/config/broker-config.js";
import { METADATA_VERSION_LATEST } from "../../src/metadata/features.js";
import { type LocalMetadata, openLocalMetadata } from "../../src/metadata/local-metadata.js";
import { ErrorCode } from "../../src/protocol/generated/error-codes.js";
import { type HandlerRegistry, loadHandlers, type RequestContext } from "../../src/server/registry.js";

const logger = pino({ level: "silent" });
const here = path.dirname(fileURLToPath(import.meta.url));
let dir: string;
let meta: LocalMetadata;
let registry: HandlerRegistry;

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "krill-ctl-handlers-"));
  const config = BrokerConfig.create({ "log.dirs": dir });
  meta = await openLocalMetadata({
    dir,
    logger,
    nodeId: 1,
    config: () => config,
    clusterId: "Q2x1c3Rlci1JZC0wMDAwMQ",
  });
  registry = await loadHandlers(path.join(here, "../../src/server/controller-handlers"));
});

afterEach(async () => {
  await meta.log.close();
  rmSync(dir, { recursive: true, force: true });
});

async function call(apiKey: number, apiVersion: number, request: unknown): Promise<Record<string, unknown>> {
  const handler = registry.get(apiKey)!;
  const ctx = {
    apiKey,
    apiVersion,
    broker: { controller: meta.channel },
    logger,
  } as unknown as RequestContext;
  return (await handler.handle(ctx, request as never)) as Record<string, unknown>;
}

describe("controller-listener handlers", () => {
  it("registers, heartbeats unfenced, and takes an AlterPartition v2 without broker epochs", async () => {
    expect(
      registry
        .all()
        .map((h) => h.apiKey)
        .sort((a, b) => a - b),
    ).toEqual([56, 62, 63]);
    const registered = await call(62, 4, {
      brokerId: 1,
      clusterId: "Q2x1c3Rlci1JZC0wMDAwMQ",
      incarnationId: "aW5jYXJuYXRpb24tMDAwMQ",
      listeners: [{ name: "PLAINTEXT", host: "localhost", port: 9092, securityProtocol: 0 }],
      features: [
        { name: "metadata.version", minSupportedVersion: 7, maxSupportedVersion: METADATA_VERSION_LATEST },
      ],
      rack: null,
      isMigratingZkBroker: false,
      logDirs: [],
      previousBrokerEpoch: -1n,
    });
    expect(registered.errorCode).toBe(ErrorCode.NONE);
    const brokerEpoch = registered.brokerEpoch as bigint;
    const heartbeat = await call(63, 2, {
      brokerId: 1,
      brokerEpoch,
      currentMetadataOffset: BigInt(meta.publisher.image.offset),
      wantFence: false,
      wantShutDown: false,
      offlineLogDirs: [],
      cordonedLogDirs: null,
    });
    expect(heartbeat).toMatchObject({
      errorCode: 0,
      isCaughtUp: true,
      isFenced: false,
      shouldShutDown: false,
    });
    const stale = await call(63, 2, {
      brokerId: 1,
      brokerEpoch: brokerEpoch - 1n,
      currentMetadataOffset: 0n,
      wantFence: false,
      wantShutDown: false,
      offlineLogDirs: [],
      cordonedLogDirs: null,
    });
    expect(stale.errorCode).toBe(ErrorCode.STALE_BROKER_EPOCH);

    const [created] = await meta.channel.createTopics(
      [{ name: "t", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      false,
    );
    const altered = await call(56, 2, {
      brokerId: 1,
      brokerEpoch,
      topics: [
        {
          topicId: created!.topicId,
          partitions: [
            {
              partitionIndex: 0,
              leaderEpoch: 0,
              newIsr: [1],
              newIsrWithEpochs: [],
              leaderRecoveryState: 0,
              partitionEpoch: 0,
            },
          ],
        },
      ],
    });
    expect(altered).toMatchObject({
      errorCode: 0,
      topics: [
        { partitions: [{ partitionIndex: 0, errorCode: 0, leaderId: 1, isr: [1], partitionEpoch: 0 }] },
      ],
    });
    const other = await call(62, 4, {
      brokerId: 2,
      clusterId: "b3RoZXItY2x1c3Rlci0wMQ",
      incarnationId: "aW5jYXJuYXRpb24tMDAwMg",
      listeners: [],
      features: [],
      rack: null,
      isMigratingZkBroker: false,
      logDirs: [],
      previousBrokerEpoch: -1n,
    });
    expect(other.errorCode).toBe(ErrorCode.INCONSISTENT_CLUSTER_ID);
  });
});
