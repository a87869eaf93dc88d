/**
 * A client connection for the attack programs: pipelines requests encoded with Krill's generated
 * codecs and matches responses by correlation id, so a program can send thousands of requests
 * without waiting for each.
 */
import net from "node:net";
import type { ApiDescriptor } from "../../src/protocol/generated/apis.js";
import { Reader } from "../../src/protocol/primitives/reader.js";
import { Writer } from "../../src/protocol/primitives/writer.js";
import { FrameDecoder } from "../../src/server/network/frame-decoder.js";

/** One connection that pipelines requests and matches responses by correlation id. */
export class Connection {
  readonly #socket: net.Socket;
  readonly #waiting = new Map<
    number,
    { api: ApiDescriptor; version: number; resolve: (r: unknown) => void }
  >();
  #nextCorrelationId = 1;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    const decoder = new FrameDecoder(1 << 26);
    socket.on("data", (chunk: Buffer) => {
      decoder.push(chunk);
      for (let f = decoder.next(); f !== undefined; f = decoder.next()) this.#onFrame(Buffer.from(f));
    });
  }

  static open(host: string, port: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, host, () => resolve(new Connection(socket)));
      socket.once("error", reject);
    });
  }

  send<Req, Res>(api: ApiDescriptor<Req, Res>, version: number, body: Req): Promise<Res> {
    const correlationId = this.#nextCorrelationId++;
    const w = new Writer();
    w.writeInt16(api.apiKey);
    w.writeInt16(version);
    w.writeInt32(correlationId);
    w.writeNullableString("attack");
    if (api.requestHeaderVersion(version) >= 2) w.writeUnsignedVarint(0);
    api.encodeRequest(w, body, version);
    const payload = w.finish();
    const size = Buffer.alloc(4);
    size.writeInt32BE(payload.length);
    this.#socket.write(Buffer.concat([size, payload]));
    return new Promise((resolve) => {
      this.#waiting.set(correlationId, {
        api: api as ApiDescriptor,
        version,
        resolve: resolve as (r: unknown) => void,
      });
    });
  }

  #onFrame(frame: Buffer): void {
    const r = new Reader(frame);
    const correlationId = r.readInt32("correlation id");
    const waiting = this.#waiting.get(correlationId);
    if (waiting === undefined) return;
    this.#waiting.delete(correlationId);
    if (waiting.api.responseHeaderVersion(waiting.version) >= 1) r.readUnknownTaggedFields();
    waiting.resolve(waiting.api.decodeResponse(r, waiting.version));
  }

  close(): void {
    this.#socket.destroy();
  }
}
