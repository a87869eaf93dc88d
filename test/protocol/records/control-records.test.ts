import { describe, expect, it } from "vitest";
import { isKrillError } from "../../../src/errors.js";
import {
  buildControlBatch,
  buildEndTxnMarkerBatch,
  ControlRecordType,
  encodeControlRecordKey,
  parseControlRecordKey,
  parseEndTxnMarker,
} from "../../../src/protocol/records/control-records.js";
import { validateProducedBatches } from "../../../src/protocol/records/produce-validation.js";
import { decodeRecordBatch } from "../../../src/protocol/records/record-batch.js";
import { RecordErrorCode } from "../../../src/protocol/records/wire-error-codes.js";

const LIMITS = { decompressedBytesMax: 1 << 20 };

describe("control records", () => {
  it("builds commit and abort markers that parse back", () => {
    for (const commit of [true, false]) {
      const buf = buildEndTxnMarkerBatch({
        baseOffset: 41n,
        partitionLeaderEpoch: 2,
        producerId: 1234n,
        producerEpoch: 5,
        timestampMs: 1_700_000_000_000,
        commit,
        coordinatorEpoch: 17,
      });
      const batch = decodeRecordBatch(buf, LIMITS);
      expect(batch.isControl).toBe(true);
      expect(batch.isTransactional).toBe(true);
      expect(batch.header).toMatchObject({
        baseOffset: 41n,
        partitionLeaderEpoch: 2,
        producerId: 1234n,
        producerEpoch: 5,
        baseSequence: -1,
        recordsCount: 1,
        lastOffsetDelta: 0,
      });
      const record = batch.records[0]!;
      // Kafka's wire bytes: key [0,0, 0,type], value [0,0, epoch int32].
      expect(record.key).toEqual(Buffer.from([0, 0, 0, commit ? 1 : 0]));
      expect(record.value).toEqual(Buffer.from([0, 0, 0, 0, 0, 17]));
      expect(parseEndTxnMarker(record)).toEqual({ commit, coordinatorEpoch: 17, version: 0 });
    }
  });

  it("is refused when a client produces it", () => {
    const buf = buildEndTxnMarkerBatch({
      producerId: 1n,
      producerEpoch: 0,
      timestampMs: 1_700_000_000_000,
      commit: true,
      coordinatorEpoch: 0,
    });
    const result = validateProducedBatches(buf, {
      maxMessageBytes: 1 << 20,
      timestampType: "CreateTime",
      timestampBeforeMaxMs: Number.POSITIVE_INFINITY,
      timestampAfterMaxMs: Number.POSITIVE_INFINITY,
      nowMs: 1_700_000_000_000,
    });
    expect(result).toMatchObject({ ok: false, errorCode: RecordErrorCode.INVALID_RECORD });
  });

  it("builds other control types with caller-encoded values", () => {
    const value = Buffer.from([0, 0, 0, 0, 0, 1, 0]);
    const buf = buildControlBatch({
      producerId: -1n,
      producerEpoch: -1,
      timestampMs: 5,
      transactional: false,
      type: ControlRecordType.LEADER_CHANGE,
      value,
    });
    const batch = decodeRecordBatch(buf, LIMITS);
    expect(batch.isTransactional).toBe(false);
    expect(parseControlRecordKey(batch.records[0]!.key)).toEqual({ version: 0, type: 2 });
    expect(batch.records[0]!.value).toEqual(value);
    expect(() => parseEndTxnMarker(batch.records[0]!)).toThrow(/not a transaction marker/);
  });

  it("reads newer versions by their version-0 prefix and rejects short or negative ones", () => {
    const key = Buffer.from([0, 3, 0, 1, 9, 9]);
    expect(parseControlRecordKey(key)).toEqual({ version: 3, type: 1 });
    expect(parseEndTxnMarker({ key, value: Buffer.from([0, 1, 0, 0, 1, 0, 7, 7]) })).toEqual({
      commit: true,
      coordinatorEpoch: 256,
      version: 1,
    });
    const corrupt = (fn: () => unknown) => {
      try {
        fn();
        return undefined;
      } catch (err) {
        return isKrillError(err) ? err.code : "other";
      }
    };
    expect(corrupt(() => parseControlRecordKey(Buffer.from([0, 0, 1])))).toBe("CORRUPT_RECORD");
    expect(corrupt(() => parseControlRecordKey(null))).toBe("CORRUPT_RECORD");
    expect(corrupt(() => parseControlRecordKey(Buffer.from([0xff, 0xff, 0, 1])))).toBe("CORRUPT_RECORD");
    expect(
      corrupt(() => parseEndTxnMarker({ key: encodeControlRecordKey(0), value: Buffer.from([0, 0, 0]) })),
    ).toBe("CORRUPT_RECORD");
    expect(corrupt(() => parseEndTxnMarker({ key: encodeControlRecordKey(0), value: null }))).toBe(
      "CORRUPT_RECORD",
    );
  });
});
