/**
 * The few Kafka wire error codes the record-batch validation returns. Wire codes are values put in
 * responses, never thrown.
 *
 * TODO: switch to the closed set in src/protocol/generated/error-codes.ts once it exists; these
 * numbers are Kafka's (org.apache.kafka.common.protocol.Errors) and must not diverge from it.
 */
export const RecordErrorCode = {
  NONE: 0,
  CORRUPT_MESSAGE: 2,
  MESSAGE_TOO_LARGE: 10,
  INVALID_TIMESTAMP: 32,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  INVALID_RECORD: 87,
} as const;

export type RecordErrorCode = (typeof RecordErrorCode)[keyof typeof RecordErrorCode];
