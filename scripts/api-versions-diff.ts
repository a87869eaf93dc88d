/**
 * Compares what two brokers advertise in ApiVersions (v4: API ranges, supported and finalized
 * features), for instance Krill against Apache Kafka 4.4.0 started by compat-tests/broker.sh:
 *
 *   tsx scripts/api-versions-diff.ts KRILL_HOST:PORT KAFKA_HOST:PORT
 *
 * Prints one line per API whose range differs (or that only one side serves) and one per feature
 * that differs; exits 0 either way (it reports, it does not judge).
 */
import net from "node:net";
import { defaultApiVersionsRequest } from "../src/protocol/generated/api-versions-request.js";
import type { ApiVersionsResponse } from "../src/protocol/generated/api-versions-response.js";
import { API_VERSIONS_API, ApiKey } from "../src/protocol/generated/apis.js";
import { Reader } from "../src/protocol/primitives/reader.js";
import { Writer } from "../src/protocol/primitives/writer.js";

const VERSION = 4;
const RESPONSE_BYTES_MAX = 1 << 20;
const TIMEOUT_MS = 10_000;

const NAMES = new Map<number, string>(Object.entries(ApiKey).map(([name, key]) => [key, name]));

function request(): Buffer {
  const w = new Writer();
  w.writeInt32(0);
  w.writeInt16(API_VERSIONS_API.apiKey);
  w.writeInt16(VERSION);
  w.writeInt32(1);
  w.writeNullableString("api-versions-diff");
  w.writeUnsignedVarint(0);
  API_VERSIONS_API.encodeRequest(
    w,
    { ...defaultApiVersionsRequest(), clientSoftwareName: "krill-diff", clientSoftwareVersion: "1" },
    VERSION,
  );
  const out = w.finish();
  out.writeInt32BE(out.length - 4, 0);
  return out;
}

function apiVersions(address: string): Promise<ApiVersionsResponse> {
  const [host, port] = address.split(":") as [string, string];
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), host);
    let received = Buffer.alloc(0);
    socket.setTimeout(TIMEOUT_MS, () => {
      socket.destroy();
      reject(new Error(`${address}: timed out`));
    });
    socket.on("error", reject);
    socket.on("connect", () => socket.write(request()));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4) return;
      const size = received.readInt32BE(0);
      if (size > RESPONSE_BYTES_MAX) return reject(new Error(`${address}: response of ${size} bytes`));
      if (received.length < 4 + size) return;
      socket.destroy();
      // Response header v0 (ApiVersions responses never use the flexible header): correlation id.
      const r = new Reader(received, 8, 4 + size);
      resolve(API_VERSIONS_API.decodeResponse(r, VERSION));
    });
  });
}

const [left, right] = process.argv.slice(2);
if (left === undefined || right === undefined) {
  console.error("usage: tsx scripts/api-versions-diff.ts KRILL_HOST:PORT KAFKA_HOST:PORT");
  process.exit(2);
}
const [a, b] = await Promise.all([apiVersions(left), apiVersions(right)]);
const range = (k?: { minVersion: number; maxVersion: number }) =>
  k === undefined ? "-" : `${k.minVersion}-${k.maxVersion}`;
const keys = [...new Set([...a.apiKeys, ...b.apiKeys].map((k) => k.apiKey))].sort((x, y) => x - y);
let same = 0;
console.log(`API (key)                         ${left.padEnd(22)} ${right}`);
for (const key of keys) {
  const ra = range(a.apiKeys.find((k) => k.apiKey === key));
  const rb = range(b.apiKeys.find((k) => k.apiKey === key));
  if (ra === rb) {
    same++;
    continue;
  }
  console.log(`${`${NAMES.get(key) ?? "?"} (${key})`.padEnd(34)}${ra.padEnd(23)}${rb}`);
}
console.log(`${same} APIs advertised identically; ${a.apiKeys.length} vs ${b.apiKeys.length} APIs in all`);
const features = (r: ApiVersionsResponse) =>
  new Map([
    ...r.supportedFeatures.map((f) => [`supported ${f.name}`, `${f.minVersion}-${f.maxVersion}`] as const),
    ...r.finalizedFeatures.map(
      (f) => [`finalized ${f.name}`, `${f.minVersionLevel}-${f.maxVersionLevel}`] as const,
    ),
  ]);
const fa = features(a);
const fb = features(b);
for (const name of [...new Set([...fa.keys(), ...fb.keys()])].sort()) {
  const va = fa.get(name) ?? "-";
  const vb = fb.get(name) ?? "-";
  console.log(`${va === vb ? " " : "*"} ${name.padEnd(48)}${va.padEnd(12)}${vb}`);
}
