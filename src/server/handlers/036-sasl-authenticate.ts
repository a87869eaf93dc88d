/**
 * SaslAuthenticate (key 36), versions 0-2, on a listener without SASL: answered as Kafka's
 * KafkaApis answers a SaslAuthenticate that reaches it, ILLEGAL_SASL_STATE with its message,
 * rather than by closing the connection. Krill serves PLAINTEXT listeners only.
 * Per-version notes: v1 adds session_lifetime_ms (0 here); v2 is flexible.
 */
import { SASL_AUTHENTICATE_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { SaslAuthenticateResponse } from "../../protocol/generated/sasl-authenticate-response.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: SASL_AUTHENTICATE_API,
  minVersion: 0,
  maxVersion: 2,
  ordering: "concurrent",
  handle(): SaslAuthenticateResponse {
    return {
      errorCode: ErrorCode.ILLEGAL_SASL_STATE,
      errorMessage: "SaslAuthenticate request received after successful authentication",
      authBytes: Buffer.alloc(0),
      sessionLifetimeMs: 0n,
    };
  },
});
