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
  DESCRIBE_QUORUM_API,
  METADATA_API,
  VOTE_API,
} from "../../src/protocol/generated/apis.js";
import { defaultMetadataRequest } from "../../src/protocol/generated/metadata-request.js";
import { toWireRequest } from "../../src/raft/wire.js";
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

  it("answers quorum RPCs with BROKER_NOT_AVAILABLE on a node that is no quorum member", async () => {
    const res = await client(controllerPort).request(
      VOTE_API,
      toWireRequest(
        {
          api: "Vote",
          clusterId: null,
          voterId: 1,
          replicaEpoch: 1,
          replicaId: 2,
          lastOffsetEpoch: 0,
          lastOffset: 0,
          preVote: false,
        },
        2,
      ) as never,
    );
    expect(res).toMatchObject({ errorCode: 8, topics: [] });
  });
});
