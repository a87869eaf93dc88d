/**
 * SaslHandshake (key 17), versions 0-1.
 *
 * On a SASL listener before authentication (the SASL gate lets it through only then,
 * sasl/session.ts): picks the client's mechanism if the listener enables it and answers NONE with
 * the enabled mechanisms; otherwise UNSUPPORTED_SASL_MECHANISM with the list, after which the
 * connection closes, as Kafka's SaslServerAuthenticator does. v1 is followed by SaslAuthenticate
 * requests, v0 by raw SASL tokens.
 *
 * Anywhere else (a PLAINTEXT or SSL listener, or a connection already authenticated) the answer
 * is Kafka's for a handshake that reaches KafkaApis: ILLEGAL_SASL_STATE with an empty mechanism
 * list, instead of a closed connection a client cannot tell from a network failure.
 */
import { SASL_HANDSHAKE_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { SaslHandshakeResponse } from "../../protocol/generated/sasl-handshake-response.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: SASL_HANDSHAKE_API,
  minVersion: 0,
  maxVersion: 1,
  ordering: "serial",
  handle(ctx, request): SaslHandshakeResponse {
    const session = ctx.connection.sasl;
    if (session === undefined || session.state !== "handshake") {
      return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] };
    }
    const mechanisms = [...session.enabledMechanisms];
    if (!session.selectMechanism(request.mechanism, ctx.apiVersion)) {
      return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms };
    }
    return { errorCode: ErrorCode.NONE, mechanisms };
  },
});
