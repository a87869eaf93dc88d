/**
 * The streaming record walk of compressed produce validation (compressed-validation.ts,
 * RecordStreamChecker): the same answer whatever pieces the decompressed section arrives in (one
 * buffer, single bytes, random cuts), for well-formed and mutated sections, and consistent with
 * the structural walk the codec change uses (checkRecordsStructure).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CompressedRecordsResult,
  checkRecords,
  type RecordCheckOptions,
  RecordStreamChecker,
} from "../../../src/protocol/records/compressed-validation.js";
import { checkRecordsStructure, encodeRecords } from "../../../src/protocol/records/record-batch.js";
import { NOW_MS, recordsArb } from "./helpers.js";

const OPTIONS: RecordCheckOptions = {
  timestampType: "CreateTime",
  timestampBeforeMaxMs: 500_000,
  timestampAfterMaxMs: 500_000,
  nowMs: NOW_MS,
  compacted: false,
  topicPartition: "t-0",
};

function inPieces(
  section: Buffer,
  cuts: number[],
  count: number,
  options: RecordCheckOptions,
): CompressedRecordsResult {
  const checker = new RecordStreamChecker(
    { recordsCount: count, baseTimestamp: BigInt(NOW_MS), timestampType: "CreateTime" },
    options,
  );
  let at = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    if (cut <= at || cut >= section.length) continue;
    if (!checker.push(section.subarray(at, cut))) return checker.end();
    at = cut;
  }
  checker.push(section.subarray(at));
  return checker.end();
}

function bytewise(section: Buffer, count: number, options: RecordCheckOptions): CompressedRecordsResult {
  return inPieces(
    section,
    Array.from({ length: section.length }, (_, i) => i),
    count,
    options,
  );
}

/** A section with some of: bytes changed, cut short, bytes added; and a count off by one. */
const caseArb = fc.record({
  records: recordsArb,
  flips: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 3 }),
  truncate: fc.option(fc.nat(), { nil: undefined }),
  extra: fc.uint8Array({ maxLength: 3 }),
  countSkew: fc.constantFrom(0, 0, 0, -1, 1),
  cuts: fc.array(fc.nat(), { maxLength: 8 }),
  compacted: fc.boolean(),
  clean: fc.boolean(),
});

describe("RecordStreamChecker", () => {
  it("answers the same for a section whole, byte by byte and cut anywhere", () => {
    let rejected = 0;
    let accepted = 0;
    fc.assert(
      fc.property(caseArb, (drawn) => {
        let c = drawn;
        let section = encodeRecords(c.records, BigInt(NOW_MS));
        if (c.clean) c = { ...c, flips: [], truncate: undefined, extra: new Uint8Array(), countSkew: 0 };
        section = Buffer.concat([section, Buffer.from(c.extra)]);
        for (const f of c.flips) if (section.length > 0) section[f.at % section.length] = f.value;
        if (c.truncate !== undefined && section.length > 0) {
          section = section.subarray(0, c.truncate % section.length);
        }
        const count = c.records.length + c.countSkew;
        // Half the time without timestamp bounds, so record errors do not hide the framing.
        const options = c.clean
          ? {
              ...OPTIONS,
              compacted: c.compacted,
              timestampBeforeMaxMs: Infinity,
              timestampAfterMaxMs: Infinity,
            }
          : { ...OPTIONS, compacted: c.compacted };
        const whole = checkRecords(
          section,
          { recordsCount: count, baseTimestamp: BigInt(NOW_MS), timestampType: "CreateTime" },
          options,
        );
        expect(bytewise(section, count, options)).toEqual(whole);
        expect(
          inPieces(
            section,
            c.cuts.map((x) => x % (section.length + 1)),
            count,
            options,
          ),
        ).toEqual(whole);
        if (whole.ok) accepted++;
        else rejected++;
        // Whatever passes the walk passes the structural check the codec change uses.
        if (whole.ok || whole.recordErrors.length > 0) {
          expect(() => checkRecordsStructure(section, count)).not.toThrow();
        }
      }),
      { numRuns: 1_500, seed: 19 },
    );
    expect(accepted).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(100);
  });

  it("refuses with Kafka's messages however the section is cut", () => {
    const three = encodeRecords(
      [0, 1, 2].map((i) => ({ timestamp: NOW_MS + i, key: `k${i}`, value: `v${i}` })),
      BigInt(NOW_MS),
    );
    const batch = (count: number) => ({
      recordsCount: count,
      baseTimestamp: BigInt(NOW_MS),
      timestampType: "CreateTime" as const,
    });
    for (const run of [
      (s: Buffer, n: number) => checkRecords(s, batch(n), OPTIONS),
      (s: Buffer, n: number) => bytewise(s, n, OPTIONS),
    ]) {
      expect(run(three, 3)).toEqual({ ok: true });
      expect(run(three, 4)).toMatchObject({
        errorMessage: "Incorrect declared batch size, premature EOF reached",
      });
      expect(run(three, 2)).toMatchObject({
        errorMessage: "Incorrect declared batch size, records still remaining in file",
      });
      expect(run(three.subarray(0, three.length - 2), 3)).toMatchObject({
        errorMessage: expect.stringMatching(
          /^Invalid record size: expected \d+ bytes in record payload, but the record payload reached EOF\.$/,
        ),
      });
    }
  });

  it("skips a record's value without holding it: a 1 GiB value costs a few pieces", () => {
    // length, attributes, timestamp delta 0, offset delta 0, key -1, value 2^30 bytes, no headers.
    const valueBytes = 2 ** 30;
    const prefix = zigzagRecordPrefix(valueBytes);
    const checker = new RecordStreamChecker(
      { recordsCount: 1, baseTimestamp: BigInt(NOW_MS), timestampType: "CreateTime" },
      OPTIONS,
    );
    expect(checker.push(prefix)).toBe(true);
    const zeros = Buffer.alloc(1 << 20);
    for (let i = 0; i < valueBytes / zeros.length; i++) expect(checker.push(zeros)).toBe(true);
    expect(checker.push(Buffer.from([0]))).toBe(true); // header count 0
    expect(checker.end()).toEqual({ ok: true });
  });
});

/** The bytes of a record up to its value, for a record with no key, a value of `valueBytes` and no headers. */
function zigzagRecordPrefix(valueBytes: number): Buffer {
  const varint = (v: number): number[] => {
    let raw = v >= 0 ? v * 2 : -v * 2 - 1;
    const out: number[] = [];
    while (raw >= 0x80) {
      out.push((raw % 0x80) | 0x80);
      raw = Math.floor(raw / 0x80);
    }
    out.push(raw);
    return out;
  };
  const value = varint(valueBytes);
  const bodyBytes = 1 + 1 + 1 + 1 + value.length + valueBytes + 1;
  return Buffer.from([...varint(bodyBytes), 0, 0, 0, ...varint(-1), ...value]);
}
