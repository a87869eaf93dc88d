/**
 * Captures real clients' request frames for the golden-bytes tests. Starts a tiny server on
 * 127.0.0.1 that answers ApiVersions (every API and version the codecs know) and Metadata (this
 * server as the only broker, leader of partition 0 of every topic asked for), runs a client
 * command against it, and writes the first request of the wanted API key as hex (the frame
 * without its 4-byte size prefix).
 *
 *   tsx test/protocol/golden-requests/capture.ts <out-name> <api-key> -- <command with {port}>
 *
 * The answers are built with Krill's own generated codecs, so a successful capture also shows a
 * real client accepted those encodings.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { defaultApiVersionsResponse } from "../../../src/protocol/generated/api-versions-response.js";
import { API_DESCRIPTORS, apiDescriptor } from "../../../src/protocol/generated/apis.js";
import type { MetadataRequest } from "../../../src/protocol/generated/metadata-request.js";
import {
  defaultMetadataResponse,
  defaultMetadataResponseBroker,
  defaultMetadataResponsePartition,
  defaultMetadataResponseTopic,
} from "../../../src/protocol/generated/metadata-response.js";
import { decodeRequestHeader } from "../../../src/protocol/generated/request-header.js";
import { encodeResponseHeader } from "../../../src/protocol/generated/response-header.js";
import { Reader } from "../../../src/protocol/primitives/reader.js";
import { Writer } from "../../../src/protocol/primitives/writer.js";

const CAPTURE_TIMEOUT_MS = 30_000;
const FRAME_BYTES_MAX = 1 << 20;

function respond(
  socket: Socket,
  correlationId: number,
  apiKey: number,
  version: number,
  body: unknown,
): void {
  const api = apiDescriptor(apiKey)!;
  const w = new Writer();
  encodeResponseHeader(
    w,
    { correlationId, unknownTaggedFields: undefined },
    api.responseHeaderVersion(version),
  );
  api.encodeResponse(w, body, version);
  const payload = w.finish();
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length);
  socket.write(Buffer.concat([size, payload]));
}

function answer(socket: Socket, frame: Buffer, port: number): void {
  const apiKey = frame.readInt16BE(0);
  const version = frame.readInt16BE(2);
  const api = apiDescriptor(apiKey);
  if (api === undefined) return;
  const r = new Reader(frame);
  const header = decodeRequestHeader(r, api.requestHeaderVersion(version));
  if (apiKey === 18) {
    const res = defaultApiVersionsResponse();
    res.apiKeys = API_DESCRIPTORS.map((a) => ({
      apiKey: a.apiKey,
      minVersion: a.minVersion,
      maxVersion: a.latestVersionUnstable ? a.maxVersion - 1 : a.maxVersion,
      unknownTaggedFields: undefined,
    }));
    respond(socket, header.correlationId, apiKey, Math.min(version, api.maxVersion), res);
  } else if (apiKey === 3) {
    const req = api.decodeRequest(r, version) as MetadataRequest;
    const res = defaultMetadataResponse();
    const broker = defaultMetadataResponseBroker();
    broker.nodeId = 1;
    broker.host = "127.0.0.1";
    broker.port = port;
    res.brokers = [broker];
    res.clusterId = "golden-capture";
    res.controllerId = 1;
    res.topics = (req.topics ?? []).map((t) => {
      const topic = defaultMetadataResponseTopic();
      topic.name = t.name;
      topic.topicId = "AAAAAAAAAAAAAAAAAAAAAg";
      const p = defaultMetadataResponsePartition();
      p.leaderId = 1;
      p.replicaNodes = [1];
      p.isrNodes = [1];
      topic.partitions = [p];
      return topic;
    });
    respond(socket, header.correlationId, apiKey, version, res);
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const sep = args.indexOf("--");
  if (sep !== 2) throw new Error("usage: capture.ts <out-name> <api-key> -- <command with {port}>");
  const [name, apiKeyText] = args as [string, string];
  const wanted = Number(apiKeyText);
  const command = args.slice(3);

  let resolveCaptured: (frame: Buffer) => void = () => {};
  const captured = new Promise<Buffer>((resolve) => {
    resolveCaptured = resolve;
  });
  const server = createServer((socket) => {
    let pending = Buffer.alloc(0);
    socket.on("data", (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      while (pending.length >= 4) {
        const size = pending.readInt32BE(0);
        if (size < 0 || size > FRAME_BYTES_MAX) {
          socket.destroy();
          return;
        }
        if (pending.length < 4 + size) break;
        const frame = pending.subarray(4, 4 + size);
        pending = pending.subarray(4 + size);
        if (frame.readInt16BE(0) === wanted) resolveCaptured(Buffer.from(frame));
        else answer(socket, frame, port);
      }
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  const port = address.port;

  const child = spawn(
    command[0]!,
    command.slice(1).map((a) => a.replaceAll("{port}", String(port))),
    {
      stdio: ["pipe", "inherit", "inherit"],
    },
  );
  child.stdin.end("golden-value\n");
  const timer = setTimeout(() => {
    console.error(`no request with api key ${wanted} within ${CAPTURE_TIMEOUT_MS} ms`);
    child.kill("SIGKILL");
    process.exit(1);
  }, CAPTURE_TIMEOUT_MS);
  const frame = await captured;
  clearTimeout(timer);
  child.kill("SIGKILL");
  server.close();
  const out = join(import.meta.dirname, `${name}.hex`);
  writeFileSync(out, `${frame.toString("hex")}\n`);
  console.log(`captured ${frame.length} bytes (api ${wanted} v${frame.readInt16BE(2)}) into ${out}`);
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
