/**
 * DescribeClientQuotas (key 48), versions 0-1: Krill enforces no client quotas and stores none
 * (AlterClientQuotas refuses every entry and every quota key stops start-up, security-keys.ts), so
 * every filter matches nothing: NONE with no entries, which is what Kafka answers when no quota
 * is set. `kafka-configs --describe --entity-type users` sends it beside
 * DescribeUserScramCredentials. A filter naming an entity type Kafka does not know gets Kafka's
 * INVALID_REQUEST.
 */
import { AclOperation } from "../../metadata/acls.js";
import { DESCRIBE_CLIENT_QUOTAS_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { authorizeCluster } from "../auth.js";
import { defineHandler } from "../registry.js";

const ENTITY_TYPES = new Set(["user", "client-id", "ip"]);

export const handler = defineHandler({
  api: DESCRIBE_CLIENT_QUOTAS_API,
  minVersion: 0,
  maxVersion: 1,
  ordering: "concurrent",
  handle(ctx, request) {
    // Kafka's handleDescribeClientQuotasRequest: DESCRIBE_CONFIGS on the cluster.
    if (!authorizeCluster(ctx, AclOperation.DESCRIBE_CONFIGS)) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: "Cluster authorization failed.",
        entries: null,
      };
    }
    const unknown = request.components.find((c) => !ENTITY_TYPES.has(c.entityType));
    if (unknown !== undefined) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: `Custom entity type '${unknown.entityType}' not supported`,
        entries: null,
      };
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, entries: [] };
  },
});
