/**
 * Security keys Krill does not enforce yet, refused at start-up (fail closed).
 *
 * Kafka reads these keys to authenticate clients (TLS, SASL), to authorize them (an authorizer
 * with ACLs and super users) and to limit them (quotas, connection limits). Krill serves
 * PLAINTEXT and SSL listeners (the `ssl.*` keys of tls-settings.ts's ENFORCED_TLS_KEYS), without
 * SASL, authorization or quotas, so a configuration that asks for any of those would start a
 * broker that is more open than its operator believes: an anonymous client could write to a
 * topic the operator thinks is protected. Such a key therefore stops start-up with one line
 * naming it, until Krill enforces it (issue 18). Keys Krill enforces are classified here too
 * (`isSecurityKey`), so BrokerConfig hands them to the module that reads them.
 *
 * A key is accepted only when its value asks for nothing Krill fails to do: the value Kafka
 * itself uses when the key is absent (`max.connections.per.ip` = 2147483647), or a value that
 * switches the feature off (`authorizer.class.name` empty, `security.inter.broker.protocol`
 * PLAINTEXT). Keys that only tune a feature Krill lacks without asking for protection (quota
 * window sizes, `connection.failed.authentication.delay.ms`) are not listed here.
 *
 * Listeners whose security protocol is SASL_PLAINTEXT or SASL_SSL are refused where listeners are
 * parsed (broker-config.ts), with the same wording.
 */

/** Why a key is security-relevant, for the refusal message. */
import { ENFORCED_AUTHORIZER_KEYS } from "./authorizer-settings.js";
import { ENFORCED_SASL_KEYS, LISTENER_JAAS_KEY, LISTENER_REAUTH_KEY } from "./sasl-settings.js";
import { ENFORCED_TLS_KEYS, HARMLESS_TLS_VALUES } from "./tls-settings.js";

type Reason = "tls" | "sasl" | "authorizer" | "quota" | "delegation";

interface SecurityKey {
  readonly reason: Reason;
  /** Values that ask for nothing (compared after trimming); absent = any value is refused. */
  readonly harmless?: readonly string[];
  /** Krill enforces the key: never refused. */
  readonly enforced?: boolean;
}

const INT32_MAX_TEXT = "2147483647";

/** Exact keys (besides the `ssl.` and `sasl.` families) and what makes them harmless. */
const SECURITY_KEYS: ReadonlyMap<string, SecurityKey> = new Map<string, SecurityKey>([
  // Authorization: authorizer.class.name, super.users and allow.everyone.if.no.acl.found are
  // enforced (authorizer-settings.ts); a custom principal builder is not.
  [
    "principal.builder.class",
    {
      reason: "authorizer",
      harmless: ["", "org.apache.kafka.common.security.authenticator.DefaultKafkaPrincipalBuilder"],
    },
  ],
  // Authentication between brokers and of clients.
  ["security.inter.broker.protocol", { reason: "tls", harmless: ["PLAINTEXT"] }],
  ["security.providers", { reason: "tls", harmless: [""] }],
  // Delegation tokens: Kafka enables them with a secret key; Krill has none to offer.
  ["delegation.token.secret.key", { reason: "delegation", harmless: [""] }],
  ["delegation.token.master.key", { reason: "delegation", harmless: [""] }],
  // Client quotas are enforced when set with AlterClientQuotas (kafka-configs), stored in the
  // metadata log; what follows are the other ways Kafka limits clients: a custom quota callback,
  // per-IP connection limits (max.connections, which Krill enforces, is not here) and the static
  // defaults of Kafka 3.x.
  ["client.quota.callback.class", { reason: "quota", harmless: [""] }],
  ["max.connections.per.ip", { reason: "quota", harmless: [INT32_MAX_TEXT] }],
  ["max.connections.per.ip.overrides", { reason: "quota", harmless: [""] }],
  ["max.connection.creation.rate", { reason: "quota", harmless: [INT32_MAX_TEXT] }],
  // Kafka 3.x static client quotas (removed in 4.0, still found in older files).
  ["quota.producer.default", { reason: "quota", harmless: ["9223372036854775807"] }],
  ["quota.consumer.default", { reason: "quota", harmless: ["9223372036854775807"] }],
]);

/** Families refused whatever their value: every key under them configures TLS or SASL. */
const SECURITY_PREFIXES: ReadonlyArray<readonly [string, Reason]> = [
  ["ssl.", "tls"],
  ["sasl.", "sasl"],
];

/**
 * Per-listener overrides (`listener.name.<name>.<key>`): the same keys, plus the per-mechanism
 * SASL settings (`listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config`) and per-listener
 * connection limits.
 */
const LISTENER_PREFIX = /^listener\.name\.[^.]+\.(.+)$/;
const LISTENER_ONLY_KEYS: ReadonlyMap<string, SecurityKey> = new Map<string, SecurityKey>([
  ["max.connections", { reason: "quota", harmless: [INT32_MAX_TEXT] }],
  ["max.connection.creation.rate", { reason: "quota", harmless: [INT32_MAX_TEXT] }],
]);

/** A key Krill enforces: any value is accepted here and validated where it is read. */
const ENFORCED: SecurityKey = { reason: "tls", harmless: undefined, enforced: true };

const WHAT: Record<Reason, string> = {
  tls: "Krill's TLS does not enforce (it reads the ssl.* keys listed in docs/security.md)",
  sasl: "Krill's SASL does not enforce (it serves PLAIN and SCRAM with the sasl.* keys listed in docs/security.md)",
  authorizer:
    "Krill's authorizer does not enforce (it implements StandardAuthorizer with the keys listed in docs/security.md)",
  quota:
    "Krill does not enforce (it enforces the client quotas set with kafka-configs --entity-type users/clients, not quota callbacks, static quota defaults or per-IP connection limits)",
  delegation: "Krill does not provide: delegation tokens are not supported",
};

function classify(key: string): SecurityKey | undefined {
  // Enforced on SSL listeners (tls-settings.ts): accepted, read from BrokerConfig's security keys.
  if (ENFORCED_TLS_KEYS.has(key) || ENFORCED_SASL_KEYS.has(key) || ENFORCED_AUTHORIZER_KEYS.has(key)) {
    return ENFORCED;
  }
  const tlsDefault = HARMLESS_TLS_VALUES.get(key);
  if (tlsDefault !== undefined) return { reason: "tls", harmless: tlsDefault };
  const exact = SECURITY_KEYS.get(key);
  if (exact !== undefined) return exact;
  for (const [prefix, reason] of SECURITY_PREFIXES) if (key.startsWith(prefix)) return { reason };
  const listener = LISTENER_PREFIX.exec(key);
  if (listener !== null) {
    const rest = listener[1]!;
    // `<mechanism>.sasl.jaas.config`, `<mechanism>.sasl.server.callback.handler.class`, ...
    if (LISTENER_JAAS_KEY.test(rest) || LISTENER_REAUTH_KEY.test(rest)) return ENFORCED;
    if (/^[^.]+\.sasl\./.test(rest)) return { reason: "sasl" };
    return LISTENER_ONLY_KEYS.get(rest) ?? classify(rest);
  }
  return undefined;
}

export interface UnenforcedSecurityKey {
  readonly key: string;
  /** Where the key was set, e.g. `/etc/krill/server.properties:12` or `override`. */
  readonly origin: string;
  readonly message: string;
}

/**
 * The key's refusal when `value` asks for security Krill does not enforce, else undefined.
 * `origin` names where it was set, for the message.
 */
export function unenforcedSecurityKey(
  key: string,
  value: string,
  origin: string,
): UnenforcedSecurityKey | undefined {
  const security = classify(key);
  if (security === undefined || security.enforced === true) return undefined;
  const trimmed = value.trim();
  if (security.harmless?.some((h) => h.toLowerCase() === trimmed.toLowerCase())) return undefined;
  const accepted =
    security.harmless === undefined
      ? "remove the key"
      : `remove the key or set it to ${security.harmless.map((h) => (h === "" ? "an empty value" : h)).join(" or ")}`;
  return {
    key,
    origin,
    message: `Refusing to start: ${key} (${origin}) asks for security that ${WHAT[security.reason]}; ${accepted} (docs/config.md, "Security keys")`,
  };
}

/** True when `key` is one of the security keys above, whatever its value. */
export function isSecurityKey(key: string): boolean {
  return classify(key) !== undefined;
}

/** True when Krill enforces `key` (a module reads it from BrokerConfig's security keys). */
export function isEnforcedSecurityKey(key: string): boolean {
  return classify(key)?.enforced === true;
}
