/**
 * ListTransactions (api key 66), versions 0-2 (kafka-transactions.sh list): every transactional
 * id this coordinator holds, filtered by state names (unknown names are echoed back in
 * unknown_state_filters and match nothing), by producer ids, (v1, KIP-994) by duration_filter:
 * only transactions open for at least that many milliseconds, and (v2, KIP-1152) by
 * transactional_id_pattern: ids the regular expression matches whole (Kafka's RE2J
 * Matcher.matches); null or empty matches all, and one that does not compile (or uses what RE2
 * lacks: back-references, look-around) answers INVALID_REGULAR_EXPRESSION.
 */
import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { LIST_TRANSACTIONS_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { ListTransactionsResponse } from "../../protocol/generated/list-transactions-response.js";
import { authorize } from "../auth.js";
import { compileTopicRegex } from "../group/consumer-group.js";
import { defineHandler } from "../registry.js";
import { stateName } from "../txn/txn-coordinator.js";
import { TXN_STATE_NAMES, TxnState } from "../txn/txn-metadata.js";

const KNOWN_STATES = new Set(Object.values(TXN_STATE_NAMES));

/** JavaScript regex syntax that RE2 refuses: back-references and look-around. */
const NOT_RE2 = /\\[1-9]|\\k<|\(\?<?[=!]/;

/** The v2 pattern as a whole-id matcher; undefined for none, null when it does not compile. */
function idPattern(source: string | null): RegExp | null | undefined {
  if (source === null || source === "") return undefined;
  if (NOT_RE2.test(source)) return null;
  return compileTopicRegex(source);
}

export const handler = defineHandler({
  api: LIST_TRANSACTIONS_API,
  minVersion: 0,
  maxVersion: 2,
  ordering: "concurrent",
  handle(ctx, request): ListTransactionsResponse {
    const coordinator = ctx.broker.transactions.kick();
    const unknownStateFilters = request.stateFilters.filter((s) => !KNOWN_STATES.has(s));
    if (!coordinator.isLoaded) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
        unknownStateFilters,
        transactionStates: [],
      };
    }
    const pattern = ctx.apiVersion >= 2 ? idPattern(request.transactionalIdPattern) : undefined;
    if (pattern === null) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.INVALID_REGULAR_EXPRESSION,
        unknownStateFilters: [],
        transactionStates: [],
      };
    }
    const states = new Set(request.stateFilters);
    const producerIds = new Set(request.producerIdFilters);
    const durationMs = ctx.apiVersion >= 1 ? Number(request.durationFilter) : -1;
    const nowMs = ctx.broker.partitions.clock.nowMs();
    const transactionStates: ListTransactionsResponse["transactionStates"] = [];
    for (const txn of coordinator.transactions()) {
      const name = stateName(txn.state);
      if (states.size > 0 && !states.has(name)) continue;
      if (producerIds.size > 0 && !producerIds.has(txn.producerId)) continue;
      if (pattern !== undefined && !pattern.test(txn.transactionalId)) continue;
      // Kafka's handleListTransactionsRequest: only ids the client may DESCRIBE.
      if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, txn.transactionalId))
        continue;
      if (durationMs >= 0) {
        const open =
          txn.state === TxnState.Ongoing ||
          txn.state === TxnState.PrepareCommit ||
          txn.state === TxnState.PrepareAbort;
        if (!open || nowMs - txn.txnStartTimestampMs < durationMs) continue;
      }
      transactionStates.push({
        transactionalId: txn.transactionalId,
        producerId: txn.producerId,
        transactionState: name,
      });
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, unknownStateFilters, transactionStates };
  },
});
