/**
 * DescribeUserScramCredentials (key 50), version 0: the SCRAM credentials in the metadata image
 * (mechanism and iterations, never the keys), as Kafka's KRaft broker answers from its
 * ScramImage: every user with a credential when `users` is null or empty, RESOURCE_NOT_FOUND for
 * a named user without one, DUPLICATE_RESOURCE for a user named twice. Without an authorizer the
 * CLUSTER DESCRIBE check Kafka makes passes; with one, CLUSTER_AUTHORIZATION_FAILED without it.
 */

import { AclOperation } from "../../metadata/acls.js";
import { describeScramCredentials } from "../../metadata/scram-control.js";
import { DESCRIBE_USER_SCRAM_CREDENTIALS_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { authorizeCluster } from "../auth.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: DESCRIBE_USER_SCRAM_CREDENTIALS_API,
  minVersion: 0,
  maxVersion: 0,
  ordering: "concurrent",
  handle(ctx, request) {
    if (!authorizeCluster(ctx, AclOperation.DESCRIBE)) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: "Cluster authorization failed.",
        results: [],
      };
    }
    const users = request.users === null ? null : request.users.map((u) => u.name);
    const results = describeScramCredentials(ctx.broker.image(), users).map((r) => ({
      user: r.user,
      errorCode: r.errorCode,
      errorMessage: r.errorMessage,
      credentialInfos: r.credentialInfos.map((c) => ({ mechanism: c.mechanism, iterations: c.iterations })),
    }));
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, results };
  },
});
