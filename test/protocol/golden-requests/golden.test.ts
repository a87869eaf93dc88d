/**
 * Golden bytes: request frames captured from real clients (capture.ts in this folder; frames are
 * stored as hex without the 4-byte size prefix). Each must decode to the values the client sent,
 * consume the frame exactly, and re-encode to the identical bytes.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import type { ApiVersionsRequest } from "../../../src/protocol/generated/api-versions-request.js";
import { apiDescriptor } from "../../../src/protocol/generated/apis.js";
import type { FetchRequest } from "../../../src/protocol/generated/fetch-request.js";
import type { MetadataRequest } from "../../../src/protocol/generated/metadata-request.js";
import type { ProduceRequest } from "../../../src/protocol/generated/produce-request.js";
import {
  decodeRequestHeader,
  encodeRequestHeader,
  type RequestHeader,
} from "../../../src/protocol/generated/request-header.js";
import { Reader } from "../../../src/protocol/primitives/reader.js";
import { Writer } from "../../../src/protocol/primitives/writer.js";

function load(name: string): Buffer {
  return Buffer.from(readFileSync(join(import.meta.dirname, `${name}.hex`), "utf8").trim(), "hex");
}

function decodeFrame(frame: Buffer): {
  header: ReturnType<typeof decodeRequestHeader>;
  body: unknown;
  reencoded: Buffer;
} {
  const apiKey = frame.readInt16BE(0);
  const version = frame.readInt16BE(2);
  const api = apiDescriptor(apiKey);
  if (api === undefined) throw new Error(`unknown api key ${apiKey}`);
  const r = new Reader(frame);
  const headerVersion = api.requestHeaderVersion(version);
  const header = decodeRequestHeader(r, headerVersion);
  const body = api.decodeRequest(r, version);
  expect(r.remaining()).toBe(0);
  const w = new Writer();
  encodeRequestHeader(w, header, headerVersion);
  api.encodeRequest(w, body, version);
  return { header, body, reencoded: w.finish() };
}

/** A magic-2 record batch: check the magic byte and that it holds the value the capture sent. */
function expectGoldenBatch(records: unknown): void {
  expect(Buffer.isBuffer(records)).toBe(true);
  const batch = records as Buffer;
  expect(batch.readInt8(16)).toBe(2);
  expect(batch.readInt32BE(8)).toBe(batch.length - 12);
  expect(batch.includes(Buffer.from("golden-value"))).toBe(true);
}

const CASES: { name: string; client: string; check: (header: RequestHeader, body: unknown) => void }[] = [
  {
    name: "kcat-api-versions",
    client: "librdkafka 2.0.2 (kcat)",
    check: (h, body) => {
      const b = body as ApiVersionsRequest;
      expect(h).toMatchObject({ requestApiKey: 18, requestApiVersion: 3, clientId: "rdkafka" });
      expect(b).toMatchObject({ clientSoftwareName: "librdkafka", clientSoftwareVersion: "2.0.2" });
    },
  },
  {
    name: "java-api-versions",
    client: "Apache Kafka Java client 4.3.1",
    check: (h, body) => {
      const b = body as ApiVersionsRequest;
      expect(h).toMatchObject({
        requestApiKey: 18,
        requestApiVersion: 4,
        correlationId: 0,
        clientId: "adminclient-1",
      });
      expect(b).toMatchObject({ clientSoftwareName: "apache-kafka-java", clientSoftwareVersion: "4.3.1" });
    },
  },
  {
    name: "java28-api-versions",
    client: "Apache Kafka Java client 2.8.2 (AdminClient)",
    check: (h, body) => {
      const b = body as ApiVersionsRequest;
      expect(h).toMatchObject({
        requestApiKey: 18,
        requestApiVersion: 3,
        correlationId: 0,
        clientId: "golden-java-2.8",
      });
      expect(b).toMatchObject({ clientSoftwareName: "apache-kafka-java", clientSoftwareVersion: "2.8.2" });
    },
  },
  {
    name: "java39-api-versions",
    client: "Apache Kafka Java client 3.9.2",
    check: (h, body) => {
      const b = body as ApiVersionsRequest;
      expect(h).toMatchObject({ requestApiKey: 18, requestApiVersion: 4 });
      expect(b).toMatchObject({ clientSoftwareName: "apache-kafka-java", clientSoftwareVersion: "3.9.2" });
    },
  },
  {
    name: "kafkajs-api-versions",
    client: "kafkajs 2.2.4",
    check: (h, body) => {
      const b = body as ApiVersionsRequest;
      expect(h).toMatchObject({ requestApiKey: 18, requestApiVersion: 2, clientId: "golden-kafkajs" });
      expect(b).toMatchObject({ clientSoftwareName: "", clientSoftwareVersion: "" });
    },
  },
  {
    name: "kafkajs-metadata",
    client: "kafkajs 2.2.4",
    check: (h, body) => {
      const b = body as MetadataRequest;
      expect(h).toMatchObject({
        requestApiKey: 3,
        requestApiVersion: 6,
        correlationId: 1,
        clientId: "golden-kafkajs",
      });
      expect(b.topics?.map((t) => t.name)).toEqual(["golden"]);
      expect(b.allowAutoTopicCreation).toBe(false);
    },
  },
  {
    name: "java-metadata",
    client: "Apache Kafka Java client 4.3.1",
    check: (h, body) => {
      const b = body as MetadataRequest;
      expect(h).toMatchObject({ requestApiKey: 3, requestApiVersion: 12, clientId: "adminclient-1" });
      expect(b).toMatchObject({
        topics: [],
        allowAutoTopicCreation: true,
        includeTopicAuthorizedOperations: false,
      });
    },
  },
  {
    name: "kcat-produce",
    client: "librdkafka 2.0.2 (kcat)",
    check: (h, body) => {
      const b = body as ProduceRequest;
      expect(h).toMatchObject({ requestApiKey: 0, requestApiVersion: 7, clientId: "rdkafka" });
      expect(b).toMatchObject({ transactionalId: null, acks: -1, timeoutMs: 30000 });
      expect(b.topicData).toHaveLength(1);
      expect(b.topicData[0]?.name).toBe("golden");
      expect(b.topicData[0]?.partitionData[0]?.index).toBe(0);
      expectGoldenBatch(b.topicData[0]?.partitionData[0]?.records);
    },
  },
  {
    name: "java-produce",
    client: "Apache Kafka Java client 4.3.1 (console producer)",
    check: (h, body) => {
      const b = body as ProduceRequest;
      expect(h).toMatchObject({ requestApiKey: 0, requestApiVersion: 11, clientId: "console-producer" });
      expect(b).toMatchObject({ transactionalId: null, acks: 1, timeoutMs: 1500 });
      expect(b.topicData[0]?.name).toBe("golden");
      expectGoldenBatch(b.topicData[0]?.partitionData[0]?.records);
    },
  },
  {
    name: "kafkajs-produce",
    client: "kafkajs 2.2.4",
    check: (h, body) => {
      const b = body as ProduceRequest;
      expect(h).toMatchObject({ requestApiKey: 0, requestApiVersion: 7, clientId: "golden-kafkajs" });
      expect(b).toMatchObject({ transactionalId: null, acks: -1, timeoutMs: 30000 });
      expect(b.topicData[0]?.name).toBe("golden");
      expectGoldenBatch(b.topicData[0]?.partitionData[0]?.records);
    },
  },
  {
    name: "kcat-fetch",
    client: "librdkafka 2.0.2 (kcat)",
    check: (h, body) => {
      const b = body as FetchRequest;
      expect(h).toMatchObject({ requestApiKey: 1, requestApiVersion: 11, clientId: "rdkafka" });
      expect(b).toMatchObject({
        replicaId: -1,
        maxWaitMs: 500,
        minBytes: 1,
        isolationLevel: 1,
        sessionEpoch: -1,
      });
      expect(b.topics[0]?.topic).toBe("golden");
      expect(b.topics[0]?.partitions[0]).toMatchObject({
        partition: 0,
        fetchOffset: 0n,
        partitionMaxBytes: 1048576,
      });
    },
  },
  {
    name: "java-fetch",
    client: "Apache Kafka Java client 4.3.1 (console consumer)",
    check: (h, body) => {
      const b = body as FetchRequest;
      expect(h).toMatchObject({ requestApiKey: 1, requestApiVersion: 17, clientId: "console-consumer" });
      expect(b).toMatchObject({
        replicaId: -1,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: 0,
        rackId: "",
      });
      // v13+ names topics by id only: the id capture.ts handed out in its Metadata response.
      expect(b.topics[0]).toMatchObject({ topic: "", topicId: "AAAAAAAAAAAAAAAAAAAAAg" });
      expect(b.topics[0]?.partitions[0]).toMatchObject({
        partition: 0,
        fetchOffset: 0n,
        lastFetchedEpoch: -1,
      });
    },
  },
];

describe("golden request frames from real clients", () => {
  for (const c of CASES) {
    test(`${c.name} (${c.client})`, () => {
      const frame = load(c.name);
      const { header, body, reencoded } = decodeFrame(frame);
      c.check(header, body);
      expect(reencoded.toString("hex")).toBe(frame.toString("hex"));
    });
  }

  test("records in a decoded Produce request are a view of the frame, not a copy", () => {
    const frame = load("java-produce");
    const api = apiDescriptor(0)!;
    const r = new Reader(frame);
    decodeRequestHeader(r, api.requestHeaderVersion(11));
    const body = api.decodeRequest(r, 11) as { topicData: { partitionData: { records: Buffer }[] }[] };
    const records = body.topicData[0]!.partitionData[0]!.records;
    expect(records.buffer).toBe(frame.buffer);
  });
});
