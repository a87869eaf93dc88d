/**
 * The Kafka wire error codes record-batch validation returns: a subset of the generated closed set
 * (src/protocol/generated/error-codes.ts), named here so the validator's possible answers are
 * visible in one place. Wire codes are values put in responses, never thrown.
 *
 * UNSUPPORTED_FOR_MESSAGE_FORMAT (43) is absent on purpose: Produce v3+ (all Kafka 4 accepts)
 * answers a magic 0/1 batch with INVALID_RECORD (ProduceRequest.validateRecords).
 */
import { ErrorCode } from "../generated/error-codes.js";

export const RecordErrorCode = {
  NONE: ErrorCode.NONE,
  CORRUPT_MESSAGE: ErrorCode.CORRUPT_MESSAGE,
  MESSAGE_TOO_LARGE: ErrorCode.MESSAGE_TOO_LARGE,
  INVALID_TIMESTAMP: ErrorCode.INVALID_TIMESTAMP,
  UNSUPPORTED_COMPRESSION_TYPE: ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
  INVALID_RECORD: ErrorCode.INVALID_RECORD,
} as const;

export type RecordErrorCode = (typeof RecordErrorCode)[keyof typeof RecordErrorCode];
