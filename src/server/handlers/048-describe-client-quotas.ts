/**
 * DescribeClientQuotas (key 48), versions 0-1: the client quotas of the metadata image that match
 * the filter (src/metadata/client-quotas.ts, Kafka's ClientQuotasImage.describe: EXACT, DEFAULT
 * and SPECIFIED components, `strict`, its validation errors), as Kafka's brokers answer from
 * their metadata cache. `kafka-configs --describe --entity-type users|clients` sends it. Needs
 * DESCRIBE_CONFIGS on the cluster (CLUSTER_AUTHORIZATION_FAILED).
 */
import { AclOperation } from "../../metadata/acls.js";
import { describeClientQuotas } from "../../metadata/client-quotas.js";
import { DESCRIBE_CLIENT_QUOTAS_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { authorizeCluster } from "../auth.js";
import { defineHandler } from "../registry.js";

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
    const result = describeClientQuotas(ctx.broker.image().clientQuotas, request.components, request.strict);
    if (result.kind === "error") {
      return {
        throttleTimeMs: 0,
        errorCode: result.errorCode,
        errorMessage: result.errorMessage,
        entries: null,
      };
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      entries: result.entries.map((e) => ({
        entity: [...e.entity].map(([entityType, entityName]) => ({ entityType, entityName })),
        values: [...e.values].map(([key, value]) => ({ key, value })),
      })),
    };
  },
});
