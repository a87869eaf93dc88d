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
import { encodeKRaftVersionRecord } from "../protocol/generated/kraft-version-record.js";
import { encodeLeaderChangeMessage } from "../protocol/generated/leader-change-message.js";
import { encodeSnapshotFooterRecord } from "../protocol/generated/snapshot-footer-record.js";
import { encodeSnapshotHeaderRecord } from "../protocol/generated/snapshot-header-record.js";
import { encodeVotersRecord } from "../protocol/generated/voters-record.js";
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
  records: readonly { readonly type: number; readonly value: Buffer }[],
): Buffer {
  return buildRecordBatch({
    baseOffset: BigInt(baseOffset),
    partitionLeaderEpoch: epoch,
    producerId: -1n,
    producerEpoch: -1,
    baseSequence: -1,
    transactional: false,
    isControl: true,
    records: records.map((r) => ({
      timestamp: timestampMs,
      key: encodeControlRecordKey(r.type),
      value: r.value,
    })),
  });
}

/**
 * The kraft.version 1 records a snapshot carries after its SnapshotHeader (KIP-853): the
 * KRaftVersionRecord and VotersRecord values, kept as written.
 */
export interface KRaftControlValues {
  readonly kraftVersion: Buffer;
  readonly voters: Buffer | undefined;
}

export interface Voter {
  readonly id: number;
  readonly directoryId: string;
  readonly endpoints: readonly { readonly name: string; readonly host: string; readonly port: number }[];
}

/** KRaftVersionRecord (kraft.version 1) and VotersRecord values for `voters`, as Kafka's formatter writes them. */
export function kraftControlValues(voters: readonly Voter[]): KRaftControlValues {
  const version = new Writer();
  encodeKRaftVersionRecord(version, { version: 0, kRaftVersion: 1 }, 0);
  const record = new Writer();
  encodeVotersRecord(
    record,
    {
      version: 0,
      voters: voters.map((v) => ({
        voterId: v.id,
        voterDirectoryId: v.directoryId,
        endpoints: v.endpoints.map((e) => ({ name: e.name, host: e.host, port: e.port })),
        kRaftVersionFeature: { minSupportedVersion: 0, maxSupportedVersion: 1 },
      })),
    },
    0,
  );
  return { kraftVersion: version.finish(), voters: record.finish() };
}

/** The KRaftVersion and Voters values in a snapshot's header batch, if it has them. */
export function snapshotKRaftControl(bytes: Buffer): KRaftControlValues | undefined {
  const first = decodeRecordBatches(bytes, {
    decompressedBytesMax: METADATA_BATCH_BYTES_MAX,
    batchSizeMax: METADATA_BATCH_BYTES_MAX,
  })[0];
  if (first === undefined || !first.isControl) return undefined;
  let kraftVersion: Buffer | undefined;
  let voters: Buffer | undefined;
  for (const r of first.records) {
    const { type } = parseControlRecordKey(r.key);
    if (type === ControlRecordType.KRAFT_VERSION && r.value !== null) kraftVersion = Buffer.from(r.value);
    if (type === ControlRecordType.KRAFT_VOTERS && r.value !== null) voters = Buffer.from(r.value);
  }
  return kraftVersion === undefined ? undefined : { kraftVersion, voters };
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

/**
 * The LeaderChangeMessage batch a leader of `epoch` appends first; `grantingVoters` default to
 * `voters` (a single voter: itself).
 */
export function leaderChangeBatch(
  leaderId: number,
  voters: readonly number[],
  epoch: number,
  timestampMs: number,
  grantingVoters: readonly number[] = voters,
): Buffer {
  const w = new Writer();
  const voter = (voterId: number) => ({ voterId, voterDirectoryId: ZERO_UUID });
  encodeLeaderChangeMessage(
    w,
    { version: 0, leaderId, voters: voters.map(voter), grantingVoters: grantingVoters.map(voter) },
    0,
  );
  return controlBatch(0, epoch, timestampMs, [{ type: ControlRecordType.LEADER_CHANGE, value: w.finish() }]);
}

/**
 * The batches of a snapshot holding `values` (serialized metadata records), header and footer
 * included; with `kraft` (kraft.version 1), the KRaftVersion and Voters records follow the header
 * in its batch, as Kafka's RecordsSnapshotWriter writes them.
 */
export function snapshotBatches(
  values: readonly Buffer[],
  epoch: number,
  timestampMs: number,
  lastContainedLogTimestamp: number,
  kraft?: KRaftControlValues,
): Buffer[] {
  const header = new Writer();
  encodeSnapshotHeaderRecord(
    header,
    { version: 0, lastContainedLogTimestamp: BigInt(lastContainedLogTimestamp) },
    0,
  );
  const control: { type: number; value: Buffer }[] = [
    { type: ControlRecordType.SNAPSHOT_HEADER, value: header.finish() },
  ];
  if (kraft !== undefined) {
    control.push({ type: ControlRecordType.KRAFT_VERSION, value: kraft.kraftVersion });
    if (kraft.voters !== undefined)
      control.push({ type: ControlRecordType.KRAFT_VOTERS, value: kraft.voters });
  }
  const batches = [controlBatch(0, epoch, timestampMs, control)];
  let offset = control.length;
  for (let i = 0; i < values.length; i += SNAPSHOT_BATCH_RECORDS) {
    const chunk = values.slice(i, i + SNAPSHOT_BATCH_RECORDS);
    batches.push(dataBatch(chunk, offset, epoch, timestampMs));
    offset += chunk.length;
  }
  const footer = new Writer();
  encodeSnapshotFooterRecord(footer, { version: 0 }, 0);
  batches.push(
    controlBatch(offset, epoch, timestampMs, [
      { type: ControlRecordType.SNAPSHOT_FOOTER, value: footer.finish() },
    ]),
  );
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
