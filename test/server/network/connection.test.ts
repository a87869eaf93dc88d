import net from "node:net";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { isLentReadBuffer, READ_BUFFER_BYTES, takeReadBuffer } from "../../../src/log/read-buffer-pool.js";
import {
  Connection,
  type ConnectionLimits,
  EXECUTING_MAX as EXECUTING_MAX_FOR_TEST,
  type FrameProcessor,
  type RequestOutcome,
} from "../../../src/server/network/connection.js";
import { FrameDecoder } from "../../../src/server/network/frame-decoder.js";
import { isLentFrameBuffer } from "../../../src/server/network/frame-pool.js";
import { ResponseMemory } from "../../../src/server/network/response-memory.js";

const logger = pino({ level: "silent" });

function frame(body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeInt32BE(body.length);
  return Buffer.concat([head, body]);
}

/** Reads size-prefixed frames from a socket. */
function collectFrames(socket: net.Socket): { frames: Buffer[]; closed: Promise<void> } {
  const frames: Buffer[] = [];
  const decoder = new FrameDecoder(1 << 30);
  socket.on("data", (chunk: Buffer) => {
    decoder.push(chunk);
    for (let f = decoder.next(); f !== undefined; f = decoder.next()) frames.push(Buffer.from(f));
  });
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  return { frames, closed };
}

const servers: net.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((resolve) => s.close(() => resolve()));
});

async function serve(
  processor: FrameProcessor,
  limits: Partial<ConnectionLimits> = {},
  onConnection: (c: Connection) => void = () => {},
): Promise<number> {
  const full: ConnectionLimits = {
    frameBytesMax: 1024,
    inFlightRequestsMax: 100,
    queuedResponseBytesMax: 1 << 20,
    idleMs: -1,
    ...limits,
  };
  let id = 0;
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    onConnection(new Connection(++id, "PLAINTEXT", socket, processor, full, logger));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return (server.address() as net.AddressInfo).port;
}

async function connect(port: number): Promise<net.Socket> {
  const socket = net.connect(port, "127.0.0.1");
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  return socket;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Connection", () => {
  it("answers pipelined requests in request order even when they complete out of order", async () => {
    const processor: FrameProcessor = {
      async process(f) {
        const n = f.readInt32BE(0);
        // Earlier requests take longer, so completion order is the reverse of arrival order.
        await sleep((20 - n) * 3);
        return { kind: "respond", chunks: [frame(Buffer.from(f))] };
      },
    };
    const port = await serve(processor);
    const socket = await connect(port);
    const { frames } = collectFrames(socket);
    const all: Buffer[] = [];
    for (let n = 0; n < 20; n++) {
      const body = Buffer.alloc(4);
      body.writeInt32BE(n);
      all.push(frame(body));
    }
    socket.write(Buffer.concat(all));
    while (frames.length < 20) await sleep(10);
    expect(frames.map((f) => f.readInt32BE(0))).toEqual([...Array(20).keys()]);
    socket.destroy();
  });

  it("mutes a throttled connection: reads no new request until the throttle time has passed", async () => {
    const throttleMs = 300;
    const processedAt: number[] = [];
    const processor: FrameProcessor = {
      process(f) {
        processedAt.push(performance.now());
        // The first request is throttled, as a quota-violating Produce would be (KIP-219).
        return {
          kind: "respond",
          chunks: [frame(Buffer.from(f))],
          ...(f[0] === 0 ? { throttleMs } : {}),
        };
      },
    };
    const port = await serve(processor);
    const socket = await connect(port);
    const { frames } = collectFrames(socket);
    socket.write(frame(Buffer.from([0])));
    for (let waited = 0; frames.length < 1 && waited < 5000; waited += 5) await sleep(5);
    // Answered at once; the next request is not read before the throttle ends.
    expect(frames).toHaveLength(1);
    socket.write(frame(Buffer.from([1])));
    for (let waited = 0; frames.length < 2 && waited < 5000; waited += 5) await sleep(5);
    expect(frames).toHaveLength(2);
    // Timers never fire early (but for a millisecond of rounding): a lower bound only.
    expect(processedAt[1]! - processedAt[0]!).toBeGreaterThanOrEqual(throttleMs - 2);
    socket.destroy();
  });

  it("hands pooled read buffers back only after the response holding them is written", async () => {
    const lent: Buffer[] = [];
    const processor: FrameProcessor = {
      process(f) {
        // As a Fetch response: a small header chunk, then stored bytes in a pooled buffer.
        const stored = takeReadBuffer(READ_BUFFER_BYTES);
        stored.fill(f[0]!);
        lent.push(stored);
        const head = Buffer.alloc(4);
        head.writeInt32BE(stored.length);
        return { kind: "respond", chunks: [head, stored] };
      },
    };
    const port = await serve(processor, { queuedResponseBytesMax: 64 << 20 });
    const socket = await connect(port);
    const received: Buffer[] = [];
    let bytes = 0;
    socket.on("data", (c: Buffer) => {
      received.push(c);
      bytes += c.length;
    });
    socket.pause(); // the responses stay queued in the broker's socket
    const requests = 12;
    socket.write(Buffer.concat(Array.from({ length: requests }, (_, n) => frame(Buffer.from([n])))));
    try {
      for (let waited = 0; lent.length < requests && waited < 5000; waited += 10) await sleep(10);
      await sleep(50);
      // 12 MiB do not all fit in the kernel's loopback buffers while the client is not reading.
      expect(isLentReadBuffer(lent[requests - 1]!)).toBe(true);
      socket.resume();
      const size = READ_BUFFER_BYTES + 4;
      for (let waited = 0; bytes < requests * size && waited < 10_000; waited += 10) await sleep(10);
      await sleep(20);
      expect(lent.every((b) => !isLentReadBuffer(b))).toBe(true);
      const all = Buffer.concat(received);
      expect(all.length).toBe(requests * size);
      for (let n = 0; n < requests; n++) {
        expect(all.readInt32BE(n * size)).toBe(READ_BUFFER_BYTES);
        // Responses written after earlier buffers were released still carry their own bytes.
        expect(all.subarray(n * size + 4, (n + 1) * size).every((x) => x === n)).toBe(true);
      }
    } finally {
      socket.destroy();
    }
  });

  it("lets serial requests wait for earlier ones and sends nothing for 'none'", async () => {
    const order: string[] = [];
    const processor: FrameProcessor = {
      async process(f, _conn, waitForEarlier) {
        const tag = f.toString();
        if (tag.startsWith("serial")) await waitForEarlier();
        else await sleep(30);
        order.push(tag);
        if (tag.endsWith("quiet")) return { kind: "none" };
        return { kind: "respond", chunks: [frame(Buffer.from(tag))] };
      },
    };
    const port = await serve(processor);
    const socket = await connect(port);
    const { frames } = collectFrames(socket);
    socket.write(Buffer.concat([frame(Buffer.from("slow-quiet")), frame(Buffer.from("serial-b"))]));
    while (frames.length < 1) await sleep(5);
    expect(order).toEqual(["slow-quiet", "serial-b"]);
    expect(frames.map((f) => f.toString())).toEqual(["serial-b"]);
    socket.destroy();
  });

  it("never has more requests in flight than the bound, and still answers all", async () => {
    let inFlight = 0;
    let inFlightMax = 0;
    const processor: FrameProcessor = {
      async process(f) {
        inFlight++;
        inFlightMax = Math.max(inFlightMax, inFlight);
        await sleep(2);
        inFlight--;
        return { kind: "respond", chunks: [frame(Buffer.from(f))] };
      },
    };
    const port = await serve(processor, { inFlightRequestsMax: 3 });
    const socket = await connect(port);
    const { frames } = collectFrames(socket);
    const many = Array.from({ length: 50 }, (_, i) => frame(Buffer.from(`r${i}`)));
    socket.write(Buffer.concat(many));
    while (frames.length < 50) await sleep(5);
    expect(inFlightMax).toBeLessThanOrEqual(3);
    expect(frames.map((f) => f.toString())).toEqual(many.map((_, i) => `r${i}`));
    socket.destroy();
  });

  it("closes on a frame larger than the limit before reading its body", async () => {
    let processed = 0;
    const processor: FrameProcessor = {
      process(): RequestOutcome {
        processed++;
        return { kind: "none" };
      },
    };
    const port = await serve(processor, { frameBytesMax: 100 });
    const socket = await connect(port);
    const { closed } = collectFrames(socket);
    const head = Buffer.alloc(4);
    head.writeInt32BE(101);
    // Only the size prefix is sent: the connection must close without waiting for the body.
    socket.write(head);
    await closed;
    expect(processed).toBe(0);
  });

  it("closes on a negative frame size and on a 'close' outcome, after earlier responses", async () => {
    const processor: FrameProcessor = {
      process(f): RequestOutcome {
        return f.toString() === "bad"
          ? { kind: "close", reason: "test" }
          : { kind: "respond", chunks: [frame(f)] };
      },
    };
    const port = await serve(processor);
    const a = await connect(port);
    const ca = collectFrames(a);
    a.write(
      Buffer.concat([frame(Buffer.from("ok")), frame(Buffer.from("bad")), frame(Buffer.from("never"))]),
    );
    await ca.closed;
    expect(ca.frames.map((f) => f.toString())).toEqual(["ok"]);

    const b = await connect(port);
    const cb = collectFrames(b);
    b.write(Buffer.from([0xff, 0xff, 0xff, 0xfe]));
    await cb.closed;
  });

  it("hands a pooled Produce frame back once its request completes, not before", async () => {
    const seen: { lentWhileRunning: boolean; frame: Buffer }[] = [];
    let finish!: () => void;
    const held = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const processor: FrameProcessor = {
      async process(f) {
        await held;
        seen.push({ lentWhileRunning: isLentFrameBuffer(f), frame: f });
        return { kind: "respond", chunks: [frame(f.subarray(0, 4))] };
      },
    };
    const port = await serve(processor, { frameBytesMax: 1 << 20, pooledFrameApiKeys: new Set([0]) });
    const socket = await connect(port);
    const { frames } = collectFrames(socket);
    // 200 KB: more than one socket read, so the frame is copied, into a pooled buffer (api key 0).
    const body = Buffer.alloc(200_000, 5);
    body.writeInt16BE(0, 0);
    socket.write(frame(body));
    await sleep(50);
    finish();
    while (frames.length < 1) await sleep(5);
    expect(seen[0]!.lentWhileRunning).toBe(true);
    expect(isLentFrameBuffer(seen[0]!.frame)).toBe(false);
    socket.destroy();
  });

  it("closes idle connections", async () => {
    const port = await serve({ process: () => ({ kind: "none" }) }, { idleMs: 50 });
    const socket = await connect(port);
    const { closed } = collectFrames(socket);
    const t0 = Date.now();
    await closed;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(40);
  });
});

describe("FrameDecoder", () => {
  it("reassembles frames split at every byte", () => {
    const bytes = Buffer.concat([
      frame(Buffer.from("hello")),
      frame(Buffer.alloc(0)),
      frame(Buffer.from("x")),
    ]);
    const d = new FrameDecoder(100);
    const out: string[] = [];
    for (const b of bytes) {
      d.push(Buffer.from([b]));
      for (let f = d.next(); f !== undefined; f = d.next()) out.push(f.toString());
    }
    expect(out).toEqual(["hello", "", "x"]);
    expect(d.bufferedBytes).toBe(0);
  });

  describe("response memory (a client that pipelines and never reads)", () => {
    const MiB = 1 << 20;

    /** A Fetch-like processor: 1 MiB responses, built only once the connection has room. */
    function fetchLike(serial: boolean) {
      let built = 0;
      const processor: FrameProcessor = {
        async process(f, _conn, waitForEarlier, waitForRoom) {
          if (serial) await waitForEarlier();
          const room = waitForRoom();
          if (room !== undefined) await room;
          await sleep(0);
          built++;
          const body = Buffer.alloc(MiB);
          f.copy(body, 0, 0, 4);
          return { kind: "respond", chunks: [frame(body)] };
        },
      };
      return { processor, built: () => built };
    }

    async function pipelineUnread(port: number, requests: number) {
      const socket = await connect(port);
      socket.pause();
      socket.write(
        Buffer.concat(
          Array.from({ length: requests }, (_, n) => {
            const body = Buffer.alloc(4);
            body.writeInt32BE(n);
            return frame(body);
          }),
        ),
      );
      return socket;
    }

    for (const serial of [true, false]) {
      it(`holds back ${serial ? "serial" : "concurrent"} requests at the bound, then answers all in order once read`, async () => {
        const memory = new ResponseMemory(256 * MiB);
        const { processor, built } = fetchLike(serial);
        const connections: Connection[] = [];
        const bound = 4 * MiB;
        const port = await serve(
          processor,
          {
            queuedResponseBytesMax: bound,
            inFlightRequestsMax: 500,
            responseMemory: memory,
            frameBytesMax: 1024,
          },
          (c) => connections.push(c),
        );
        const requests = 80;
        const socket = await pipelineUnread(port, requests);
        try {
          let peak = 0;
          for (let waited = 0; waited < 1000; waited += 10) {
            await sleep(10);
            peak = Math.max(peak, memory.bytes);
          }
          // Before the bound, all 80 were built (80 MiB held for a client that reads nothing).
          const responseBytes = MiB + 4;
          const heldMax = 2 * bound + (serial ? 1 : EXECUTING_MAX_FOR_TEST + 1) * responseBytes;
          expect(peak).toBeLessThanOrEqual(heldMax);
          expect(connections[0]!.queuedResponseBytes).toBe(memory.bytes);
          expect(built()).toBeLessThan(requests / 2);
          // The client reads: every request completes, in order.
          const { frames } = collectFrames(socket);
          socket.resume();
          for (let waited = 0; frames.length < requests && waited < 20_000; waited += 10) await sleep(10);
          expect(frames.map((f) => f.readInt32BE(0))).toEqual([...Array(requests).keys()]);
          expect(memory.bytes).toBe(0);
        } finally {
          socket.destroy();
        }
      }, 30_000);
    }

    it("releases what a connection held when it closes, and pauses every connection at the total bound", async () => {
      const memory = new ResponseMemory(3 * MiB);
      const { processor } = fetchLike(true);
      const port = await serve(processor, { queuedResponseBytesMax: 64 * MiB, responseMemory: memory });
      const stuck = await pipelineUnread(port, 50);
      for (let waited = 0; !memory.full && waited < 5000; waited += 10) await sleep(10);
      expect(memory.full).toBe(true);
      // Another client's request is not read while the total is at its bound...
      const other = await connect(port);
      const { frames } = collectFrames(other);
      other.write(frame(Buffer.from([0, 0, 0, 7])));
      await sleep(300);
      expect(frames).toHaveLength(0);
      // ...and is answered once the stuck connection goes away, with its bytes released.
      stuck.destroy();
      for (let waited = 0; frames.length === 0 && waited < 5000; waited += 10) await sleep(10);
      expect(frames[0]!.readInt32BE(0)).toBe(7);
      await sleep(50);
      expect(memory.bytes).toBe(0);
      other.destroy();
    }, 20_000);
  });
});
