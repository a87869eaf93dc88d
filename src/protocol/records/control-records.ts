/**
 * Control records: the records of batches with the control attribute (bit 5). Their key is
 * [version: int16 = 0][type: int16]; the value depends on the type. Transactions use COMMIT and
 * ABORT markers, whose value is Kafka's EndTxnMarker [version: int16 = 0][coordinatorEpoch: int32];
 * KRaft uses the other types with values from the metadata specs (LeaderChangeMessage,
 * SnapshotHeaderRecord, ...), which callers encode themselves and pass as bytes here.
 *
 * Parsing follows Kafka's ControlRecordType/EndTransactionMarker: a newer key or value version is
 * read by its version-0 prefix (later versions only add fields); sizes too small to hold the
 * version-0 fields, or negative versions, are KrillError("CORRUPT_RECORD").
 */
import { KrillError } from "../../errors.js";
import { buildRecordBatch, type DecodedRecord } from "./record-batch.js";

export const ControlRecordType = {
  ABORT: 0,
  COMMIT: 1,
  LEADER_CHANGE: 2,
  SNAPSHOT_HEADER: 3,
  SNAPSHOT_FOOTER: 4,
  KRAFT_VERSION: 5,
  KRAFT_VOTERS: 6,
} as const;
export type ControlRecordType = (typeof ControlRecordType)[keyof typeof ControlRecordType];

const CONTROL_KEY_VERSION = 0;
const CONTROL_KEY_SIZE = 4;
const END_TXN_MARKER_VERSION = 0;
const END_TXN_MARKER_SIZE = 6;

export function encodeControlRecordKey(type: number): Buffer {
  const key = Buffer.alloc(CONTROL_KEY_SIZE);
  key.writeInt16BE(CONTROL_KEY_VERSION, 0);
  key.writeInt16BE(type, 2);
  return key;
}

/** The type of a control record from its key; types this broker does not know are returned as numbers. */
export function parseControlRecordKey(key: Buffer | null): { version: number; type: number } {
  if (key === null || key.length < CONTROL_KEY_SIZE) {
    throw new KrillError(
      "CORRUPT_RECORD",
      `control record key of ${key?.length ?? "null"} bytes; need ${CONTROL_KEY_SIZE}`,
    );
  }
  const version = key.readInt16BE(0);
  if (version < 0) throw new KrillError("CORRUPT_RECORD", `invalid control record key version ${version}`);
  return { version, type: key.readInt16BE(2) };
}

export interface EndTxnMarker {
  commit: boolean;
  coordinatorEpoch: number;
}

export function encodeEndTxnMarkerValue(coordinatorEpoch: number): Buffer {
  const value = Buffer.alloc(END_TXN_MARKER_SIZE);
  value.writeInt16BE(END_TXN_MARKER_VERSION, 0);
  value.writeInt32BE(coordinatorEpoch, 2);
  return value;
}

/** Reads a COMMIT or ABORT marker record; throws CORRUPT_RECORD for anything else. */
export function parseEndTxnMarker(
  record: Pick<DecodedRecord, "key" | "value">,
): EndTxnMarker & { version: number } {
  const { type } = parseControlRecordKey(record.key);
  if (type !== ControlRecordType.COMMIT && type !== ControlRecordType.ABORT) {
    throw new KrillError("CORRUPT_RECORD", `control record type ${type} is not a transaction marker`);
  }
  const value = record.value;
  if (value === null || value.length < END_TXN_MARKER_SIZE) {
    throw new KrillError(
      "CORRUPT_RECORD",
      `transaction marker value of ${value?.length ?? "null"} bytes; need ${END_TXN_MARKER_SIZE}`,
    );
  }
  const version = value.readInt16BE(0);
  if (version < 0) throw new KrillError("CORRUPT_RECORD", `invalid transaction marker version ${version}`);
  return { commit: type === ControlRecordType.COMMIT, coordinatorEpoch: value.readInt32BE(2), version };
}

interface ControlBatchOptions {
  baseOffset?: bigint;
  partitionLeaderEpoch?: number;
  producerId: bigint;
  producerEpoch: number;
  timestampMs: bigint | number;
  /** Transaction markers are transactional; KRaft control batches are not. */
  transactional: boolean;
}

/** One control batch holding one control record of `type` with the given value bytes. */
export function buildControlBatch(options: ControlBatchOptions & { type: number; value: Buffer }): Buffer {
  return buildRecordBatch({
    baseOffset: options.baseOffset ?? 0n,
    partitionLeaderEpoch: options.partitionLeaderEpoch ?? -1,
    producerId: options.producerId,
    producerEpoch: options.producerEpoch,
    baseSequence: -1,
    transactional: options.transactional,
    isControl: true,
    records: [
      { timestamp: options.timestampMs, key: encodeControlRecordKey(options.type), value: options.value },
    ],
  });
}

/**
 * The batch a partition leader appends when a transaction ends (WriteTxnMarkers): transactional,
 * control, one COMMIT or ABORT record, as Kafka's MemoryRecords.withEndTransactionMarker builds it.
 */
export function buildEndTxnMarkerBatch(
  options: Omit<ControlBatchOptions, "transactional"> & EndTxnMarker,
): Buffer {
  return buildControlBatch({
    ...options,
    transactional: true,
    type: options.commit ? ControlRecordType.COMMIT : ControlRecordType.ABORT,
    value: encodeEndTxnMarkerValue(options.coordinatorEpoch),
  });
}
