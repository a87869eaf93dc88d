/**
 * SaslAuthenticate (key 36), versions 0-2 (KIP-152).
 *
 * On a SASL listener after SaslHandshake v1 (the SASL gate lets it through only then,
 * sasl/session.ts): one step of the mechanism's exchange. A challenge or the final server message
 * is answered NONE with its bytes; a failure SASL_AUTHENTICATION_FAILED with Kafka's message
 * ("Authentication failed: Invalid username or password" for PLAIN, "Authentication failed during
 * authentication due to invalid credentials with SASL mechanism <M>" for SCRAM, which says
 * nothing about whether the user exists), after which the connection closes.
 * session_lifetime_ms is 0: Krill does not ask clients to re-authenticate (KIP-368).
 *
 * Anywhere else the answer is KafkaApis's: ILLEGAL_SASL_STATE with its message.
 * Per-version notes: v1 adds session_lifetime_ms; v2 is flexible.
 */
import { SASL_AUTHENTICATE_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { SaslAuthenticateResponse } from "../../protocol/generated/sasl-authenticate-response.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: SASL_AUTHENTICATE_API,
  minVersion: 0,
  maxVersion: 2,
  ordering: "serial",
  handle(ctx, request): SaslAuthenticateResponse {
    const session = ctx.connection.sasl;
    if (session === undefined || session.state !== "authenticate") {
      return {
        errorCode: ErrorCode.ILLEGAL_SASL_STATE,
        errorMessage: "SaslAuthenticate request received after successful authentication",
        authBytes: Buffer.alloc(0),
        sessionLifetimeMs: 0n,
      };
    }
    const result = session.evaluate(Buffer.from(request.authBytes));
    if (!result.ok) {
      ctx.logger.info(
        { mechanism: session.mechanism, reason: result.reason },
        "failed authentication (SASL)",
      );
      return {
        errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
        errorMessage: result.message,
        authBytes: Buffer.alloc(0),
        sessionLifetimeMs: 0n,
      };
    }
    return { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: result.data, sessionLifetimeMs: 0n };
  },
});
