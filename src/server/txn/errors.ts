/**
 * PRODUCER_FENCED exists on the wire only from the versions that announce it (KIP-588):
 * InitProducerId v4, AddPartitionsToTxn / AddOffsetsToTxn / EndTxn v2. Older clients get
 * INVALID_PRODUCER_EPOCH for the same condition, as Kafka answers them.
 */
import { ErrorCode } from "../../protocol/generated/error-codes.js";

export function fencedFor(errorCode: number, apiVersion: number, firstVersionWithFenced: number): number {
  return errorCode === ErrorCode.PRODUCER_FENCED && apiVersion < firstVersionWithFenced
    ? ErrorCode.INVALID_PRODUCER_EPOCH
    : errorCode;
}
