/**
 * WriteTxnMarkers (api key 27), versions 1-2 (flexible; Kafka 4 removed v0, KIP-896): appends
 * COMMIT/ABORT markers to partitions this node leads, answered once the ISR has them. Krill's
 * transaction coordinator sends it to the leaders of partitions on other nodes (and appends
 * directly to its own); it also serves `kafka-transactions.sh abort`, which ends a hanging
 * transaction by writing an ABORT marker for a producer (found with DescribeProducers).
 * Per partition: UNKNOWN_TOPIC_OR_PARTITION, INVALID_PRODUCER_EPOCH for a marker older than the
 * producer's epoch, TRANSACTION_COORDINATOR_FENCED for an older coordinator epoch, internal
 * topics other than __consumer_offsets refused (INVALID_TOPIC_EXCEPTION, nothing transactional
 * lives there), as Kafka checks them. v2 (KIP-1228) names each marker's transaction version: a
 * transactions-v2 marker must carry an epoch newer than the producer's (the coordinator bumped it
 * at the transaction's end), except the retry of one already written; v1 markers are legacy (0).
 */

import { AclOperation } from "../../metadata/acls.js";
import { CONSUMER_OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC } from "../../metadata/internal-topics.js";
import { WRITE_TXN_MARKERS_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { WriteTxnMarkersResponse } from "../../protocol/generated/write-txn-markers-response.js";
import { authorizeCluster } from "../auth.js";
import { awaitCoordinatorAppend } from "../coordinator-log.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: WRITE_TXN_MARKERS_API,
  minVersion: 1,
  maxVersion: 2,
  ordering: "serial",
  async handle(ctx, request): Promise<WriteTxnMarkersResponse> {
    // Kafka's handleWriteTxnMarkersRequest: ALTER or CLUSTER_ACTION on the cluster.
    if (
      !authorizeCluster(ctx, AclOperation.ALTER, { logIfDenied: false }) &&
      !authorizeCluster(ctx, AclOperation.CLUSTER_ACTION)
    ) {
      return {
        markers: request.markers.map((m) => ({
          producerId: m.producerId,
          topics: m.topics.map((t) => ({
            name: t.name,
            partitions: t.partitionIndexes.map((partitionIndex) => ({
              partitionIndex,
              errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
            })),
          })),
        })),
      };
    }
    const partitions = ctx.broker.partitions;
    const service = ctx.broker.transactions;
    const durables: Promise<void>[] = [];
    const markers = request.markers.map((m) => ({
      producerId: m.producerId,
      topics: m.topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) => {
          const out = { partitionIndex, errorCode: ErrorCode.NONE as number };
          if (t.name === TRANSACTION_STATE_TOPIC) {
            out.errorCode = ErrorCode.INVALID_TOPIC_EXCEPTION;
            return out;
          }
          const found = partitions.lookup(t.name, partitionIndex);
          if (!found.ok) {
            out.errorCode = found.errorCode;
            return out;
          }
          const outcome = found.partition.appendTxnMarker(
            m.producerId,
            m.producerEpoch,
            m.coordinatorEpoch,
            m.transactionResult,
            partitions.clock.nowMs(),
            ctx.apiVersion >= 2 ? m.transactionVersion : 0,
          );
          if (outcome.kind === "error") {
            out.errorCode = outcome.errorCode;
            return out;
          }
          // Markers for __consumer_offsets end transactional offset commits too.
          if (t.name === CONSUMER_OFFSETS_TOPIC) service.offsets.complete(m.producerId, m.transactionResult);
          // As Kafka (acks=all): answered once the ISR has the marker.
          durables.push(
            awaitCoordinatorAppend(partitions, found.partition, outcome).then((errorCode) => {
              out.errorCode = errorCode;
            }),
          );
          return out;
        }),
      })),
    }));
    await Promise.all(durables);
    return { markers };
  },
});
