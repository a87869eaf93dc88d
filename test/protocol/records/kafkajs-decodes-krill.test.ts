/**
 * Cross-check with a real client's decoder: kafkajs's own record-batch decoder (the code its
 * consumer runs on Fetch responses) reads the batches Krill builds, for the codecs kafkajs has
 * (none, gzip built in; snappy through kafkajs-snappy, which must read Krill's xerial framing).
 */
import { createRequire } from "node:module";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildRecordBatch } from "../../../src/protocol/records/record-batch.js";
import { recordsArb } from "./helpers.js";

const require = createRequire(import.meta.url);
const KafkaDecoder = require("kafkajs/src/protocol/decoder") as new (buf: Buffer) => unknown;
const decodeKafkajsBatch = require("kafkajs/src/protocol/recordBatch/v0/decoder") as (
  decoder: unknown,
) => Promise<{
  firstOffset: string;
  producerId: string;
  inTransaction: boolean;
  records: {
    key: Buffer | null;
    value: Buffer | null;
    headers: Record<string, Buffer | Buffer[] | null>;
    timestamp: string;
    offset: string;
  }[];
}>;
const { Codecs, Types } = require("kafkajs/src/protocol/message/compression") as {
  Codecs: Record<number, () => unknown>;
  Types: Record<string, number>;
};
const SnappyCodec = require("kafkajs-snappy") as () => unknown;
Codecs[Types.Snappy!] = SnappyCodec;

describe("kafkajs decodes batches built by Krill", () => {
  it("none, gzip and snappy, records and headers intact (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        recordsArb,
        fc.constantFrom("none", "gzip", "snappy" as const),
        async (records, compression) => {
          // kafkajs folds headers into an object, so give each record distinct header keys.
          const input = records.map((r) => ({
            ...r,
            headers: (r.headers ?? []).map((h, i) => ({ key: `h${i}-${h.key}`, value: h.value ?? "" })),
          }));
          const buf = buildRecordBatch({
            baseOffset: 77n,
            producerId: 5n,
            producerEpoch: 1,
            baseSequence: 0,
            records: input,
            compression,
          });
          const decoded = await decodeKafkajsBatch(new KafkaDecoder(buf));
          expect(decoded.firstOffset).toBe("77");
          expect(decoded.producerId).toBe("5");
          expect(decoded.records).toHaveLength(input.length);
          decoded.records.forEach((r, i) => {
            const want = input[i]!;
            expect(r.offset).toBe(String(77 + i));
            expect(r.timestamp).toBe(String(want.timestamp));
            expect(r.key).toEqual(want.key);
            expect(r.value).toEqual(want.value);
            expect(Object.entries(r.headers).map(([k, v]) => [k, v])).toEqual(
              want.headers.map((h) => [h.key, typeof h.value === "string" ? Buffer.from(h.value) : h.value]),
            );
          });
        },
      ),
      { numRuns: 60 },
    );
  });
});
