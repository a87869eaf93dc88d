/**
 * A minimal Kafka client for data-path tests: sends one request with the generated codecs over a
 * socket and decodes the response, so tests can set every field (versions, sessions, acks=0,
 * epochs) that real clients choose for themselves.
 */
import net from "node:net";
import type { ApiDescriptor } from "../../../src/protocol/generated/apis.js";
import { Reader } from "../../../src/protocol/primitives/reader.js";
import { Writer } from "../../../src/protocol/primitives/writer.js";

export class RawClient {
  readonly #socket: net.Socket;
  #buffered = Buffer.alloc(0);
  #correlationId = 1;
  readonly #waiting = new Map<number, (frame: Buffer) => void>();
  closed = false;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on("data", (chunk) => {
      this.#buffered = Buffer.concat([this.#buffered, chunk]);
      while (this.#buffered.length >= 4) {
        const size = this.#buffered.readInt32BE(0);
        if (this.#buffered.length < 4 + size) break;
        const frame = this.#buffered.subarray(4, 4 + size);
        this.#buffered = this.#buffered.subarray(4 + size);
        const id = frame.readInt32BE(0);
        this.#waiting.get(id)?.(frame);
        this.#waiting.delete(id);
      }
    });
    socket.on("close", () => {
      this.closed = true;
    });
  }

  static connect(port: number, host = "127.0.0.1"): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, host, () => resolve(new RawClient(socket)));
      socket.once("error", reject);
    });
  }

  /** Sends without waiting for a response (acks=0). */
  send<Req, Res>(api: ApiDescriptor<Req, Res>, version: number, request: Req): number {
    const id = this.#correlationId++;
    const w = new Writer(256);
    w.writeInt16(api.apiKey);
    w.writeInt16(version);
    w.writeInt32(id);
    w.writeNullableString("raw-client");
    if (api.requestHeaderVersion(version) >= 2) w.writeUnsignedVarint(0);
    api.encodeRequest(w, request, version);
    const body = w.finish();
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length);
    this.#socket.write(Buffer.concat([size, body]));
    return id;
  }

  request<Req, Res>(api: ApiDescriptor<Req, Res>, version: number, request: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      const id = this.send(api, version, request);
      const onClose = () => reject(new Error(`connection closed before the ${api.name} response`));
      this.#socket.once("close", onClose);
      this.#waiting.set(id, (frame) => {
        this.#socket.off("close", onClose);
        try {
          const r = new Reader(frame, 4);
          if (api.responseHeaderVersion(version) >= 1) r.readUnsignedVarint("tagged fields");
          const res = api.decodeResponse(r, version);
          r.expectEnd(`${api.name} response`);
          resolve(res);
        } catch (err) {
          reject(err);
        }
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      this.#socket.once("close", () => resolve());
      this.#socket.end();
    });
  }
}
