/**
 * AlterUserScramCredentials (key 51), version 0: adds, replaces and deletes SCRAM credentials
 * through the controller (scram-control.ts), which stores UserScramCredentialRecord /
 * RemoveUserScramCredentialRecord in the metadata log; `kafka-configs --alter --add-config
 * 'SCRAM-SHA-256=[password=...]' --entity-type users` uses it. The client sends the salt and the
 * salted password, never the password. Without an authorizer the CLUSTER ALTER check Kafka makes
 * passes; with one, every user is answered CLUSTER_AUTHORIZATION_FAILED without it.
 */
import { AclOperation } from "../../metadata/acls.js";
import { NotControllerError } from "../../metadata/metadata-log.js";
import { ALTER_USER_SCRAM_CREDENTIALS_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { authorizeCluster } from "../auth.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: ALTER_USER_SCRAM_CREDENTIALS_API,
  minVersion: 0,
  maxVersion: 0,
  ordering: "concurrent",
  async handle(ctx, request) {
    if (!authorizeCluster(ctx, AclOperation.ALTER)) {
      const users = new Set([...request.deletions, ...request.upsertions].map((c) => c.name));
      return {
        throttleTimeMs: 0,
        results: [...users].map((user) => ({
          user,
          errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          errorMessage: "Cluster authorization failed.",
        })),
      };
    }
    try {
      const results = await ctx.broker.controller.alterUserScramCredentials(
        request.deletions.map((d) => ({ name: d.name, mechanism: d.mechanism })),
        request.upsertions.map((u) => ({
          name: u.name,
          mechanism: u.mechanism,
          iterations: u.iterations,
          salt: Buffer.from(u.salt),
          saltedPassword: Buffer.from(u.saltedPassword),
        })),
      );
      return { throttleTimeMs: 0, results };
    } catch (err) {
      if (!(err instanceof NotControllerError)) throw err;
      // Kafka's getErrorResponse: every user named gets the error.
      const users = new Set([...request.deletions, ...request.upsertions].map((c) => c.name));
      return {
        throttleTimeMs: 0,
        results: [...users].map((user) => ({
          user,
          errorCode: ErrorCode.NOT_CONTROLLER,
          errorMessage: err.message,
        })),
      };
    }
  },
});
