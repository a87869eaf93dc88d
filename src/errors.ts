/**
 * Operating errors: failures of the environment or of input that the program handles (a bad
 * config value, a corrupt segment, an undecodable frame). One base class with a closed list of
 * codes, and the underlying `cause` kept. Kafka wire error codes are a separate closed set
 * (src/protocol/generated/error-codes.ts): they are put in responses, never thrown. Programmer
 * errors are `assert`s and are never caught.
 */
export const KRILL_ERROR_CODES = [
  "CONFIG_INVALID",
  "DECODE_ERROR",
  "ENCODE_ERROR",
  "CORRUPT_RECORD",
  "CORRUPT_SEGMENT",
  "LOG_IO",
  "OFFSET_OUT_OF_RANGE",
  "COMPRESSION",
  "FRAME_TOO_LARGE",
  "UNSUPPORTED",
  "STATE",
  // Outbound node-to-node requests (src/server/network/node-client.ts), named as Kafka's errors.
  "NETWORK_EXCEPTION",
  "REQUEST_TIMED_OUT",
  "UNSUPPORTED_VERSION",
  "REQUEST_QUEUE_FULL",
  // A controller write on a node whose controller is not (or no longer) the active one: Kafka's
  // NotControllerException, answered NOT_CONTROLLER (src/server/controller-apis.ts).
  "NOT_CONTROLLER",
  // A TLS handshake or SASL exchange the admin client's connection failed (src/admin/security.ts):
  // Kafka's SslAuthenticationException / SaslAuthenticationException, never retried.
  "AUTHENTICATION_FAILED",
] as const;

export type KrillErrorCode = (typeof KRILL_ERROR_CODES)[number];

export class KrillError extends Error {
  readonly code: KrillErrorCode;

  constructor(code: KrillErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "KrillError";
    this.code = code;
  }
}

export function isKrillError(err: unknown, code?: KrillErrorCode): err is KrillError {
  return err instanceof KrillError && (code === undefined || err.code === code);
}
