/**
 * DeleteAcls (key 31), versions 1-3: removes, through the controller, every stored ACL binding
 * each filter matches (acls.ts writes a RemoveAccessControlEntryRecord per binding), answering
 * per filter the bindings it matched, as Kafka's AclApis and AclControlManager. Needs ALTER on
 * the cluster (every filter CLUSTER_AUTHORIZATION_FAILED); without an authorizer every filter
 * gets SECURITY_DISABLED "No Authorizer is configured.". A filter with an UNKNOWN code closes
 * the connection, as Kafka fails to parse such a request.
 */
import { KrillError } from "../../errors.js";
import { AclOperation, hasUnknownCode } from "../../metadata/acls.js";
import { DELETE_ACLS_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { authorizeCluster } from "../auth.js";
import { runOnController } from "../controller-apis.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: DELETE_ACLS_API,
  minVersion: 1,
  maxVersion: 3,
  ordering: "concurrent",
  async handle(ctx, request) {
    const filters = request.filters.map((f) => ({
      resourceType: f.resourceTypeFilter,
      resourceName: f.resourceNameFilter,
      patternType: f.patternTypeFilter,
      principal: f.principalFilter,
      host: f.hostFilter,
      operation: f.operation,
      permissionType: f.permissionType,
    }));
    if (filters.some(hasUnknownCode))
      throw new KrillError("DECODE_ERROR", "Filters contain UNKNOWN elements");
    const all = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0,
      filterResults: filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] })),
    });
    if (!authorizeCluster(ctx, AclOperation.ALTER)) {
      return all(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.");
    }
    if (ctx.broker.authorizer === undefined)
      return all(ErrorCode.SECURITY_DISABLED, "No Authorizer is configured.");
    return runOnController(
      ctx,
      async (controller) => ({
        throttleTimeMs: 0,
        filterResults: (await controller.deleteAcls(filters)).map((r) => ({
          errorCode: r.errorCode,
          errorMessage: r.errorMessage,
          matchingAcls: r.matching.map((m) => ({ errorCode: ErrorCode.NONE, errorMessage: null, ...m })),
        })),
      }),
      (message) => all(ErrorCode.NOT_CONTROLLER, message),
    );
  },
});
