/**
 * AlterClientQuotas (key 49), versions 0-1: Krill does not enforce client quotas yet (issue 18;
 * every quota key also stops start-up, security-keys.ts), so it stores none: rather than accept a
 * quota it would not apply, every entry is refused with INVALID_REQUEST naming what was asked,
 * which `kafka-configs --alter --entity-type users|clients --add-config producer_byte_rate=...`
 * prints. Needs ALTER_CONFIGS on the cluster (CLUSTER_AUTHORIZATION_FAILED), as Kafka checks
 * first.
 */
import { AclOperation } from "../../metadata/acls.js";
import { ALTER_CLIENT_QUOTAS_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { authorizeCluster } from "../auth.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: ALTER_CLIENT_QUOTAS_API,
  minVersion: 0,
  maxVersion: 1,
  ordering: "concurrent",
  handle(ctx, request) {
    const allowed = authorizeCluster(ctx, AclOperation.ALTER_CONFIGS);
    return {
      throttleTimeMs: 0,
      entries: request.entries.map((e) => {
        const entity = e.entity.map((c) => ({ entityType: c.entityType, entityName: c.entityName }));
        if (!allowed) {
          return {
            errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
            errorMessage: "Cluster authorization failed.",
            entity,
          };
        }
        const what = entity.map((c) => `${c.entityType}=${c.entityName ?? "<default>"}`).join(", ");
        const keys = e.ops.map((o) => o.key).join(", ");
        return {
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: `Krill does not enforce client quotas yet, so it stores none: ${keys || "no quota"} for ${what || "no entity"} was not changed (issue 18)`,
          entity,
        };
      }),
    };
  },
});
