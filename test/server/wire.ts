/** Raw Kafka-protocol client helpers for server tests. */
import net from "node:net";
import type { ApiDescriptor } from "../../src/protocol/generated/apis.js";
import { Reader } from "../../src/protocol/primitives/reader.js";
import { Writer } from "../../src/protocol/primitives/writer.js";
import { FrameDecoder } from "../../src/server/network/frame-decoder.js";

/** A request frame: size, header v1/v2 (client id "test"), body. */
export function request<Req>(
  api: ApiDescriptor<Req, unknown>,
  version: number,
  correlationId: number,
  body: Req | Buffer,
): Buffer {
  const w = new Writer();
  w.writeInt16(api.apiKey);
  w.writeInt16(version);
  w.writeInt32(correlationId);
  w.writeNullableString("test");
  if (api.requestHeaderVersion(version) >= 2) w.writeUnsignedVarint(0);
  if (Buffer.isBuffer(body)) w.writeRawBytes(body);
  else api.encodeRequest(w, body, version);
  const payload = w.finish();
  const head = Buffer.alloc(4);
  head.writeInt32BE(payload.length);
  return Buffer.concat([head, payload]);
}

export interface Client {
  socket: net.Socket;
  frames: Buffer[];
  closed: Promise<void>;
  next(): Promise<Buffer>;
}

export async function client(port: number): Promise<Client> {
  const socket = net.connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  const frames: Buffer[] = [];
  const decoder = new FrameDecoder(1 << 30);
  socket.on("data", (chunk: Buffer) => {
    decoder.push(chunk);
    for (let f = decoder.next(); f !== undefined; f = decoder.next()) frames.push(Buffer.from(f));
  });
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  let taken = 0;
  return {
    socket,
    frames,
    closed,
    async next() {
      const deadline = Date.now() + 5_000;
      while (frames.length <= taken) {
        if (Date.now() > deadline) throw new Error("no response");
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return frames[taken++]!;
    },
  };
}

/** Response body after the correlation id (and the tagged-field byte of header v1). */
export function body(frame: Buffer, api: ApiDescriptor<unknown, unknown>, version: number): Reader {
  return new Reader(frame, api.responseHeaderVersion(version) >= 1 ? 5 : 4);
}
