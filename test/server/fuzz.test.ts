import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../src/index.js";
import { API_VERSIONS_API, apiDescriptor } from "../../src/protocol/generated/apis.js";
import { type Client, client, request } from "./wire.js";

/**
 * Hostile input over the wire: well-formed headers for every served API and version with random
 * bodies, and random raw bytes. The broker may answer or close the connection, but must stay up
 * and keep serving other connections. Bounded in runs and time.
 */
describe("wire fuzzing", () => {
  let broker: BrokerHandle;

  beforeAll(async () => {
    broker = await startBroker({ "socket.request.max.bytes": 65536, "auto.create.topics.enable": false });
  });

  afterAll(async () => {
    await broker?.stop();
  });

  async function stillServes(): Promise<void> {
    const c = await client(broker.port);
    c.socket.write(request(API_VERSIONS_API, 0, 424242, Buffer.alloc(0)));
    expect((await c.next()).readInt32BE(0)).toBe(424242);
    c.socket.destroy();
  }

  /** Sends one frame and waits until it is answered or the connection closes. */
  async function exchange(c: Client, frame: Buffer): Promise<void> {
    c.socket.write(frame);
    const answered = c.next().then(
      () => undefined,
      () => undefined,
    );
    await Promise.race([answered, c.closed]);
  }

  it("survives random bodies for every served API and version", async () => {
    // Fetch is left out: a random max_wait_ms would make each run long-poll for up to 24 days.
    const handlers = broker.broker.context.registry.servedOn("broker").filter((h) => h.apiKey !== 1);
    const arbitrary = fc.record({
      handler: fc.constantFrom(...handlers),
      versionOffset: fc.nat(),
      body: fc.uint8Array({ maxLength: 96 }),
    });
    const deadline = Date.now() + 20_000;
    await fc.assert(
      fc.asyncProperty(arbitrary, async ({ handler, versionOffset, body }) => {
        if (Date.now() > deadline) return;
        const version = handler.minVersion + (versionOffset % (handler.maxVersion - handler.minVersion + 1));
        const api = apiDescriptor(handler.apiKey)!;
        const c = await client(broker.port);
        await exchange(c, request(api, version, 1, Buffer.from(body)));
        c.socket.destroy();
      }),
      { numRuns: 300 },
    );
    await stillServes();
  });

  it("survives random raw frames", async () => {
    const deadline = Date.now() + 10_000;
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 64 }), async (bytes) => {
        if (Date.now() > deadline) return;
        const c = await client(broker.port);
        const head = Buffer.alloc(4);
        head.writeInt32BE(bytes.length);
        await exchange(c, Buffer.concat([head, Buffer.from(bytes)]));
        c.socket.destroy();
      }),
      { numRuns: 200 },
    );
    await stillServes();
  });
});
