/**
 * SASL settings of a SASL_PLAINTEXT or SASL_SSL listener, from Kafka's keys:
 * `sasl.enabled.mechanisms` (per listener: `listener.name.<l>.sasl.enabled.mechanisms`), the
 * per-mechanism JAAS configs `listener.name.<l>.<mechanism>.sasl.jaas.config` (PLAIN's users are
 * its `user_<name>="<password>"` options, as Kafka's PlainLoginModule reads them) and
 * `sasl.server.max.receive.size`. SCRAM credentials live in the metadata log
 * (UserScramCredentialRecord), managed with kafka-configs / AlterUserScramCredentials.
 *
 * Kafka's default mechanism is GSSAPI (Kerberos), which Krill does not implement: a SASL listener
 * without `sasl.enabled.mechanisms`, or one naming GSSAPI or OAUTHBEARER, stops start-up.
 * Kafka reads a server's JAAS config only with a mechanism prefix (it ignores a bare
 * `sasl.jaas.config` on brokers, with a warning); Krill refuses the bare key at start-up instead
 * (security-keys.ts), since a broker whose operator thinks it is configured and is not is what
 * fail-closed avoids.
 */
import { KrillError } from "../errors.js";
import { listenerSetting } from "./tls-settings.js";

export const SUPPORTED_SASL_MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const;

/** `sasl.*` keys Krill reads (also under `listener.name.<l>.`). */
export const ENFORCED_SASL_KEYS: ReadonlySet<string> = new Set([
  "sasl.enabled.mechanisms",
  "connections.max.reauth.ms",
  "sasl.server.max.receive.size",
  // Only used for SASL between brokers and controllers; Krill's inter-broker and controller
  // protocols are PLAINTEXT (anything else is refused), so these configure nothing.
  "sasl.mechanism.inter.broker.protocol",
  "sasl.mechanism.controller.protocol",
]);

/** `<mechanism>.connections.max.reauth.ms` under a listener prefix (KIP-368, per mechanism). */
export const LISTENER_REAUTH_KEY = /^(plain|scram-sha-256|scram-sha-512)\.connections\.max\.reauth\.ms$/;

/** `<mechanism>.sasl.jaas.config` under a listener prefix, for the mechanisms Krill serves. */
export const LISTENER_JAAS_KEY = /^(plain|scram-sha-256|scram-sha-512)\.sasl\.jaas\.config$/;

export interface SaslListenerSettings {
  readonly listenerName: string;
  readonly enabledMechanisms: readonly string[];
  /** PLAIN users and passwords (empty unless PLAIN is enabled). */
  readonly plainUsers: ReadonlyMap<string, string>;
  /** Largest frame accepted before authentication. */
  readonly maxReceiveBytes: number;
  /**
   * `connections.max.reauth.ms` per enabled mechanism (KIP-368; 0: no re-authentication), read
   * as Kafka reads it: `listener.name.<l>.<mechanism>.connections.max.reauth.ms`, else
   * `listener.name.<l>.connections.max.reauth.ms`, else `connections.max.reauth.ms`.
   */
  readonly reauthMsByMechanism: ReadonlyMap<string, number>;
}

export interface JaasEntry {
  readonly loginModule: string;
  readonly flag: string;
  readonly options: ReadonlyMap<string, string>;
}

/**
 * Parses a one-module JAAS config as Kafka's JaasConfig does:
 * `<LoginModule class> <flag> [key=value ...];` with values quoted ("..." with \ escapes) or bare.
 */
export function parseJaasConfig(key: string, text: string): JaasEntry {
  const tokens: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|([^\s=;"]+)|(=)|(;))/gy;
  let pos = 0;
  const quoted = new Set<number>();
  while (pos < text.length) {
    const m = re.exec(text);
    if (m === null) break;
    pos = re.lastIndex;
    if (m[1] !== undefined) {
      quoted.add(tokens.length);
      tokens.push(m[1].replace(/\\(.)/g, "$1"));
    } else tokens.push(m[2] ?? m[3] ?? m[4]!);
  }
  if (text.slice(pos).trim() !== "") {
    throw new KrillError(
      "CONFIG_INVALID",
      `Invalid JAAS config in ${key}: cannot parse "${text.slice(pos).trim().slice(0, 40)}"`,
    );
  }
  const bad = (why: string): never => {
    throw new KrillError(
      "CONFIG_INVALID",
      `Invalid JAAS config in ${key}: ${why}; expected '<LoginModule> required key="value" ...;' with one login module`,
    );
  };
  if (tokens.length < 3 || tokens[tokens.length - 1] !== ";") bad("it must end with ';'");
  const [loginModule, flag] = tokens as [string, string];
  if (!["required", "requisite", "sufficient", "optional"].includes(flag.toLowerCase()))
    bad(`unknown flag ${flag}`);
  const options = new Map<string, string>();
  let i = 2;
  while (i < tokens.length - 1) {
    const k = tokens[i]!;
    if (tokens[i + 1] !== "=" || i + 2 >= tokens.length - 1 || quoted.has(i)) bad(`option ${k} has no value`);
    options.set(k, tokens[i + 2]!);
    i += 3;
  }
  if (tokens.indexOf(";") !== tokens.length - 1) bad("it holds more than one login module");
  return { loginModule, flag, options };
}

const PLAIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule";
const SCRAM_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule";

/** Validates the SASL settings of a listener; throws CONFIG_INVALID naming the key. */
export function listenerSaslSettings(
  raw: ReadonlyMap<string, string>,
  listenerName: string,
): SaslListenerSettings {
  const prefix = `listener.name.${listenerName.toLowerCase()}.`;
  const mechanismsEntry = listenerSetting(raw, listenerName, "sasl.enabled.mechanisms");
  const mechanisms = (mechanismsEntry?.value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (mechanisms.length === 0) {
    throw new KrillError(
      "CONFIG_INVALID",
      `Refusing to start: listener ${listenerName} uses SASL and sasl.enabled.mechanisms is not set; Kafka's default is GSSAPI (Kerberos), which Krill does not support: set it to some of ${SUPPORTED_SASL_MECHANISMS.join(", ")}`,
    );
  }
  for (const mech of mechanisms) {
    if (!(SUPPORTED_SASL_MECHANISMS as readonly string[]).includes(mech)) {
      throw new KrillError(
        "CONFIG_INVALID",
        `Refusing to start: ${mechanismsEntry!.key} names ${mech}, which Krill does not support; accepted values: ${SUPPORTED_SASL_MECHANISMS.join(", ")}`,
      );
    }
  }
  let plainUsers: ReadonlyMap<string, string> = new Map();
  for (const mech of mechanisms) {
    const key = `${prefix}${mech.toLowerCase()}.sasl.jaas.config`;
    const text = raw.get(key);
    if (mech === "PLAIN") {
      if (text === undefined) {
        throw new KrillError(
          "CONFIG_INVALID",
          `Refusing to start: listener ${listenerName} enables PLAIN and ${key} is not set: set it to ${PLAIN_MODULE} required user_<name>="<password>" ...; (Krill does not read JAAS files)`,
        );
      }
      const entry = parseJaasConfig(key, text);
      if (entry.loginModule !== PLAIN_MODULE) {
        throw new KrillError(
          "CONFIG_INVALID",
          `Refusing to start: ${key} uses ${entry.loginModule}; PLAIN needs ${PLAIN_MODULE}`,
        );
      }
      const users = new Map<string, string>();
      for (const [k, v] of entry.options) if (k.startsWith("user_") && k.length > 5) users.set(k.slice(5), v);
      plainUsers = users;
    } else if (text !== undefined) {
      const entry = parseJaasConfig(key, text);
      if (entry.loginModule !== SCRAM_MODULE) {
        throw new KrillError(
          "CONFIG_INVALID",
          `Refusing to start: ${key} uses ${entry.loginModule}; ${mech} needs ${SCRAM_MODULE}`,
        );
      }
    }
  }
  const maxEntry = listenerSetting(raw, listenerName, "sasl.server.max.receive.size");
  const maxReceiveBytes = maxEntry === undefined ? 524_288 : Number(maxEntry.value.trim());
  if (!Number.isInteger(maxReceiveBytes) || maxReceiveBytes < 1 || maxReceiveBytes > 2_147_483_647) {
    throw new KrillError(
      "CONFIG_INVALID",
      `Invalid value "${maxEntry!.value}" for ${maxEntry!.key}: accepted values are [1,...,2147483647]`,
    );
  }
  const reauthMsByMechanism = new Map<string, number>();
  for (const mech of mechanisms) {
    const own = `${prefix}${mech.toLowerCase()}.connections.max.reauth.ms`;
    const entry =
      raw.get(own) !== undefined
        ? { key: own, value: raw.get(own)! }
        : listenerSetting(raw, listenerName, "connections.max.reauth.ms");
    const ms = entry === undefined ? 0 : Number(entry.value.trim());
    if (!Number.isSafeInteger(ms) || ms < 0) {
      throw new KrillError(
        "CONFIG_INVALID",
        `Invalid value "${entry!.value}" for ${entry!.key}: accepted values are 0 (no re-authentication) or a number of milliseconds`,
      );
    }
    reauthMsByMechanism.set(mech, ms);
  }
  return { listenerName, enabledMechanisms: mechanisms, plainUsers, maxReceiveBytes, reauthMsByMechanism };
}
