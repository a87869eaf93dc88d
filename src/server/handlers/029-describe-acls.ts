/**
 * DescribeAcls (key 29), versions 1-3 (Kafka 4 serves no v0): the ACL bindings of the metadata
 * image a filter matches, grouped by resource pattern, as Kafka's AclApis answers from its
 * StandardAuthorizer. Needs DESCRIBE on the cluster (CLUSTER_AUTHORIZATION_FAILED); without an
 * authorizer SECURITY_DISABLED "No Authorizer is configured on the broker". A filter with an
 * UNKNOWN code closes the connection, as Kafka fails to parse such a request.
 */
import { KrillError } from "../../errors.js";
import { AclOperation, describeAcls, hasUnknownCode, normalizeCodes } from "../../metadata/acls.js";
import { DESCRIBE_ACLS_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { authorizeCluster } from "../auth.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: DESCRIBE_ACLS_API,
  minVersion: 1,
  maxVersion: 3,
  ordering: "concurrent",
  handle(ctx, request) {
    const filter = {
      resourceType: request.resourceTypeFilter,
      resourceName: request.resourceNameFilter,
      patternType: request.patternTypeFilter,
      principal: request.principalFilter,
      host: request.hostFilter,
      operation: request.operation,
      permissionType: request.permissionType,
    };
    if (hasUnknownCode(filter))
      throw new KrillError("DECODE_ERROR", "DescribeAclsRequest contains UNKNOWN elements");
    const error = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0,
      errorCode,
      errorMessage,
      resources: [],
    });
    if (!authorizeCluster(ctx, AclOperation.DESCRIBE)) {
      return error(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.");
    }
    if (ctx.broker.authorizer === undefined) {
      return error(ErrorCode.SECURITY_DISABLED, "No Authorizer is configured on the broker");
    }
    const resources = describeAcls(ctx.broker.image(), normalizeCodes(filter)).map((r) => ({
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      patternType: r.patternType,
      acls: r.acls.map((a) => ({
        principal: a.principal,
        host: a.host,
        operation: a.operation,
        permissionType: a.permissionType,
      })),
    }));
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, resources };
  },
});
