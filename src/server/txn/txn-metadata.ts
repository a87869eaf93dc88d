/**
 * Transaction coordinator state (Kafka's TransactionState, TransactionMetadata and TransactionLog):
 * the states of one transactional id, the legal transitions between them, and the records of the
 * internal topic __transaction_state that persist them.
 *
 * Legal transitions (target <- allowed previous states), as Kafka's TransactionState:
 *
 *   Empty             <- Empty, CompleteCommit, CompleteAbort        (InitProducerId)
 *   Ongoing           <- Ongoing, Empty, CompleteCommit, CompleteAbort (AddPartitions/AddOffsets)
 *   PrepareCommit     <- Ongoing                                      (EndTxn commit)
 *   PrepareAbort      <- Ongoing, PrepareEpochFence                   (EndTxn abort, timeout, fencing)
 *                        Empty, CompleteCommit, CompleteAbort         (transactions v2: an abort the
 *                                                                      client sends when unsure a
 *                                                                      partition was added)
 *   CompleteCommit    <- PrepareCommit                                (all markers written)
 *   CompleteAbort     <- PrepareAbort                                 (all markers written)
 *   Dead              <- Empty, CompleteCommit, CompleteAbort         (transactional id expired)
 *   PrepareEpochFence <- Ongoing                                      (InitProducerId of a new
 *                                                                      producer during a transaction)
 *
 * PrepareEpochFence is never written to the log: the bumped epoch is persisted with PrepareAbort.
 *
 * Records (Kafka's format, so the topic reads the same to Kafka's tools): key = int16 version 0 +
 * TransactionLogKey {transactionalId}; value = int16 version + TransactionLogValue (Krill writes
 * version 0, or 1 when a previous or next producer id or a client transaction version must be kept;
 * reads both); a null value is the tombstone of an expired transactional id.
 */
import { KrillError } from "../../errors.js";
import {
  decodeTransactionLogKey,
  encodeTransactionLogKey,
} from "../../protocol/generated/transaction-log-key.js";
import {
  decodeTransactionLogValue,
  encodeTransactionLogValue,
} from "../../protocol/generated/transaction-log-value.js";
import { Reader } from "../../protocol/primitives/reader.js";
import { Writer } from "../../protocol/primitives/writer.js";

export const TxnState = {
  Empty: 0,
  Ongoing: 1,
  PrepareCommit: 2,
  PrepareAbort: 3,
  CompleteCommit: 4,
  CompleteAbort: 5,
  Dead: 6,
  PrepareEpochFence: 7,
} as const;
export type TxnState = (typeof TxnState)[keyof typeof TxnState];

/** The names DescribeTransactions/ListTransactions use (Kafka's TransactionState.stateName). */
export const TXN_STATE_NAMES: Readonly<Record<TxnState, string>> = {
  [TxnState.Empty]: "Empty",
  [TxnState.Ongoing]: "Ongoing",
  [TxnState.PrepareCommit]: "PrepareCommit",
  [TxnState.PrepareAbort]: "PrepareAbort",
  [TxnState.CompleteCommit]: "CompleteCommit",
  [TxnState.CompleteAbort]: "CompleteAbort",
  [TxnState.Dead]: "Dead",
  [TxnState.PrepareEpochFence]: "PrepareEpochFence",
};

const VALID_PREVIOUS: Readonly<Record<TxnState, readonly TxnState[]>> = {
  [TxnState.Empty]: [TxnState.Empty, TxnState.CompleteCommit, TxnState.CompleteAbort],
  [TxnState.Ongoing]: [TxnState.Ongoing, TxnState.Empty, TxnState.CompleteCommit, TxnState.CompleteAbort],
  [TxnState.PrepareCommit]: [TxnState.Ongoing],
  [TxnState.PrepareAbort]: [
    TxnState.Ongoing,
    TxnState.PrepareEpochFence,
    TxnState.Empty,
    TxnState.CompleteCommit,
    TxnState.CompleteAbort,
  ],
  [TxnState.CompleteCommit]: [TxnState.PrepareCommit],
  [TxnState.CompleteAbort]: [TxnState.PrepareAbort],
  [TxnState.Dead]: [TxnState.Empty, TxnState.CompleteCommit, TxnState.CompleteAbort],
  [TxnState.PrepareEpochFence]: [TxnState.Ongoing],
};

export function isValidTransition(from: TxnState, to: TxnState): boolean {
  return VALID_PREVIOUS[to].includes(from);
}

/** Kafka's TransactionMetadata.isEpochExhausted: the last epoch before Short.MaxValue is kept for fencing. */
export const PRODUCER_EPOCH_MAX = 0x7fff - 1;
export function isEpochExhausted(epoch: number): boolean {
  return epoch >= PRODUCER_EPOCH_MAX;
}

/**
 * Transaction versions (Kafka's TransactionVersion, the transaction.version feature): 0 and 1 end
 * a transaction with the producer's epoch (1 only adds flexible records); 2 (KIP-890 part 2)
 * bumps the epoch at every transaction end.
 */
export const TV_2 = 2;
export function supportsEpochBump(transactionVersion: number): boolean {
  return transactionVersion >= TV_2;
}

/** The persisted part of a transactional id's state. */
export interface TxnRecordValue {
  producerId: bigint;
  previousProducerId: bigint;
  /** Transactions v2: the producer id that replaces an exhausted one when the transaction completes. */
  nextProducerId: bigint;
  producerEpoch: number;
  txnTimeoutMs: number;
  state: TxnState;
  /** topic -> partitions, in the order they were added. */
  partitions: ReadonlyMap<string, ReadonlySet<number>>;
  txnLastUpdateTimestampMs: number;
  txnStartTimestampMs: number;
  /** The transaction version the client used for the last transition (Kafka's clientTransactionVersion). */
  clientTransactionVersion: number;
}

const KEY_VERSION = 0;
const VALUE_VERSION_PLAIN = 0;
const VALUE_VERSION_MAX = 1;

export function encodeTxnKey(transactionalId: string): Buffer {
  const w = new Writer(32);
  w.writeInt16(KEY_VERSION);
  encodeTransactionLogKey(w, { transactionalId }, KEY_VERSION);
  return w.finish();
}

export function encodeTxnValue(v: TxnRecordValue): Buffer {
  // Version 0 whenever it can say everything (older Kafka tools read it); the previous and next
  // producer ids and the client's transaction version are tagged fields of version 1.
  const version =
    v.previousProducerId === -1n && v.nextProducerId === -1n && v.clientTransactionVersion === 0
      ? VALUE_VERSION_PLAIN
      : VALUE_VERSION_MAX;
  const w = new Writer(64);
  w.writeInt16(version);
  encodeTransactionLogValue(
    w,
    {
      producerId: v.producerId,
      previousProducerId: v.previousProducerId,
      nextProducerId: v.nextProducerId,
      nextProducerEpoch: -1,
      producerEpoch: v.producerEpoch,
      transactionTimeoutMs: v.txnTimeoutMs,
      transactionStatus: v.state,
      transactionPartitions: [...v.partitions].map(([topic, ids]) => ({ topic, partitionIds: [...ids] })),
      transactionLastUpdateTimestampMs: BigInt(v.txnLastUpdateTimestampMs),
      transactionStartTimestampMs: BigInt(v.txnStartTimestampMs),
      clientTransactionVersion: v.clientTransactionVersion,
    },
    version,
  );
  return w.finish();
}

/** Decodes a record of __transaction_state; throws KrillError("DECODE_ERROR"/"CORRUPT_RECORD"). */
export function decodeTxnRecord(
  key: Buffer,
  value: Buffer | null,
): { transactionalId: string; value: TxnRecordValue | null } {
  const kr = new Reader(key);
  const keyVersion = kr.readInt16();
  if (keyVersion !== KEY_VERSION) {
    throw new KrillError("CORRUPT_RECORD", `unknown __transaction_state key version ${keyVersion}`);
  }
  const { transactionalId } = decodeTransactionLogKey(kr, KEY_VERSION);
  if (value === null) return { transactionalId, value: null };
  const vr = new Reader(value);
  const version = vr.readInt16();
  if (version < 0 || version > VALUE_VERSION_MAX) {
    throw new KrillError("CORRUPT_RECORD", `unknown __transaction_state value version ${version}`);
  }
  const v = decodeTransactionLogValue(vr, version);
  if (v.transactionStatus < 0 || v.transactionStatus > TxnState.PrepareEpochFence) {
    throw new KrillError("CORRUPT_RECORD", `unknown transaction state ${v.transactionStatus}`);
  }
  const partitions = new Map<string, Set<number>>();
  for (const p of v.transactionPartitions ?? []) {
    let set = partitions.get(p.topic);
    if (set === undefined) {
      set = new Set();
      partitions.set(p.topic, set);
    }
    for (const id of p.partitionIds) set.add(id);
  }
  return {
    transactionalId,
    value: {
      producerId: v.producerId,
      previousProducerId: v.previousProducerId,
      nextProducerId: v.nextProducerId,
      producerEpoch: v.producerEpoch,
      txnTimeoutMs: v.transactionTimeoutMs,
      state: v.transactionStatus as TxnState,
      partitions,
      txnLastUpdateTimestampMs: Number(v.transactionLastUpdateTimestampMs),
      txnStartTimestampMs: Number(v.transactionStartTimestampMs),
      clientTransactionVersion: v.clientTransactionVersion,
    },
  };
}
