/**
 * Listeners by kind: a listener named in controller.listener.names is bound and serves only the
 * APIs whose spec lists "controller"; broker listeners serve the "broker" ones; ApiVersions on
 * each lists what that listener serves, as Kafka's do.
 */
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isKrillError } from "../../src/errors.js";
import { type BrokerHandle, startBroker } from "../../src/index.js";
import {
  API_VERSIONS_API,
  apiDescriptor,
  BEGIN_QUORUM_EPOCH_API,
  DESCRIBE_CLUSTER_API,
  DESCRIBE_QUORUM_API,
  FETCH_API,
  METADATA_API,
  VOTE_API,
} from "../../src/protocol/generated/apis.js";
import { defaultMetadataRequest } from "../../src/protocol/generated/metadata-request.js";
import type { VoteRequest } from "../../src/raft/types.js";
import { METADATA_TOPIC, toWireRequest } from "../../src/raft/wire.js";
import { NodeClient } from "../../src/server/network/node-client.js";
import { client as rawClient, request } from "./wire.js";

const logger = pino({ level: "silent" });

describe("controller and broker listeners", () => {
  let broker: BrokerHandle;
  let controllerPort: number;
  const clients: NodeClient[] = [];
  const client = (port: number) => {
    const c = new NodeClient({ endpoint: { host: "127.0.0.1", port }, clientId: "listener-test", logger });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    broker = await startBroker({
      listeners: "PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0",
      "controller.listener.names": "CONTROLLER",
    });
    controllerPort = broker.broker.boundListeners.find((l) => l.spec.name === "CONTROLLER")!.port;
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await broker?.stop();
  });

  const apiVersions = { clientSoftwareName: "t", clientSoftwareVersion: "1", clusterId: null, nodeId: -1 };

  it("lists on each listener only what it serves", async () => {
    const onBroker = await client(broker.port).request(API_VERSIONS_API, apiVersions);
    const onController = await client(controllerPort).request(API_VERSIONS_API, apiVersions);
    const keys = (r: typeof onBroker) => r.apiKeys.map((k) => k.apiKey);
    for (const key of keys(onBroker)) expect(apiDescriptor(key)!.listeners).toContain("broker");
    for (const key of keys(onController)) expect(apiDescriptor(key)!.listeners).toContain("controller");
    expect(keys(onController)).toEqual(expect.arrayContaining([1, 18, 52, 53, 54, 55, 59]));
    expect(keys(onController)).not.toContain(METADATA_API.apiKey);
    expect(keys(onBroker)).toContain(METADATA_API.apiKey);
    expect(keys(onBroker)).toContain(DESCRIBE_QUORUM_API.apiKey);
    expect(keys(onBroker)).not.toContain(VOTE_API.apiKey);
  });

  it("closes the connection for an API its listener does not serve", async () => {
    // NodeClient refuses what the peer does not list; a raw client sends it anyway.
    await expect(
      client(controllerPort).request(METADATA_API, { ...defaultMetadataRequest(), topics: null }),
    ).rejects.toSatisfy((err) => isKrillError(err, "UNSUPPORTED_VERSION"));
    const onController = await rawClient(controllerPort);
    onController.socket.write(request(METADATA_API, 12, 1, { ...defaultMetadataRequest(), topics: null }));
    await onController.closed;
    expect(onController.frames).toEqual([]);
    const onBroker = await rawClient(broker.port);
    onBroker.socket.write(request(METADATA_API, 12, 1, { ...defaultMetadataRequest(), topics: null }));
    expect((await onBroker.next()).readInt32BE(0)).toBe(1);
    onBroker.socket.destroy();
  });

  it("answers quorum RPCs as the leader of a quorum of one, as Kafka's lone controller", async () => {
    const endpoint = broker.broker.context.raftEndpoint!;
    const epoch = endpoint.epoch;
    expect(epoch).toBeGreaterThan(0);
    const c = client(controllerPort);
    const vote = (fields: Partial<VoteRequest>) =>
      c.request(
        VOTE_API,
        (version: number) =>
          toWireRequest(
            {
              api: "Vote",
              clusterId: broker.broker.context.clusterId,
              voterId: 1,
              replicaEpoch: epoch + 1,
              replicaId: 2,
              lastOffsetEpoch: epoch,
              lastOffset: 1000,
              preVote: false,
              ...fields,
            },
            version,
          ) as never,
      );
    // A candidate of a higher epoch: answered, not granted, naming this node as the leader.
    expect((await vote({})).topics[0]!.partitions[0]).toMatchObject({
      errorCode: 0,
      leaderId: 1,
      leaderEpoch: epoch,
      voteGranted: false,
    });
    expect(await vote({ clusterId: "another-cluster" })).toMatchObject({ errorCode: 104, topics: [] });
    expect((await vote({ voterId: 7 })).topics[0]!.partitions[0]!.errorCode).toBe(125); // INVALID_VOTER_KEY
    const stale = await vote({ preVote: true, replicaEpoch: epoch - 1, lastOffsetEpoch: 0 });
    expect(stale.topics[0]!.partitions[0]!.errorCode).toBe(74); // FENCED_LEADER_EPOCH
    expect((await vote({ lastOffset: -1 })).topics[0]!.partitions[0]!.errorCode).toBe(42);

    // Another node claiming leadership is not a voter of this quorum.
    const begin = await c.request(
      BEGIN_QUORUM_EPOCH_API,
      (version: number) =>
        toWireRequest(
          { api: "BeginQuorumEpoch", clusterId: null, voterId: 1, leaderId: 2, leaderEpoch: epoch + 1 },
          version,
        ) as never,
    );
    expect(begin.topics[0]!.partitions[0]).toMatchObject({ errorCode: 42, leaderId: 1, leaderEpoch: epoch });

    // Fetch of the metadata log: epochs checked as Kafka's leader does; its own epoch is not served.
    const fetch = (currentLeaderEpoch: number) =>
      c.request(
        FETCH_API,
        (version: number) =>
          toWireRequest(
            {
              api: "Fetch",
              clusterId: null,
              replicaId: 2,
              maxWaitMs: 0,
              maxBytes: 1 << 20,
              currentLeaderEpoch,
              fetchOffset: 0,
              lastFetchedEpoch: 0,
              highWatermark: -1,
            },
            version,
          ) as never,
      );
    const partition = async (e: number) => (await fetch(e)).responses[0]!.partitions[0]!;
    expect(await partition(epoch)).toMatchObject({
      errorCode: 8,
      currentLeader: { leaderId: 1, leaderEpoch: epoch },
    });
    expect((await partition(epoch + 1)).errorCode).toBe(75); // UNKNOWN_LEADER_EPOCH
    expect((await partition(epoch - 1)).errorCode).toBe(74);

    // DescribeQuorum through either listener, and DescribeCluster for --bootstrap-controller.
    const describe = { topics: [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: 0 }] }] };
    for (const port of [controllerPort, broker.port]) {
      const res = await client(port).request(DESCRIBE_QUORUM_API, describe);
      const p = res.topics[0]!.partitions[0]!;
      expect(p).toMatchObject({ errorCode: 0, leaderId: 1, leaderEpoch: epoch, observers: [] });
      expect(p.highWatermark).toBeGreaterThan(0n);
      expect(p.currentVoters).toMatchObject([{ replicaId: 1, logEndOffset: p.highWatermark }]);
      expect(res.nodes).toMatchObject([
        { nodeId: 1, listeners: [{ name: "CONTROLLER", port: controllerPort }] },
      ]);
    }
    const cluster = await c.request(DESCRIBE_CLUSTER_API, {
      includeClusterAuthorizedOperations: false,
      endpointType: 2,
      includeFencedBrokers: false,
    });
    expect(cluster).toMatchObject({
      errorCode: 0,
      endpointType: 2,
      controllerId: 1,
      brokers: [{ brokerId: 1, host: "127.0.0.1", port: controllerPort }],
    });
  });
});
