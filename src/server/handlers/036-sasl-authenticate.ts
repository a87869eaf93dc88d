/**
 * SaslAuthenticate (key 36), versions 0-2 (KIP-152).
 *
 * On a SASL listener after SaslHandshake v1 (the SASL gate lets it through only then,
 * sasl/session.ts): one step of the mechanism's exchange. A challenge or the final server message
 * is answered NONE with its bytes; a failure SASL_AUTHENTICATION_FAILED with Kafka's message
 * ("Authentication failed: Invalid username or password" for PLAIN, "Authentication failed during
 * authentication due to invalid credentials with SASL mechanism <M>" for SCRAM, which says
 * nothing about whether the user exists), after which the connection closes.
 * The exchange's last answer carries session_lifetime_ms: `connections.max.reauth.ms` for the
 * mechanism, or 0 when re-authentication is off (KIP-368; the session and its re-authentication
 * are in sasl/session.ts). A client using v1+ may re-authenticate.
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
    // Kafka's connectedClientSupportsReauthentication: v1+ carries session_lifetime_ms.
    if (ctx.apiVersion > 0) session.clientSupportsReauthentication = true;
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
    const complete = (session.state as string) === "authenticated";
    if (complete && session.sessionLifetimeMs > 0) {
      ctx.logger.debug(
        { principal: session.principal, sessionLifetimeMs: session.sessionLifetimeMs },
        "SASL session (re-)authenticated",
      );
    }
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      authBytes: result.data,
      sessionLifetimeMs: BigInt(complete ? session.sessionLifetimeMs : 0),
    };
  },
});
