/**
 * A tiny fake Kafka broker for capturing the record batches real clients write. It serves just
 * enough of the protocol for a producer to send one Produce request: ApiVersions v0-2, Metadata
 * v0-1 (every requested topic has one partition led by this broker) and Produce v3-7 (v3 is the
 * first to carry magic-2 batches, v7 the first to allow zstd). It answers a Produce with success
 * and hands the `records` bytes of every partition to the caller.
 *
 * librdkafka decides what it may write from the advertised ranges, not from what it will call:
 * message format v2 needs Produce 3 and Fetch 4, zstd Produce 7 and Fetch 10, lz4 FindCoordinator
 * 0, and without the v1 format (Produce 2, Fetch 2) it does not compress gzip or snappy at all.
 * So Produce 0-7, Fetch 0-11 and FindCoordinator 0 are advertised; Produce 3-7 is served (clients
 * pick the highest version), and Fetch 4-11 when the broker is started with `fetchRecords`: it
 * then serves those bytes as partition 0 from offset 0 (and an empty partition after them), so a
 * consumer reads batches Krill built.
 *
 * Hand-written on purpose (no generated codecs): it is a capture tool that must stay independent
 * of the code whose output it checks. Listens on 127.0.0.1 only.
 */
import net from "node:net";

/** Advertised [apiKey, minVersion, maxVersion]. */
const API_VERSIONS: readonly [number, number, number][] = [
  [0, 0, 7], // Produce (3-7 served)
  [1, 0, 11], // Fetch (advertised only, see above)
  [10, 0, 0], // FindCoordinator (advertised only)
  [3, 0, 1], // Metadata
  [18, 0, 2], // ApiVersions
];
const UNSUPPORTED_VERSION = 35;
const NODE_ID = 1;
/** Frames larger than this are refused; captures are small. */
const FRAME_BYTES_MAX = 64 << 20;

export interface CapturedRecords {
  topic: string;
  partition: number;
  records: Buffer | null;
}

class Reader {
  at = 0;
  // Fields are read in order; a frame shorter than its fields throws a RangeError, which the
  // connection handler turns into a closed socket.
  constructor(readonly buf: Buffer) {}
  int8() {
    return this.buf.readInt8(this.at++);
  }
  int16() {
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }
  int32() {
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  string(): string | null {
    const length = this.int16();
    if (length < 0) return null;
    const s = this.buf.toString("utf8", this.at, this.at + length);
    this.at += length;
    return s;
  }
  bytes(): Buffer | null {
    const length = this.int32();
    if (length < 0) return null;
    if (length > this.buf.length - this.at) throw new Error("bytes length exceeds the frame");
    const b = Buffer.from(this.buf.subarray(this.at, this.at + length));
    this.at += length;
    return b;
  }
  array<T>(item: () => T): T[] | null {
    const count = this.int32();
    if (count < 0) return null;
    if (count > this.buf.length - this.at) throw new Error("array count exceeds the frame");
    return Array.from({ length: count }, item);
  }
}

class Writer {
  private parts: Buffer[] = [];
  int8(v: number) {
    const b = Buffer.alloc(1);
    b.writeInt8(v);
    this.parts.push(b);
    return this;
  }
  int16(v: number) {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.parts.push(b);
    return this;
  }
  int32(v: number) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  int64(v: bigint) {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(v);
    this.parts.push(b);
    return this;
  }
  string(s: string | null) {
    if (s === null) return this.int16(-1);
    const b = Buffer.from(s, "utf8");
    this.int16(b.length);
    this.parts.push(b);
    return this;
  }
  array<T>(items: readonly T[], write: (item: T) => void) {
    this.int32(items.length);
    for (const item of items) write(item);
    return this;
  }
  raw(b: Buffer) {
    this.parts.push(b);
    return this;
  }
  frame(): Buffer {
    const body = Buffer.concat(this.parts);
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length);
    return Buffer.concat([size, body]);
  }
}

export interface FakeBroker {
  port: number;
  /** Resolves with the partitions of the first Produce request. */
  firstProduce: Promise<CapturedRecords[]>;
  close(): Promise<void>;
}

export interface FakeBrokerOptions {
  /** Whole batches served by Fetch at offset 0 of every partition 0; `nextOffset` follows them. */
  fetchRecords?: { records: Buffer; nextOffset: bigint };
}

export async function startFakeBroker(options: FakeBrokerOptions = {}): Promise<FakeBroker> {
  let resolveProduce!: (records: CapturedRecords[]) => void;
  const firstProduce = new Promise<CapturedRecords[]>((resolve) => {
    resolveProduce = resolve;
  });
  const sockets = new Set<net.Socket>();
  let port = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const size = pending.readInt32BE(0);
        if (size < 8 || size > FRAME_BYTES_MAX) {
          socket.destroy();
          return;
        }
        if (pending.length < 4 + size) break;
        const frame = pending.subarray(4, 4 + size);
        pending = pending.subarray(4 + size);
        try {
          const response = handle(frame, port, resolveProduce, options);
          if (response !== undefined) socket.write(response);
        } catch (err) {
          console.error(`fake broker: ${(err as Error).message}`);
          socket.destroy();
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as net.AddressInfo).port;
  return {
    port,
    firstProduce,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function handle(
  frame: Buffer,
  port: number,
  onProduce: (records: CapturedRecords[]) => void,
  options: FakeBrokerOptions,
): Buffer | undefined {
  const r = new Reader(frame);
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const w = new Writer().int32(correlationId);
  if (apiKey === 18) {
    // Versions above 2 are flexible; answer them as Kafka does an unknown version: a v0 body with
    // UNSUPPORTED_VERSION and the supported ranges, so the client retries with v2 or lower.
    const supported = apiVersion <= 2;
    w.int16(supported ? 0 : UNSUPPORTED_VERSION).array(API_VERSIONS, ([key, min, max]) => {
      w.int16(key).int16(min).int16(max);
    });
    if (supported && apiVersion >= 1) w.int32(0);
    return w.frame();
  }
  r.string(); // client id (request header v1)
  if (apiKey === 3) {
    const topics = r.array(() => r.string() ?? "") ?? ["golden"];
    w.array([NODE_ID], (id) => {
      w.int32(id).string("127.0.0.1").int32(port);
      if (apiVersion >= 1) w.string(null);
    });
    if (apiVersion >= 1) w.int32(NODE_ID);
    w.array(topics.length > 0 ? topics : ["golden"], (name) => {
      w.int16(0).string(name);
      if (apiVersion >= 1) w.int8(0);
      w.array([0], (partition) => {
        w.int16(0).int32(partition).int32(NODE_ID);
        w.array([NODE_ID], (id) => w.int32(id));
        w.array([NODE_ID], (id) => w.int32(id));
      });
    });
    return w.frame();
  }
  if (apiKey === 0 && apiVersion >= 3 && apiVersion <= 7) {
    r.string(); // transactional id
    const acks = r.int16();
    r.int32(); // timeout
    const captured: CapturedRecords[] = [];
    const topics =
      r.array(() => {
        const name = r.string() ?? "";
        const partitions =
          r.array(() => {
            const partition = r.int32();
            const records = r.bytes();
            captured.push({ topic: name, partition, records });
            return partition;
          }) ?? [];
        return { name, partitions };
      }) ?? [];
    onProduce(captured);
    if (acks === 0) return undefined;
    w.array(topics, (t) => {
      w.string(t.name).array(t.partitions, (p) => {
        w.int32(p).int16(0).int64(0n).int64(-1n);
        if (apiVersion >= 5) w.int64(0n); // log start offset
      });
    });
    w.int32(0);
    return w.frame();
  }
  if (apiKey === 1 && apiVersion >= 4 && apiVersion <= 11 && options.fetchRecords !== undefined) {
    return fetchResponse(r, w, apiVersion, options.fetchRecords);
  }
  throw new Error(`fake broker: unexpected request api ${apiKey} v${apiVersion}`);
}

/** Fetch v4-11 (the non-flexible versions that carry magic-2 batches). */
function fetchResponse(
  r: Reader,
  w: Writer,
  apiVersion: number,
  served: { records: Buffer; nextOffset: bigint },
): Buffer {
  r.int32(); // replica id
  r.int32(); // max wait
  r.int32(); // min bytes
  r.int32(); // max bytes
  r.int8(); // isolation level
  if (apiVersion >= 7) {
    r.int32(); // session id
    r.int32(); // session epoch
  }
  const topics =
    r.array(() => {
      const name = r.string() ?? "";
      const partitions =
        r.array(() => {
          const partition = r.int32();
          if (apiVersion >= 9) r.int32(); // current leader epoch
          const fetchOffset = r.buf.readBigInt64BE(r.at);
          r.at += 8;
          if (apiVersion >= 5) r.at += 8; // log start offset
          r.int32(); // partition max bytes
          return { partition, fetchOffset };
        }) ?? [];
      return { name, partitions };
    }) ?? [];
  if (apiVersion >= 1) w.int32(0); // throttle time
  if (apiVersion >= 7) w.int16(0).int32(0); // error code, session id
  w.array(topics, (t) => {
    w.string(t.name).array(t.partitions, (p) => {
      const records = p.fetchOffset === 0n ? served.records : Buffer.alloc(0);
      w.int32(p.partition).int16(0).int64(served.nextOffset).int64(served.nextOffset);
      if (apiVersion >= 5) w.int64(0n); // log start offset
      w.int32(-1); // aborted transactions: null
      if (apiVersion >= 11) w.int32(-1); // preferred read replica
      w.int32(records.length).raw(records);
    });
  });
  return w.frame();
}
