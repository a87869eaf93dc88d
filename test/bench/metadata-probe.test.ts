import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  checkMetadataResponseV4,
  metadataRequestV4,
  waitForMetadata,
} from "../../bench/src/metadata-probe.js";

function frame(correlationId: number, brokers: number): Buffer {
  const body = Buffer.alloc(12);
  body.writeInt32BE(correlationId, 0);
  body.writeInt32BE(0, 4); // throttle_time_ms
  body.writeInt32BE(brokers, 8);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

let server: Server | null = null;
afterEach(() => {
  server?.close();
  server = null;
});

/** A fake broker answering every request with `reply(correlationId)`. */
function fakeBroker(reply: (correlationId: number) => Buffer): Promise<number> {
  return new Promise((resolve) => {
    server = createServer((socket) => {
      socket.once("data", (request: Buffer) => socket.write(reply(request.readInt32BE(8))));
      socket.on("error", () => undefined);
    });
    server.listen(0, "127.0.0.1", () => {
      const address = server!.address();
      resolve(typeof address === "object" && address ? address.port : 0);
    });
  });
}

describe("Metadata v4 probe", () => {
  it("encodes a Metadata v4 request asking for no topics", () => {
    const req = metadataRequestV4();
    expect(req.readInt32BE(0)).toBe(req.length - 4);
    expect(req.readInt16BE(4)).toBe(3);
    expect(req.readInt16BE(6)).toBe(4);
    // After the client id: an empty topic array and allow_auto_topic_creation = false.
    expect(req.readInt32BE(req.length - 5)).toBe(0);
    expect(req.readInt8(req.length - 1)).toBe(0);
  });

  it("accepts a response with brokers and the right correlation id only", () => {
    const id = metadataRequestV4().readInt32BE(8);
    expect(checkMetadataResponseV4(frame(id, 1))).toBeNull();
    expect(checkMetadataResponseV4(frame(id, 0))).toMatch(/no brokers/);
    expect(checkMetadataResponseV4(frame(id + 1, 1))).toMatch(/correlation/);
    expect(checkMetadataResponseV4(Buffer.alloc(6))).toMatch(/too short/);
  });

  it("waits for a broker that answers", async () => {
    const port = await fakeBroker((id) => frame(id, 1));
    expect(await waitForMetadata("127.0.0.1", port, 5000)).toBeNull();
  });

  it("gives up with the reason when the broker answers wrongly until the deadline", async () => {
    const port = await fakeBroker((id) => frame(id, 0));
    expect(await waitForMetadata("127.0.0.1", port, 300)).toMatch(/no brokers/);
  });

  it("rejects an implausible frame size without buffering it", async () => {
    const port = await fakeBroker(() => Buffer.from([0x7f, 0xff, 0xff, 0xff]));
    expect(await waitForMetadata("127.0.0.1", port, 200)).toMatch(/implausible/);
  });
});
