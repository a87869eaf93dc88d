/**
 * A compacted topic keeps the latest record per key, so a record without a key cannot go there:
 * Kafka's LogValidator.validateKey rejects it, batch by batch, and ReplicaManager answers the
 * partition INVALID_RECORD with the per-record errors (KIP-467) and the exception's message.
 * Only compacted topics pay for reading the records (as in Kafka, which iterates them there too);
 * compressed batches are decompressed within a bound.
 */
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { ProduceResponseBatchIndexAndErrorMessage } from "../../protocol/generated/produce-response.js";
import type { ProducedBatchSummary } from "../../protocol/records/produce-validation.js";
import { decodeRecordBatch } from "../../protocol/records/record-batch.js";

export type KeyCheck =
  | { ok: true }
  | {
      ok: false;
      errorCode: number;
      errorMessage: string;
      recordErrors: ProduceResponseBatchIndexAndErrorMessage[];
    };

/** How many record errors Kafka's message quotes ("only showing the first three errors at most"). */
const QUOTED_ERRORS = 3;

/**
 * The first batch holding records without a key fails the partition, as Kafka's
 * processRecordErrors throws for the first batch with errors; its record indexes count from 0
 * within that batch. Control batches (transaction markers) always have keys.
 */
export function checkCompactedKeys(
  records: Buffer,
  batches: readonly Pick<ProducedBatchSummary, "position" | "isControl">[],
  topic: string,
  partition: number,
  decompressedBytesMax: number,
  recordErrorsMax: number,
): KeyCheck {
  for (const batch of batches) {
    if (batch.isControl) continue;
    let decoded: ReturnType<typeof decodeRecordBatch>;
    try {
      // The batch was validated already (CRC included); only its records are read here.
      decoded = decodeRecordBatch(records, {
        position: batch.position,
        decompressedBytesMax,
        verifyCrc: false,
      });
    } catch (err) {
      return {
        ok: false,
        errorCode: ErrorCode.CORRUPT_MESSAGE,
        errorMessage: `records of a batch for compacted topic partition ${topic}-${partition} do not decode: ${(err as Error).message}`,
        recordErrors: [],
      };
    }
    const errors: ProduceResponseBatchIndexAndErrorMessage[] = [];
    decoded.records.forEach((record, batchIndex) => {
      if (record.key === null) {
        errors.push({
          batchIndex,
          batchIndexErrorMessage: `Compacted topic cannot accept message without key in topic partition ${topic}-${partition}`,
        });
      }
    });
    if (errors.length === 0) continue;
    const quoted = errors
      .slice(0, QUOTED_ERRORS)
      .map((e) => `RecordError(batchIndex=${e.batchIndex}, message='${e.batchIndexErrorMessage}')`);
    return {
      ok: false,
      errorCode: ErrorCode.INVALID_RECORD,
      errorMessage:
        `One or more records have been rejected due to ${errors.length} record errors in total, ` +
        `and only showing the first three errors at most: [${quoted.join(", ")}]`,
      recordErrors: errors.slice(0, recordErrorsMax),
    };
  }
  return { ok: true };
}
