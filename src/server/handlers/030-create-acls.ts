/**
 * CreateAcls (key 30), versions 1-3: stores ACL bindings through the controller (acls.ts writes
 * an AccessControlEntryRecord per new binding; a binding already stored succeeds without a
 * record), one result per creation in request order, as Kafka's AclApis and AclControlManager.
 * Needs ALTER on the cluster (every creation CLUSTER_AUTHORIZATION_FAILED); without an
 * authorizer every creation gets SECURITY_DISABLED "No Authorizer is configured.". A creation
 * with an UNKNOWN code closes the connection, as Kafka fails to parse such a request.
 */
import { KrillError } from "../../errors.js";
import { AclOperation, hasUnknownCode } from "../../metadata/acls.js";
import { CREATE_ACLS_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { authorizeCluster } from "../auth.js";
import { runOnController } from "../controller-apis.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: CREATE_ACLS_API,
  minVersion: 1,
  maxVersion: 3,
  ordering: "concurrent",
  async handle(ctx, request) {
    const bindings = request.creations.map((c) => ({
      resourceType: c.resourceType,
      resourceName: c.resourceName,
      patternType: c.resourcePatternType,
      principal: c.principal,
      host: c.host,
      operation: c.operation,
      permissionType: c.permissionType,
    }));
    if (bindings.some(hasUnknownCode))
      throw new KrillError("DECODE_ERROR", "CreatableAcls contain unknown elements");
    const all = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0,
      results: bindings.map(() => ({ errorCode, errorMessage })),
    });
    if (!authorizeCluster(ctx, AclOperation.ALTER)) {
      return all(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.");
    }
    if (ctx.broker.authorizer === undefined)
      return all(ErrorCode.SECURITY_DISABLED, "No Authorizer is configured.");
    return runOnController(
      ctx,
      async (controller) => ({ throttleTimeMs: 0, results: await controller.createAcls(bindings) }),
      (message) => all(ErrorCode.NOT_CONTROLLER, message),
    );
  },
});
