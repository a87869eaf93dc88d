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
 * - Re-authentication (KIP-368), when `connections.max.reauth.ms` (per listener and mechanism as
 *   Kafka reads it) is above 0: a successful SaslAuthenticate tells the client its
 *   session_lifetime_ms; a SaslHandshake on the authenticated connection (at most one a second,
 *   from a client that used SaslAuthenticate v1+, as KafkaChannel.maybeBeginServerReauthentication)
 *   starts a new exchange on the same connection, which must name the same mechanism ("SASL
 *   mechanism 'X' requested by client is not supported for re-authentication of mechanism 'Y'")
 *   and end with the same principal ("Cannot change principals during re-authentication from
 *   User.a: User.b"), else it fails and the connection closes; success starts a new session.
 *   Any other request that arrives after the session expired closes the connection, as Kafka's
 *   SocketServer does (a connection idle past expiry is closed when it next sends).
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

/** KafkaChannel.MIN_REAUTH_INTERVAL_ONE_SECOND_NANOS. */
const MIN_REAUTH_INTERVAL_MS = 1000;

export class SaslSession {
  state: SaslState = "handshake";
  /** `User:<name>` once authenticated. */
  principal: string | undefined;
  mechanism: string | undefined;
  #server: SaslServer | undefined;
  readonly settings: SaslListenerSettings;
  readonly #lookup: ScramCredentialLookup;
  readonly #nowMs: () => number;
  /** Called once authenticated (the connection lifts its pre-authentication frame bound). */
  onAuthenticated: () => void = () => {};
  /** The session's lifetime told to the client (0: no re-authentication), KIP-368. */
  sessionLifetimeMs = 0;
  /** When the session expires (re-authentication enabled), else undefined. */
  expiresAtMs: number | undefined;
  /** The client used SaslAuthenticate v1+, which carries session_lifetime_ms. */
  clientSupportsReauthentication = false;
  #lastReauthenticationStartMs: number | undefined;
  /** While re-authenticating: the principal and mechanism of the session being renewed. */
  #previous: { readonly principal: string; readonly mechanism: string } | undefined;

  constructor(settings: SaslListenerSettings, lookup: ScramCredentialLookup, nowMs: () => number = Date.now) {
    this.settings = settings;
    this.#lookup = lookup;
    this.#nowMs = nowMs;
  }

  /** Whether the re-authentication of this session is under way. */
  get reauthenticating(): boolean {
    return this.#previous !== undefined;
  }

  /** Whether an authenticated session has expired (Kafka's serverAuthenticationSessionExpired). */
  expired(): boolean {
    return this.expiresAtMs !== undefined && this.#nowMs() > this.expiresAtMs;
  }

  /**
   * A SaslHandshake on the authenticated connection: starts re-authentication when the session
   * has a lifetime, the client can re-authenticate, and the last one started a second ago or more
   * (Kafka's maybeBeginServerReauthentication); else false (the handshake is answered
   * ILLEGAL_SASL_STATE, or the connection closed if the session expired).
   */
  beginReauthentication(): boolean {
    if (
      this.state !== "authenticated" ||
      this.expiresAtMs === undefined ||
      !this.clientSupportsReauthentication
    ) {
      return false;
    }
    const nowMs = this.#nowMs();
    if (
      this.#lastReauthenticationStartMs !== undefined &&
      nowMs - this.#lastReauthenticationStartMs < MIN_REAUTH_INTERVAL_MS
    ) {
      return false;
    }
    this.#lastReauthenticationStartMs = nowMs;
    this.#previous = { principal: this.principal!, mechanism: this.mechanism! };
    this.state = "handshake";
    return true;
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
    const previous = this.#previous;
    if (previous !== undefined && previous.mechanism !== mechanism) {
      // Kafka answers the handshake and fails the SaslAuthenticate that follows.
      const message = `SASL mechanism '${mechanism}' requested by client is not supported for re-authentication of mechanism '${previous.mechanism}'`;
      this.#server = {
        mechanism,
        evaluate: () => ({ kind: "failed", reason: message, kafkaMessage: message }),
      };
      this.state = handshakeVersion === 0 ? "raw-token" : "authenticate";
      return true;
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
      const principal = `User:${step.user}`;
      const previous = this.#previous;
      this.#previous = undefined;
      this.#server = undefined;
      if (previous !== undefined && previous.principal !== principal) {
        this.state = "failed";
        const from = previous.principal.replace(":", ".");
        const message = `Cannot change principals during re-authentication from ${from}: ${principal.replace(":", ".")}`;
        return { ok: false, reason: message, message };
      }
      this.state = "authenticated";
      this.principal = principal;
      // Kafka's calcCompletionTimesAndReturnSessionLifetimeMs (PLAIN and SCRAM credentials do not
      // expire, so connections.max.reauth.ms alone decides).
      const lifetimeMs = this.settings.reauthMsByMechanism.get(this.mechanism!) ?? 0;
      this.sessionLifetimeMs = lifetimeMs > 0 ? lifetimeMs : 0;
      this.expiresAtMs = lifetimeMs > 0 ? this.#nowMs() + lifetimeMs : undefined;
      if (previous === undefined) this.onAuthenticated();
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
      if (session === undefined) return inner.process(frame, connection, waitForEarlier, waitForRoom);
      if (session.state === "authenticated") {
        // Without re-authentication, one comparison per request.
        if (session.expiresAtMs === undefined || frame.length < 2) {
          return inner.process(frame, connection, waitForEarlier, waitForRoom);
        }
        const reauthenticate = frame.readInt16BE(0) === SASL_HANDSHAKE && session.beginReauthentication();
        if (!reauthenticate) {
          if (session.expired()) {
            return {
              kind: "close",
              reason: `SASL session expired (connections.max.reauth.ms ${session.sessionLifetimeMs}) without re-authentication`,
            };
          }
          return inner.process(frame, connection, waitForEarlier, waitForRoom);
        }
        connection.logger.debug({ mechanism: session.mechanism }, "SASL re-authentication started");
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
