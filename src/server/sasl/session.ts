/**
 * The SASL state of one connection on a SASL_PLAINTEXT or SASL_SSL listener, and the gate that
 * keeps every other request out until it is authenticated, as Kafka's SaslServerAuthenticator
 * does:
 *
 * - Before the handshake only ApiVersions and SaslHandshake (v0-1) are served; anything else
 *   closes the connection ("Unexpected Kafka request of type X during SASL handshake").
 * - SaslHandshake picks an enabled mechanism. v1 is followed by SaslAuthenticate requests (KIP-152;
 *   any other request closes the connection); v0 by raw size-prefixed SASL tokens.
 * - A failed authentication is answered (SASL_AUTHENTICATION_FAILED with Kafka's message, or
 *   UNSUPPORTED_SASL_MECHANISM with the enabled list), then the connection closes after
 *   `connection.failed.authentication.delay.ms` (Kafka's default, 100 ms): one attempt per
 *   connection.
 * - Once authenticated every request goes to the dispatcher unchanged (one state check per
 *   request); SaslHandshake/SaslAuthenticate then get KafkaApis's ILLEGAL_SASL_STATE answers.
 *   Re-authentication (KIP-368) is not offered: session_lifetime_ms is 0.
 *
 * Frames before authentication are bounded by `sasl.server.max.receive.size` (Kafka's 512 KiB
 * default), after it by `socket.request.max.bytes`.
 */
import type { SaslListenerSettings } from "../../config/sasl-settings.js";
import type { ConnectionInfo, FrameProcessor, RequestOutcome } from "../network/connection.js";
import { PlainServer } from "./plain.js";
import { type SaslServer, type ScramCredentialLookup, ScramServer, scramMechanismByName } from "./scram.js";

const API_VERSIONS = 18;
const SASL_HANDSHAKE = 17;
const SASL_AUTHENTICATE = 36;

/** Kafka's connection.failed.authentication.delay.ms default. */
export const FAILED_AUTHENTICATION_DELAY_MS = 100;

export type SaslState = "handshake" | "authenticate" | "raw-token" | "authenticated" | "failed";

export class SaslSession {
  state: SaslState = "handshake";
  /** `User:<name>` once authenticated. */
  principal: string | undefined;
  mechanism: string | undefined;
  #server: SaslServer | undefined;
  readonly settings: SaslListenerSettings;
  readonly #lookup: ScramCredentialLookup;
  /** Called once authenticated (the connection lifts its pre-authentication frame bound). */
  onAuthenticated: () => void = () => {};

  constructor(settings: SaslListenerSettings, lookup: ScramCredentialLookup) {
    this.settings = settings;
    this.#lookup = lookup;
  }

  get enabledMechanisms(): readonly string[] {
    return this.settings.enabledMechanisms;
  }

  /** SaslHandshake: true when `mechanism` is enabled (then the exchange starts), else failed. */
  selectMechanism(mechanism: string, handshakeVersion: number): boolean {
    if (!this.settings.enabledMechanisms.includes(mechanism)) {
      this.state = "failed";
      return false;
    }
    this.mechanism = mechanism;
    if (mechanism === "PLAIN") this.#server = new PlainServer(this.settings.plainUsers);
    else {
      const scram = scramMechanismByName(mechanism);
      if (scram === undefined) throw new Error(`assertion: enabled mechanism ${mechanism} has no server`);
      this.#server = new ScramServer(scram, this.#lookup);
    }
    this.state = handshakeVersion === 0 ? "raw-token" : "authenticate";
    return true;
  }

  /** One client token: the server's answer, or Kafka's failure message for the client. */
  evaluate(token: Buffer): { ok: true; data: Buffer } | { ok: false; message: string; reason: string } {
    const step = this.#server!.evaluate(token);
    if (step.kind === "failed") {
      this.state = "failed";
      this.#server = undefined;
      return {
        ok: false,
        reason: step.reason,
        message:
          step.kafkaMessage ??
          `Authentication failed during authentication due to invalid credentials with SASL mechanism ${this.mechanism}`,
      };
    }
    if (step.kind === "complete") {
      this.state = "authenticated";
      this.principal = `User:${step.user}`;
      this.#server = undefined;
      this.onAuthenticated();
    }
    return { ok: true, data: step.data };
  }
}

function delay<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms));
}

/**
 * The frame processor of a SASL listener: requests of authenticated connections go straight to
 * `inner`; before that, only what the SASL exchange allows.
 */
export function saslGate(inner: FrameProcessor): FrameProcessor {
  return {
    process(frame, connection, waitForEarlier, waitForRoom) {
      const session = connection.sasl;
      if (session === undefined || session.state === "authenticated") {
        return inner.process(frame, connection, waitForEarlier, waitForRoom);
      }
      if (session.state === "failed")
        return { kind: "close", reason: "request after a failed SASL authentication" };
      if (session.state === "raw-token") return rawToken(session, frame, connection);
      if (frame.length < 2)
        return { kind: "close", reason: "truncated request header during SASL handshake" };
      const apiKey = frame.readInt16BE(0);
      const allowed =
        apiKey === API_VERSIONS ||
        (session.state === "handshake" && apiKey === SASL_HANDSHAKE) ||
        (session.state === "authenticate" && apiKey === SASL_AUTHENTICATE);
      if (!allowed) {
        const during = session.state === "handshake" ? "SASL handshake" : "SASL authentication";
        return { kind: "close", reason: `Unexpected Kafka request of type ${apiKey} during ${during}` };
      }
      const outcome = inner.process(frame, connection, waitForEarlier, waitForRoom);
      if (apiKey === API_VERSIONS) return outcome;
      return Promise.resolve(outcome).then((o) => afterExchange(session, o, connection));
    },
  };
}

/** A failed exchange: the answer goes out after the delay, then the connection closes. */
function afterExchange(
  session: SaslSession,
  outcome: RequestOutcome,
  connection: ConnectionInfo,
): RequestOutcome | Promise<RequestOutcome> {
  if (session.state !== "failed" || outcome.kind !== "respond") return outcome;
  connection.logger.info(
    { listener: connection.listenerName, mechanism: session.mechanism ?? null },
    "failed authentication (SASL)",
  );
  return delay(FAILED_AUTHENTICATION_DELAY_MS, { ...outcome, closeAfter: true });
}

/** SaslHandshake v0: the frame is a raw SASL token, answered by a size-prefixed raw token. */
function rawToken(
  session: SaslSession,
  token: Buffer,
  connection: ConnectionInfo,
): RequestOutcome | Promise<RequestOutcome> {
  const result = session.evaluate(Buffer.from(token));
  if (!result.ok) {
    connection.logger.info(
      { listener: connection.listenerName, mechanism: session.mechanism ?? null, reason: result.reason },
      "failed authentication (SASL)",
    );
    return delay(FAILED_AUTHENTICATION_DELAY_MS, {
      kind: "close",
      reason: "SASL authentication failed",
    } as const);
  }
  // Kafka answers every token, an empty one (PLAIN's last) as a zero-length frame.
  const size = Buffer.alloc(4);
  size.writeInt32BE(result.data.length);
  return { kind: "respond", chunks: [size, result.data] };
}
