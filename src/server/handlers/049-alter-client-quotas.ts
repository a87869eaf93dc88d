/**
 * AlterClientQuotas (key 49), versions 0-1: sets and removes client quotas through the controller
 * (src/metadata/client-quotas.ts writes a ClientQuotaRecord per changed key, with Kafka's
 * ClientQuotaControlManager validation and messages; `validate_only` writes nothing), one result
 * per entity; every node then enforces them (src/server/quotas/). `kafka-configs --alter
 * --add-config producer_byte_rate=1048576 --entity-type users --entity-name alice` (or
 * `--entity-type clients`, both, `--entity-default`) sends it. Needs ALTER_CONFIGS on the
 * cluster (CLUSTER_AUTHORIZATION_FAILED), as Kafka checks first. An `ip` entity is refused:
 * Krill does not limit connection creation.
 */
import { AclOperation } from "../../metadata/acls.js";
import { ALTER_CLIENT_QUOTAS_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { authorizeCluster } from "../auth.js";
import { runOnController } from "../controller-apis.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: ALTER_CLIENT_QUOTAS_API,
  minVersion: 0,
  maxVersion: 1,
  ordering: "concurrent",
  handle(ctx, request) {
    const alterations = request.entries.map((e) => ({
      entity: e.entity.map((c) => ({ entityType: c.entityType, entityName: c.entityName })),
      ops: e.ops.map((o) => ({ key: o.key, value: o.remove ? null : o.value })),
    }));
    const all = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0,
      entries: alterations.map((a) => ({ errorCode, errorMessage, entity: [...a.entity] })),
    });
    if (!authorizeCluster(ctx, AclOperation.ALTER_CONFIGS)) {
      return all(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.");
    }
    return runOnController(
      ctx,
      async (controller) => ({
        throttleTimeMs: 0,
        entries: (await controller.alterClientQuotas(alterations, request.validateOnly)).map((r) => ({
          errorCode: r.errorCode,
          errorMessage: r.errorMessage,
          entity: [...r.entity],
        })),
      }),
      (message) => all(ErrorCode.NOT_CONTROLLER, message),
    );
  },
});
