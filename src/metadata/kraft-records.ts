/**
 * The KRaft control records Krill writes into the metadata log and its snapshots, as Kafka's
 * RecordsSnapshotWriter and KafkaRaftClient write them:
 * - a snapshot is a control batch holding SnapshotHeader (offset 0, the snapshot's epoch as
 *   partitionLeaderEpoch), the data batches, then a control batch holding SnapshotFooter;
 * - a new leader's first batch is a control batch holding LeaderChangeMessage.
 * Control batches are non-transactional with no producer id; a control record's key is
 * (version 0, type), its value the spec's body (clients/*.json).
 */
import { KrillError } from "../errors.js";
import { encodeLeaderChangeMessage } from "../protocol/generated/leader-change-message.js";
import { encodeSnapshotFooterRecord } from "../protocol/generated/snapshot-footer-record.js";
import { encodeSnapshotHeaderRecord } from "../protocol/generated/snapshot-header-record.js";
import { ZERO_UUID } from "../protocol/primitives/uuid.js";
import { Writer } from "../protocol/primitives/writer.js";
import {
  ControlRecordType,
  encodeControlRecordKey,
  parseControlRecordKey,
} from "../protocol/records/control-records.js";
import {
  buildRecordBatch,
  type DecodedRecordBatch,
  decodeRecordBatches,
} from "../protocol/records/record-batch.js";
import { METADATA_BATCH_BYTES_MAX } from "./segment-log.js";

/** Data records per snapshot batch. */
const SNAPSHOT_BATCH_RECORDS = 1000;

function controlBatch(
  baseOffset: number,
  epoch: number,
  timestampMs: number,
  type: number,
  value: Buffer,
): Buffer {
  return buildRecordBatch({
    baseOffset: BigInt(baseOffset),
    partitionLeaderEpoch: epoch,
    producerId: -1n,
    producerEpoch: -1,
    baseSequence: -1,
    transactional: false,
    isControl: true,
    records: [{ timestamp: timestampMs, key: encodeControlRecordKey(type), value }],
  });
}

/** A data batch of serialized metadata records (offsets are assigned on append). */
export function dataBatch(
  values: readonly Buffer[],
  baseOffset: number,
  epoch: number,
  timestampMs: number,
): Buffer {
  return buildRecordBatch({
    baseOffset: BigInt(baseOffset),
    partitionLeaderEpoch: epoch,
    records: values.map((value) => ({ timestamp: timestampMs, key: null, value })),
  });
}

/** The LeaderChangeMessage batch a leader of `epoch` appends first (single voter: itself). */
export function leaderChangeBatch(
  leaderId: number,
  voters: readonly number[],
  epoch: number,
  timestampMs: number,
): Buffer {
  const w = new Writer();
  const voter = (voterId: number) => ({ voterId, voterDirectoryId: ZERO_UUID });
  encodeLeaderChangeMessage(
    w,
    { version: 0, leaderId, voters: voters.map(voter), grantingVoters: voters.map(voter) },
    0,
  );
  return controlBatch(0, epoch, timestampMs, ControlRecordType.LEADER_CHANGE, w.finish());
}

/** The batches of a snapshot holding `values` (serialized metadata records), header and footer included. */
export function snapshotBatches(
  values: readonly Buffer[],
  epoch: number,
  timestampMs: number,
  lastContainedLogTimestamp: number,
): Buffer[] {
  const header = new Writer();
  encodeSnapshotHeaderRecord(
    header,
    { version: 0, lastContainedLogTimestamp: BigInt(lastContainedLogTimestamp) },
    0,
  );
  const batches = [controlBatch(0, epoch, timestampMs, ControlRecordType.SNAPSHOT_HEADER, header.finish())];
  let offset = 1;
  for (let i = 0; i < values.length; i += SNAPSHOT_BATCH_RECORDS) {
    const chunk = values.slice(i, i + SNAPSHOT_BATCH_RECORDS);
    batches.push(dataBatch(chunk, offset, epoch, timestampMs));
    offset += chunk.length;
  }
  const footer = new Writer();
  encodeSnapshotFooterRecord(footer, { version: 0 }, 0);
  batches.push(controlBatch(offset, epoch, timestampMs, ControlRecordType.SNAPSHOT_FOOTER, footer.finish()));
  return batches;
}

function controlType(batch: DecodedRecordBatch | undefined): number | undefined {
  if (batch === undefined || !batch.isControl || batch.records.length === 0) return undefined;
  return parseControlRecordKey(batch.records[0]!.key).type;
}

/**
 * The data record values of a snapshot file, after checking it starts with SnapshotHeader and
 * ends with SnapshotFooter (a snapshot without its footer was not completely written).
 */
export function snapshotValues(bytes: Buffer, file: string): Buffer[] {
  let batches: DecodedRecordBatch[];
  try {
    batches = decodeRecordBatches(bytes, {
      decompressedBytesMax: METADATA_BATCH_BYTES_MAX,
      batchSizeMax: METADATA_BATCH_BYTES_MAX,
    });
  } catch (err) {
    throw new KrillError("CORRUPT_SEGMENT", `snapshot ${file}: bad record batch`, { cause: err });
  }
  if (controlType(batches[0]) !== ControlRecordType.SNAPSHOT_HEADER)
    throw new KrillError("CORRUPT_SEGMENT", `snapshot ${file} does not start with a SnapshotHeader`);
  if (controlType(batches.at(-1)) !== ControlRecordType.SNAPSHOT_FOOTER)
    throw new KrillError("CORRUPT_SEGMENT", `snapshot ${file} does not end with a SnapshotFooter`);
  return dataValues(batches, file);
}

/** Values of the data (non-control) records of `batches`. */
export function dataValues(batches: readonly DecodedRecordBatch[], file: string): Buffer[] {
  const values: Buffer[] = [];
  for (const b of batches) {
    if (b.isControl) continue;
    for (const r of b.records) {
      if (r.value === null)
        throw new KrillError("CORRUPT_SEGMENT", `${file}: metadata record without a value`);
      values.push(r.value);
    }
  }
  return values;
}
