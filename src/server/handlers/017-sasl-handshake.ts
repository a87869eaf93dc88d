/**
 * SaslHandshake (key 17), versions 0-1, on a listener without SASL. Krill serves PLAINTEXT
 * listeners only (any other security protocol stops start-up), so no mechanism is enabled: the
 * answer is Kafka's for a handshake that reaches the request handlers (KafkaApis
 * handleSaslHandshakeRequest), ILLEGAL_SASL_STATE with an empty mechanism list, instead of a
 * closed connection a client cannot tell from a network failure.
 * Per-version notes: v1 only changes what follows the handshake (SaslAuthenticate frames).
 */
import { SASL_HANDSHAKE_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { SaslHandshakeResponse } from "../../protocol/generated/sasl-handshake-response.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: SASL_HANDSHAKE_API,
  minVersion: 0,
  maxVersion: 1,
  ordering: "concurrent",
  handle(): SaslHandshakeResponse {
    return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] };
  },
});
