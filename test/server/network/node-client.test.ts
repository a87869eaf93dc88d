import net from "node:net";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isKrillError, type KrillErrorCode } from "../../../src/errors.js";
import { type BrokerHandle, startBroker } from "../../../src/index.js";
import { encodeApiVersionsResponse } from "../../../src/protocol/generated/api-versions-response.js";
import {
  API_VERSIONS_API,
  type ApiDescriptor,
  BROKER_HEARTBEAT_API,
  METADATA_API,
} from "../../../src/protocol/generated/apis.js";
import { defaultMetadataRequest } from "../../../src/protocol/generated/metadata-request.js";
import { Reader } from "../../../src/protocol/primitives/reader.js";
import { Writer } from "../../../src/protocol/primitives/writer.js";
import { FrameDecoder } from "../../../src/server/network/frame-decoder.js";
import { NodeClient, type NodeClientOptions } from "../../../src/server/network/node-client.js";

const logger = pino({ level: "silent" });
const clients: NodeClient[] = [];

function nodeClient(port: number, options: Partial<NodeClientOptions> = {}): NodeClient {
  const c = new NodeClient({
    endpoint: { host: "127.0.0.1", port },
    clientId: "node-test",
    logger,
    ...options,
  });
  clients.push(c);
  return c;
}

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

async function rejection(p: Promise<unknown>): Promise<KrillErrorCode> {
  try {
    await p;
  } catch (err) {
    if (isKrillError(err)) return err.code;
    throw err;
  }
  throw new Error("expected a rejection");
}

function metadataRequest() {
  return { ...defaultMetadataRequest(), topics: null };
}

describe("NodeClient against a Krill broker", () => {
  let broker: BrokerHandle;
  beforeAll(async () => {
    broker = await startBroker({});
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it("negotiates versions with ApiVersions and sends at the highest both serve", async () => {
    const c = nodeClient(broker.port);
    const res = await c.request(METADATA_API, metadataRequest());
    expect(res.brokers.map((b) => b.port)).toContain(broker.port);
    const served = broker.broker.context.registry.get(METADATA_API.apiKey)!;
    expect(c.peerVersions(METADATA_API.apiKey)).toEqual({
      min: served.advertisedMinVersion,
      max: served.maxVersion,
    });
    // An explicit version is used as given (v1 has no cluster id in the answer).
    const v1 = await c.request(METADATA_API, metadataRequest(), { version: 1 });
    expect(v1.clusterId).toBeNull();
    expect(res.clusterId).toBe(broker.broker.context.clusterId);
  });

  it("refuses an API or a version the peer does not serve with UNSUPPORTED_VERSION", async () => {
    const c = nodeClient(broker.port);
    if (broker.broker.context.registry.get(BROKER_HEARTBEAT_API.apiKey) === undefined) {
      expect(
        await rejection(
          c.request(BROKER_HEARTBEAT_API, {
            brokerId: 1,
            brokerEpoch: 1n,
            currentMetadataOffset: 0n,
            wantFence: false,
            wantShutDown: false,
            offlineLogDirs: [],
          } as never),
        ),
      ).toBe("UNSUPPORTED_VERSION");
    }
    expect(await rejection(c.request(METADATA_API, metadataRequest(), { version: 99 }))).toBe(
      "UNSUPPORTED_VERSION",
    );
    // The connection is still good.
    expect((await c.request(METADATA_API, metadataRequest())).brokers.length).toBe(1);
  });

  it("pipelines up to inFlightMax and queues the rest, answering each request with its own response", async () => {
    const c = nodeClient(broker.port, { inFlightMax: 2, queuedMax: 50 });
    const versions = Array.from({ length: 40 }, (_, i) => 1 + (i % 12));
    const answers = await Promise.all(
      versions.map((version) => c.request(METADATA_API, metadataRequest(), { version })),
    );
    // Metadata v2+ names the cluster id: each answer decoded at its own request's version.
    expect(answers.map((a) => a.clusterId === null)).toEqual(versions.map((v) => v < 2));
    const overflow = Array.from({ length: 60 }, () => c.request(METADATA_API, metadataRequest()));
    const outcomes = await Promise.allSettled(overflow);
    const refused = outcomes.filter(
      (o) => o.status === "rejected" && isKrillError(o.reason, "REQUEST_QUEUE_FULL"),
    ).length;
    expect(refused).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o.status === "fulfilled").length).toBe(60 - refused);
  });

  it("fails a request with NETWORK_EXCEPTION when the peer is gone, and every request after close()", async () => {
    const b = await startBroker({});
    const port = b.port;
    const c = nodeClient(port, { reconnectBackoffMs: 20, reconnectBackoffMaxMs: 40 });
    await c.request(METADATA_API, metadataRequest());
    await b.stop();
    expect(await rejection(c.request(METADATA_API, metadataRequest()))).toBe("NETWORK_EXCEPTION");
    c.close();
    expect(await rejection(c.request(METADATA_API, metadataRequest()))).toBe("NETWORK_EXCEPTION");
  });
});

/** What a fake peer does with one request (after ApiVersions, which it answers itself). */
type Behaviour = (apiKey: number, version: number, correlationId: number, socket: net.Socket) => void;

interface FakePeer {
  port: number;
  requests: { apiKey: number; version: number }[];
  connections: number;
  behaviour: Behaviour;
  close(): Promise<void>;
}

function sizePrefixed(body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeInt32BE(body.length);
  return Buffer.concat([head, body]);
}

function apiVersionsAnswer(
  correlationId: number,
  version: number,
  errorCode: number,
  apis: ApiDescriptor[],
): Buffer {
  const w = new Writer();
  w.writeInt32(correlationId);
  encodeApiVersionsResponse(
    w,
    {
      errorCode,
      apiKeys: apis.map((a) => ({ apiKey: a.apiKey, minVersion: a.minVersion, maxVersion: a.maxVersion })),
      throttleTimeMs: 0,
      supportedFeatures: [],
      finalizedFeaturesEpoch: -1n,
      finalizedFeatures: [],
      zkMigrationReady: false,
    },
    version,
  );
  return sizePrefixed(w.finish());
}

/** Answers Metadata with a v(any) response built by the test, or misbehaves as told. */
async function fakePeer(options: { apiVersionsMax?: number } = {}): Promise<FakePeer> {
  const sockets = new Set<net.Socket>();
  const peer: FakePeer = {
    port: 0,
    requests: [],
    connections: 0,
    behaviour: () => {},
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = net.createServer((socket) => {
    peer.connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    const decoder = new FrameDecoder(1 << 20);
    socket.on("data", (chunk: Buffer) => {
      decoder.push(chunk);
      for (let f = decoder.next(); f !== undefined; f = decoder.next()) {
        const r = new Reader(f);
        const apiKey = r.readInt16();
        const version = r.readInt16();
        const correlationId = r.readInt32();
        if (apiKey === API_VERSIONS_API.apiKey) {
          const max = options.apiVersionsMax ?? API_VERSIONS_API.maxVersion;
          socket.write(
            version > max
              ? apiVersionsAnswer(correlationId, 0, 35, [
                  { ...API_VERSIONS_API, maxVersion: max } as ApiDescriptor,
                ])
              : apiVersionsAnswer(correlationId, version, 0, [
                  { ...API_VERSIONS_API, maxVersion: max } as ApiDescriptor,
                  METADATA_API as ApiDescriptor,
                ]),
          );
          continue;
        }
        peer.requests.push({ apiKey, version });
        peer.behaviour(apiKey, version, correlationId, socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  peer.port = (server.address() as net.AddressInfo).port;
  return peer;
}

function metadataAnswer(correlationId: number, version: number): Buffer {
  const w = new Writer();
  w.writeInt32(correlationId);
  if (METADATA_API.responseHeaderVersion(version) >= 1) w.writeUnsignedVarint(0);
  METADATA_API.encodeResponse(
    w,
    {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 7, host: "fake", port: 1, rack: null }],
      clusterId: "fake-cluster",
      controllerId: 7,
      topics: [],
      clusterAuthorizedOperations: -2147483648,
      errorCode: 0,
    } as never,
    version,
  );
  return sizePrefixed(w.finish());
}

describe("NodeClient against a fake peer", () => {
  const peers: FakePeer[] = [];
  afterEach(async () => {
    for (const p of peers.splice(0)) await p.close();
  });
  async function peer(options: { apiVersionsMax?: number } = {}) {
    const p = await fakePeer(options);
    peers.push(p);
    return p;
  }

  it("retries ApiVersions at the peer's version when it answers UNSUPPORTED_VERSION in v0 format", async () => {
    const p = await peer({ apiVersionsMax: 2 });
    p.behaviour = (_k, version, id, socket) => socket.write(metadataAnswer(id, version));
    const c = nodeClient(p.port);
    const built: number[] = [];
    // A body given as a function is built for the version chosen (AbstractRequest.Builder.build).
    const res = await c.request(METADATA_API, (version) => {
      built.push(version);
      return metadataRequest();
    });
    expect(res.clusterId).toBe("fake-cluster");
    expect(built).toEqual([METADATA_API.maxVersion]);
    expect(p.requests).toEqual([{ apiKey: METADATA_API.apiKey, version: METADATA_API.maxVersion }]);
    expect(c.peerVersions(API_VERSIONS_API.apiKey)).toEqual({ min: 0, max: 2 });
    // The peer lists no BrokerHeartbeat: refused here, nothing sent.
    expect(await rejection(c.request(BROKER_HEARTBEAT_API, {} as never))).toBe("UNSUPPORTED_VERSION");
    expect(p.requests.length).toBe(1);
  });

  it("fails every request in flight with NETWORK_EXCEPTION when the peer disconnects", async () => {
    const p = await peer();
    let seen = 0;
    p.behaviour = (_k, _v, _id, socket) => {
      if (++seen === 3) socket.destroy();
    };
    const c = nodeClient(p.port, { reconnectBackoffMs: 10_000 });
    const pending = [1, 2, 3].map(() => c.request(METADATA_API, metadataRequest()));
    for (const r of pending) expect(await rejection(r)).toBe("NETWORK_EXCEPTION");
    // Within the reconnect backoff, requests fail at once without a new connection.
    expect(await rejection(c.request(METADATA_API, metadataRequest()))).toBe("NETWORK_EXCEPTION");
    expect(p.connections).toBe(1);
  });

  it("times out a request with REQUEST_TIMED_OUT, drops the connection, and recovers on the next one", async () => {
    const p = await peer();
    let silent = true;
    p.behaviour = (_k, version, id, socket) => {
      if (!silent) socket.write(metadataAnswer(id, version));
    };
    const c = nodeClient(p.port, { reconnectBackoffMs: 5, reconnectBackoffMaxMs: 5 });
    const first = c.request(METADATA_API, metadataRequest(), { timeoutMs: 100 });
    const second = c.request(METADATA_API, metadataRequest(), { timeoutMs: 5_000 });
    expect(await rejection(first)).toBe("REQUEST_TIMED_OUT");
    expect(await rejection(second)).toBe("NETWORK_EXCEPTION");
    silent = false;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await c.request(METADATA_API, metadataRequest())).clusterId).toBe("fake-cluster");
    expect(p.connections).toBe(2);
  });

  it("drops the connection on a response frame above responseBytesMax or a wrong correlation id", async () => {
    const p = await peer();
    p.behaviour = (_k, version, id, socket) => {
      const frame = metadataAnswer(id, version);
      socket.write(frame);
    };
    const small = nodeClient(p.port, { responseBytesMax: 20 });
    // ApiVersions' own answer is larger than 20 bytes: the connection never becomes ready.
    expect(await rejection(small.request(METADATA_API, metadataRequest()))).toBe("NETWORK_EXCEPTION");

    p.behaviour = (_k, version, id, socket) => socket.write(metadataAnswer(id + 1, version));
    const c = nodeClient(p.port);
    expect(await rejection(c.request(METADATA_API, metadataRequest()))).toBe("NETWORK_EXCEPTION");
  });

  it("fails with NETWORK_EXCEPTION when nothing listens, and when close() is called with requests pending", async () => {
    const p = await peer();
    const port = p.port;
    await p.close();
    peers.splice(0);
    const refused = nodeClient(port);
    expect(await rejection(refused.request(METADATA_API, metadataRequest()))).toBe("NETWORK_EXCEPTION");

    const q = await peer();
    q.behaviour = () => {};
    const c = nodeClient(q.port);
    const pending = c.request(METADATA_API, metadataRequest());
    const queued = Array.from({ length: 10 }, () => c.request(METADATA_API, metadataRequest()));
    await new Promise((resolve) => setTimeout(resolve, 20));
    c.close();
    expect(await rejection(pending)).toBe("NETWORK_EXCEPTION");
    for (const r of queued) expect(await rejection(r)).toBe("NETWORK_EXCEPTION");
  });

  it("follows an endpoint lookup: none known fails, a moved endpoint is used once the connection is idle", async () => {
    const a = await peer();
    const b = await peer();
    a.behaviour = (_k, version, id, socket) => socket.write(metadataAnswer(id, version));
    b.behaviour = a.behaviour;
    let target: number | null = null;
    const c = new NodeClient({
      endpoint: () => (target === null ? null : { host: "127.0.0.1", port: target }),
      clientId: "node-test",
      logger,
    });
    clients.push(c);
    expect(await rejection(c.request(METADATA_API, metadataRequest()))).toBe("NETWORK_EXCEPTION");
    target = a.port;
    await c.request(METADATA_API, metadataRequest());
    target = b.port;
    await c.request(METADATA_API, metadataRequest());
    expect(a.requests.length).toBe(1);
    expect(b.requests.length).toBe(1);
  });
});
