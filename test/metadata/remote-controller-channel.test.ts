/**
 * RemoteControllerChannel against a real controller: broker A is the active controller and
 * answers on its controller listener (its dispatcher, reached in process on a connection of
 * listener CONTROLLER, or its socket through NodeClient); "node B" is the channel plus a
 * publisher that replays A's committed batches after a delay, as a follower of the quorum would.
 */

import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isKrillError, KrillError } from "../../src/errors.js";
import { type BrokerHandle, startBroker } from "../../src/index.js";
import type { MetadataController } from "../../src/metadata/controller.js";
import type { ControllerChannel } from "../../src/metadata/controller-channel.js";
import { MetadataImage } from "../../src/metadata/image.js";
import { MetadataPublisher } from "../../src/metadata/publisher.js";
import {
  type ControllerNode,
  type ControllerRequester,
  RemoteControllerChannel,
} from "../../src/metadata/remote-controller-channel.js";
import type { ApiDescriptor } from "../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../src/protocol/generated/error-codes.js";
import { ZERO_UUID } from "../../src/protocol/primitives/uuid.js";
import { Dispatcher } from "../../src/server/dispatcher.js";
import { NodeClient } from "../../src/server/network/node-client.js";
import type { BrokerContext } from "../../src/server/services.js";
import { body, request } from "../server/wire.js";
import { registration } from "./cluster-helpers.js";

const logger = pino({ level: "silent" });
let a: BrokerHandle;
/** Whether A's controller is active (the quorum's leader). */
let aActive = true;
/** How long node B takes to replay each of A's batches. */
let replayDelayMs = 0;
let b: MetadataPublisher;

beforeAll(async () => {
  a = await startBroker({
    listeners: "PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0",
    "controller.listener.names": "CONTROLLER",
    "num.partitions": 1,
  });
  b = new MetadataPublisher(MetadataImage.EMPTY);
  // Node B replays A's committed batches in order, each after the replay delay.
  let replay = Promise.resolve();
  a.broker.context.publisher.onPublish((image, _previous, records) => {
    const batch = { lastOffset: image.offset, records };
    replay = replay.then(async () => {
      if (replayDelayMs > 0) await new Promise((r) => setTimeout(r, replayDelayMs));
      if (batch.lastOffset > b.image.offset) await b.handleCommit(batch);
    });
  });
  // What A had before the tests (its registration) reaches B at once.
  const image = a.broker.context.image();
  await b.handleCommit({ lastOffset: image.offset, records: image.toRecords() });
});

afterAll(async () => {
  await a?.stop();
});

afterEach(() => {
  aActive = true;
  replayDelayMs = 0;
});

/** A's controller listener, in process: A's dispatcher on a CONTROLLER connection. */
function controllerListener(hooks: { before?: () => void } = {}): ControllerRequester {
  const context: BrokerContext = {
    ...a.broker.context,
    config: a.broker.context.config,
    activeController: () => (aActive ? a.broker.context.activeController() : null),
  };
  const dispatcher = new Dispatcher(context.registry, context);
  const connection = {
    id: 7,
    listenerName: "CONTROLLER",
    remoteAddress: "127.0.0.1",
    remotePort: 1,
    logger,
  };
  let correlationId = 0;
  return {
    async request<Req, Res>(api: ApiDescriptor<Req, Res>, req: Req, options?: { version?: number }) {
      hooks.before?.();
      const handler = context.registry.get(api.apiKey)!;
      const version = options?.version ?? Math.min(api.maxVersion, handler.maxVersion);
      const frame = request(api as ApiDescriptor<Req, unknown>, version, ++correlationId, req).subarray(4);
      const outcome = await dispatcher.process(
        frame,
        connection,
        async () => {},
        () => undefined,
      );
      if (outcome.kind !== "respond") throw new KrillError("NETWORK_EXCEPTION", "closed");
      const response = Buffer.concat(outcome.chunks).subarray(4);
      return api.decodeResponse(body(response, api as ApiDescriptor<unknown, unknown>, version), version);
    },
  };
}

const A_NODE: ControllerNode = { id: 1, host: "127.0.0.1", port: 1 };

function channel(
  client: ControllerRequester,
  options: {
    active?: () => ControllerNode | null;
    local?: () => ControllerChannel | null;
  } = {},
): RemoteControllerChannel {
  return new RemoteControllerChannel({
    client,
    activeController: options.active ?? (() => A_NODE),
    localController: options.local,
    publisher: b,
    clusterId: a.broker.context.clusterId,
    logger,
    retryBackoffMs: 10,
    retryBackoffMaxMs: 40,
  });
}

const topic = (name: string, numPartitions = 1) => ({
  name,
  numPartitions,
  replicationFactor: -1,
  assignments: [],
  configs: [],
});

describe("RemoteControllerChannel", () => {
  it("creates topics on the active controller and answers once this node has published them", async () => {
    replayDelayMs = 100;
    const c = channel(controllerListener());
    const [created, dup] = await c.createTopics([topic("rc-a", 2), topic("rc-a", 2)], false, {
      timeoutMs: 5000,
    });
    // Both entries name the topic twice: the controller refuses both, as Kafka.
    expect(created!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect(dup!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    const [ok] = await c.createTopics([topic("rc-b", 2)], false, { timeoutMs: 5000 });
    expect(ok).toMatchObject({
      name: "rc-b",
      errorCode: ErrorCode.NONE,
      numPartitions: 2,
      replicationFactor: 1,
    });
    expect(ok!.topicId).toBe(a.broker.context.image().topicsByName.get("rc-b")!.topicId);
    // Published on node B before the call resolved, though B replays 100 ms late.
    expect(b.image.topicsById.get(ok!.topicId)?.partitions.length).toBe(2);
    const [exists] = await c.createTopics([topic("rc-b")], false, { timeoutMs: 5000 });
    expect(exists).toMatchObject({ errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, topicId: ZERO_UUID });
    const [validated] = await c.createTopics([topic("rc-v")], true, { timeoutMs: 5000 });
    expect(validated!.errorCode).toBe(ErrorCode.NONE);
    expect(a.broker.context.image().topicsByName.has("rc-v")).toBe(false);
  });

  it("adds partitions, alters configs both ways and deletes by id and by name", async () => {
    replayDelayMs = 50;
    const c = channel(controllerListener());
    const [t1] = await c.createTopics([topic("rc-c"), topic("rc-d")], false);
    const parts = await c.createPartitions([{ name: "rc-c", count: 3, assignments: null }], false, {
      timeoutMs: 5000,
    });
    expect(parts).toEqual([{ name: "rc-c", errorCode: ErrorCode.NONE, errorMessage: null }]);
    expect(b.image.topicsByName.get("rc-c")!.partitions.length).toBe(3);
    const fewer = await c.createPartitions([{ name: "rc-c", count: 2, assignments: null }], false);
    expect(fewer[0]!.errorCode).toBe(ErrorCode.INVALID_PARTITIONS);

    const set = await c.alterTopicConfigs(
      "rc-c",
      [
        { name: "retention.ms", value: "1000", op: 0 },
        { name: "cleanup.policy", value: "compact", op: 0 },
      ],
      true,
      false,
    );
    expect(set).toEqual({ errorCode: ErrorCode.NONE, errorMessage: null });
    expect(Object.fromEntries(b.image.topicConfigs("rc-c"))).toEqual({
      "retention.ms": "1000",
      "cleanup.policy": "compact",
    });
    const replaced = await c.alterTopicConfigs(
      "rc-c",
      [{ name: "retention.ms", value: "2000" }],
      false,
      false,
    );
    expect(replaced.errorCode).toBe(ErrorCode.NONE);
    expect(Object.fromEntries(b.image.topicConfigs("rc-c"))).toEqual({ "retention.ms": "2000" });
    const bad = await c.alterTopicConfigs("rc-c", [{ name: "retention.ms", value: "x", op: 0 }], true, false);
    expect(bad.errorCode).toBe(ErrorCode.INVALID_CONFIG);
    const unknown = await c.alterTopicConfigs("rc-none", [], true, false);
    expect(unknown.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const broker = await c.alterBrokerConfigs(
      "",
      [{ name: "log.retention.ms", value: "86400000", op: 0 }],
      true,
      false,
    );
    expect(broker.errorCode).toBe(ErrorCode.NONE);
    expect(b.image.brokerConfigs("").get("log.retention.ms")).toBe("86400000");

    const deleted = await c.deleteTopics(
      [
        { name: null, topicId: t1!.topicId },
        { name: "rc-d", topicId: null },
        { name: "rc-none", topicId: null },
      ],
      { timeoutMs: 5000 },
    );
    expect(deleted.map((d) => d.errorCode).sort()).toEqual(
      [ErrorCode.NONE, ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION].sort(),
    );
    expect(b.image.topicsByName.has("rc-c")).toBe(false);
    expect(b.image.topicsByName.has("rc-d")).toBe(false);
  });

  it("reserves producer-id blocks for a broker of the current epoch", async () => {
    const c = channel(controllerListener());
    const epoch = a.broker.context.image().brokers.get(1)!.brokerEpoch;
    await expect(c.allocateProducerIds(1, epoch + 1n)).rejects.toThrow(/STALE_BROKER_EPOCH/);
    const first = await c.allocateProducerIds(1, epoch);
    const second = await c.allocateProducerIds(1, epoch);
    expect(first.count).toBe(1000);
    expect(second.firstProducerId).toBe(first.firstProducerId + 1000n);
    expect(b.image.nextProducerId).toBe(second.firstProducerId + 1000n);
  });

  it("retries NOT_CONTROLLER, disconnects and no leader until the controller answers", async () => {
    let attempts = 0;
    let leaderKnown = false;
    aActive = false;
    const c = channel(
      controllerListener({
        before: () => {
          attempts++;
          if (attempts === 1) throw new KrillError("NETWORK_EXCEPTION", "connection refused");
          // Two NOT_CONTROLLER answers, then the quorum has no leader for a while, then A leads.
          if (attempts === 3) {
            leaderKnown = false;
            setTimeout(() => {
              leaderKnown = true;
              aActive = true;
            }, 100);
          }
        },
      }),
      { active: () => (attempts < 3 || leaderKnown ? A_NODE : null) },
    );
    const [created] = await c.createTopics([topic("rc-retry")], false, { timeoutMs: 10_000 });
    expect(created!.errorCode).toBe(ErrorCode.NONE);
    expect(attempts).toBe(4);
    expect(b.image.topicsByName.has("rc-retry")).toBe(true);
  });

  it("answers REQUEST_TIMED_OUT for every item when no controller answers in time", async () => {
    aActive = false;
    const c = channel(controllerListener());
    const results = await c.createTopics([topic("rc-t1"), topic("rc-t2")], false, { timeoutMs: 200 });
    expect(results.map((r) => [r.name, r.errorCode])).toEqual([
      ["rc-t1", ErrorCode.REQUEST_TIMED_OUT],
      ["rc-t2", ErrorCode.REQUEST_TIMED_OUT],
    ]);
    const none = channel(controllerListener(), { active: () => null });
    const parts = await none.createPartitions([{ name: "x", count: 2, assignments: null }], false, {
      timeoutMs: 100,
    });
    expect(parts[0]!.errorCode).toBe(ErrorCode.REQUEST_TIMED_OUT);
    const alter = await none.alterTopicConfigs("x", [], true, false, { timeoutMs: 100 });
    expect(alter.errorCode).toBe(ErrorCode.REQUEST_TIMED_OUT);
    const ids = new RemoteControllerChannel({
      client: controllerListener(),
      activeController: () => null,
      publisher: b,
      clusterId: "x",
      logger,
      timeoutMs: 100,
      retryBackoffMs: 10,
    });
    await expect(ids.allocateProducerIds(1, 0n)).rejects.toSatisfy((e) =>
      isKrillError(e, "REQUEST_TIMED_OUT"),
    );
  });

  it("answers UNKNOWN_SERVER_ERROR when the controller's versions do not fit", async () => {
    const c = channel({
      request: () => Promise.reject(new KrillError("UNSUPPORTED_VERSION", "no common version")),
    });
    const [r] = await c.createTopics([topic("rc-u")], false, { timeoutMs: 1000 });
    expect(r).toMatchObject({ errorCode: ErrorCode.UNKNOWN_SERVER_ERROR });
  });

  it("runs on this process's controller while it is the active one, retrying when it loses leadership", async () => {
    let localCalls = 0;
    const losing = {
      createTopics: () => {
        localCalls++;
        return Promise.reject(new KrillError("NOT_CONTROLLER", "leadership moved"));
      },
    } as unknown as MetadataController;
    let local: ControllerChannel | null = losing;
    const c = channel(
      controllerListener({
        before: () => {
          throw new Error("must not be called while local");
        },
      }),
      {
        local: () => {
          const now = local;
          local = a.broker.context.activeController();
          return now;
        },
      },
    );
    const [r] = await c.createTopics([topic("rc-local")], false);
    expect(r!.errorCode).toBe(ErrorCode.NONE);
    expect(localCalls).toBe(1);
  });

  it("goes over TCP with NodeClient", async () => {
    const client = new NodeClient({
      endpoint: { host: a.host, port: a.port },
      clientId: "krill-controller-channel",
      logger,
    });
    try {
      const c = channel(client);
      const [r] = await c.createTopics([topic("rc-tcp", 2)], false, { timeoutMs: 5000 });
      expect(r).toMatchObject({ errorCode: ErrorCode.NONE, numPartitions: 2 });
      expect(b.image.topicsByName.get("rc-tcp")?.topicId).toBe(r!.topicId);
      const [d] = await c.deleteTopics([{ name: null, topicId: r!.topicId }]);
      expect(d).toMatchObject({ name: "rc-tcp", errorCode: ErrorCode.NONE });
    } finally {
      client.close();
    }
  });

  it("registers a broker with the active controller", async () => {
    const c = channel(controllerListener());
    const incarnationId = "AAAAAAAAAAAAAAAAAAAAAg";
    const reply = await c.registerBroker(
      registration(2, {
        clusterId: a.broker.context.clusterId,
        incarnationId,
        listeners: [{ name: "PLAINTEXT", host: "127.0.0.2", port: 9092, securityProtocol: 0 }],
      }),
    );
    expect(reply.errorCode).toBe(ErrorCode.NONE);
    expect(a.broker.context.image().brokers.get(2)).toMatchObject({ incarnationId, rack: null });
    expect(b.image.brokers.get(2)?.incarnationId).toBe(incarnationId);
    const wrongCluster = new RemoteControllerChannel({
      client: controllerListener(),
      activeController: () => A_NODE,
      publisher: b,
      clusterId: "AAAAAAAAAAAAAAAAAAAAAw",
      logger,
    });
    const refused = await wrongCluster.registerBroker(
      registration(3, { clusterId: "AAAAAAAAAAAAAAAAAAAAAw", incarnationId, listeners: [] }),
    );
    expect(refused.errorCode).toBe(ErrorCode.INCONSISTENT_CLUSTER_ID);
  });

  it("over TCP: heartbeats unfence brokers, AlterPartition (v3) changes an ISR, a closed connection fences", async () => {
    // A's controller listener: BrokerHeartbeat and AlterPartition are served only there.
    const controllerPort = a.broker.boundListeners.find((l) => l.spec.name === "CONTROLLER")!.port;
    const client = new NodeClient({
      endpoint: { host: "127.0.0.1", port: controllerPort },
      clientId: "krill-controller-channel",
      logger,
    });
    const image = () => a.broker.context.image();
    try {
      const c = channel(client);
      const epochs = new Map<number, bigint>();
      for (const id of [4, 5]) {
        const reply = await c.registerBroker(
          registration(id, {
            clusterId: a.broker.context.clusterId,
            // Nothing listens on port 1: node A's fetcher, a follower here, just backs off.
            listeners: [{ name: "PLAINTEXT", host: "127.0.0.1", port: 1, securityProtocol: 0 }],
          }),
        );
        expect(reply.errorCode).toBe(ErrorCode.NONE);
        epochs.set(id, reply.brokerEpoch);
        const hb = await c.brokerHeartbeat({
          brokerId: id,
          brokerEpoch: reply.brokerEpoch,
          currentMetadataOffset: BigInt(image().offset),
          wantFence: false,
          wantShutDown: false,
        });
        expect(hb).toMatchObject({ errorCode: ErrorCode.NONE, isFenced: false });
      }
      const self = a.broker.context.nodeId;
      const [created] = await c.createTopics(
        [
          {
            name: "rc-isr",
            numPartitions: -1,
            replicationFactor: -1,
            assignments: [{ partitionIndex: 0, brokerIds: [4, 5, self] }],
            configs: [],
          },
        ],
        false,
        { timeoutMs: 5000 },
      );
      expect(created!.errorCode).toBe(ErrorCode.NONE);
      const before = image().topicsByName.get("rc-isr")!.partitions[0]!;
      expect(before).toMatchObject({ leader: 4, isr: [4, 5, self] });
      // The leader (broker 4) drops broker A from the ISR.
      const answer = await c.alterPartition({
        brokerId: 4,
        brokerEpoch: epochs.get(4)!,
        topics: [
          {
            topicId: created!.topicId,
            partitions: [
              {
                partitionIndex: 0,
                leaderEpoch: before.leaderEpoch,
                newIsr: [4, 5],
                newIsrWithEpochs: [
                  { brokerId: 4, brokerEpoch: epochs.get(4)! },
                  { brokerId: 5, brokerEpoch: epochs.get(5)! },
                ],
                leaderRecoveryState: 0,
                partitionEpoch: before.partitionEpoch,
              },
            ],
          },
        ],
      });
      expect(answer.errorCode).toBe(ErrorCode.NONE);
      expect(answer.topics[0]!.partitions[0]).toMatchObject({
        errorCode: ErrorCode.NONE,
        leaderId: 4,
        isr: [4, 5],
        partitionEpoch: before.partitionEpoch + 1,
      });
      expect(image().topicsByName.get("rc-isr")!.partitions[0]!.isr).toEqual([4, 5]);
    } finally {
      client.close();
    }
    // The connection that carried their heartbeats closed: both are fenced without waiting for
    // the session timeout (9 s), and broker 4's leadership moves to broker 5.
    const deadline = Date.now() + 5_000;
    while (![4, 5].every((id) => image().brokers.get(id)?.fenced) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(image().brokers.get(4)?.fenced).toBe(true);
    expect(image().brokers.get(5)?.fenced).toBe(true);
    expect(image().topicsByName.get("rc-isr")!.partitions[0]!.leader).not.toBe(4);
  });
});
