/**
 * TLS settings of a listener, from Kafka's `ssl.*` keys. A listener's own value
 * (`listener.name.<listener>.ssl.<key>`, listener name in lower case as Kafka writes it) wins over
 * the broker-wide `ssl.<key>`, key by key, as in Kafka's `valuesWithPrefixOverride`.
 *
 * This module validates the values (start-up stops on a bad one, naming it); reading the key and
 * trust stores is tls-context.ts's work, done when the listener is bound.
 *
 * Keys Krill reads (ENFORCED_TLS_KEYS) leave the fail-closed list of security-keys.ts; the other
 * `ssl.*` keys stay refused unless they hold Kafka's default, which asks for nothing Krill does not
 * do (`ssl.keymanager.algorithm=SunX509` names the JVM's key manager, `ssl.principal.mapping.rules`
 * DEFAULT the principal Krill builds).
 */
import tls from "node:tls";
import { KrillError } from "../errors.js";

/** `ssl.*` keys Krill enforces on SSL listeners (also accepted with a listener prefix). */
export const ENFORCED_TLS_KEYS: ReadonlySet<string> = new Set([
  "ssl.keystore.type",
  "ssl.keystore.location",
  "ssl.keystore.password",
  "ssl.key.password",
  "ssl.keystore.key",
  "ssl.keystore.certificate.chain",
  "ssl.truststore.type",
  "ssl.truststore.location",
  "ssl.truststore.password",
  "ssl.truststore.certificates",
  "ssl.client.auth",
  "ssl.enabled.protocols",
  "ssl.cipher.suites",
  "ssl.protocol",
  // Server side it configures nothing: Kafka applies it only where the broker is a TLS client
  // (to other brokers), and Krill opens no TLS client connection.
  "ssl.endpoint.identification.algorithm",
]);

/** `ssl.*` keys accepted only with these values (Kafka's defaults, or what Krill does anyway). */
export const HARMLESS_TLS_VALUES: ReadonlyMap<string, readonly string[]> = new Map([
  ["ssl.keymanager.algorithm", ["SunX509", ""]],
  ["ssl.trustmanager.algorithm", ["PKIX", ""]],
  ["ssl.principal.mapping.rules", ["DEFAULT", ""]],
  ["ssl.provider", [""]],
  ["ssl.engine.factory.class", [""]],
  ["ssl.secure.random.implementation", [""]],
  ["ssl.allow.dn.changes", ["false"]],
  ["ssl.allow.san.changes", ["false"]],
]);

export type StoreType = "PEM" | "PKCS12" | "JKS";
export type ClientAuth = "none" | "requested" | "required";

export interface KeyStoreSettings {
  readonly type: StoreType;
  readonly location?: string;
  readonly password?: string;
  readonly keyPassword?: string;
  /** PEM strings given inline (type PEM only). */
  readonly keyPem?: string;
  readonly certificateChainPem?: string;
}

export interface TrustStoreSettings {
  readonly type: StoreType;
  readonly location?: string;
  readonly password?: string;
  readonly certificatesPem?: string;
}

export interface ListenerTlsSettings {
  readonly listenerName: string;
  readonly keyStore: KeyStoreSettings;
  readonly trustStore?: TrustStoreSettings;
  readonly clientAuth: ClientAuth;
  readonly minVersion: tls.SecureVersion;
  readonly maxVersion: tls.SecureVersion;
  /** OpenSSL cipher string (TLS 1.2 and TLS 1.3 names), undefined = Node's defaults. */
  readonly ciphers?: string;
}

const PROTOCOL_ORDER: readonly tls.SecureVersion[] = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

/** A Java (IANA) TLS 1.2 suite name as OpenSSL spells it; TLS 1.3 names are the same in both. */
export function openSslCipherName(javaName: string): string | undefined {
  if (
    /^TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256|AES_128_CCM_SHA256|AES_128_CCM_8_SHA256)$/.test(
      javaName,
    )
  ) {
    return javaName;
  }
  const m =
    /^TLS_(ECDHE_ECDSA|ECDHE_RSA|DHE_RSA|RSA)_WITH_(AES_128|AES_256|CHACHA20_POLY1305)_(?:(GCM|CBC)_)?(SHA|SHA256|SHA384)$/.exec(
      javaName,
    );
  if (m === null) return undefined;
  const [, kx, cipher, mode, mac] = m;
  const prefix = { ECDHE_ECDSA: "ECDHE-ECDSA-", ECDHE_RSA: "ECDHE-RSA-", DHE_RSA: "DHE-RSA-", RSA: "" }[kx!]!;
  let name: string;
  if (cipher === "CHACHA20_POLY1305") name = `${prefix}CHACHA20-POLY1305`;
  else {
    const aes = cipher === "AES_128" ? "AES128" : "AES256";
    name = mode === "GCM" ? `${prefix}${aes}-GCM-${mac}` : `${prefix}${aes}-${mac}`;
  }
  const known = new Set(tls.getCiphers());
  return known.has(name.toLowerCase()) ? name : undefined;
}

function invalid(key: string, value: string, accepted: string): never {
  throw new KrillError(
    "CONFIG_INVALID",
    `Invalid value "${value}" for ${key}: accepted values are ${accepted}`,
  );
}

/** Reads one setting for a listener: `listener.name.<l>.<key>` first, then `<key>`. */
export function listenerSetting(
  raw: ReadonlyMap<string, string>,
  listenerName: string,
  key: string,
): { key: string; value: string } | undefined {
  const prefixed = `listener.name.${listenerName.toLowerCase()}.${key}`;
  const own = raw.get(prefixed);
  if (own !== undefined) return { key: prefixed, value: own };
  const global = raw.get(key);
  return global === undefined ? undefined : { key, value: global };
}

function storeType(key: string, value: string | undefined): StoreType {
  // Kafka's default store type is JKS; a JKS-typed file that is really PKCS#12 is read as the
  // JVM reads it (keystore.type.compat), a real JKS file is refused when it is read.
  const v = (value ?? "JKS").trim().toUpperCase();
  if (v === "PEM" || v === "PKCS12" || v === "JKS") return v;
  return invalid(key, value ?? "", "PEM, PKCS12 (and JKS files that are PKCS#12 inside)");
}

function list(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** Validates the TLS settings of an SSL or SASL_SSL listener; throws CONFIG_INVALID naming the key. */
export function listenerTlsSettings(
  raw: ReadonlyMap<string, string>,
  listenerName: string,
): ListenerTlsSettings {
  const get = (key: string) => listenerSetting(raw, listenerName, key);
  const text = (key: string) => {
    const v = get(key)?.value.trim();
    return v === undefined || v === "" ? undefined : v;
  };

  const ksTypeEntry = get("ssl.keystore.type");
  const keyPem = text("ssl.keystore.key");
  const chainPem = text("ssl.keystore.certificate.chain");
  const ksLocation = text("ssl.keystore.location");
  const ksType = storeType(ksTypeEntry?.key ?? "ssl.keystore.type", ksTypeEntry?.value);
  if (keyPem !== undefined || chainPem !== undefined) {
    if (ksType !== "PEM") {
      throw new KrillError(
        "CONFIG_INVALID",
        `listener ${listenerName}: ssl.keystore.key and ssl.keystore.certificate.chain need ssl.keystore.type=PEM`,
      );
    }
    if (keyPem === undefined || chainPem === undefined || ksLocation !== undefined) {
      throw new KrillError(
        "CONFIG_INVALID",
        `listener ${listenerName}: set both ssl.keystore.key and ssl.keystore.certificate.chain, and not ssl.keystore.location`,
      );
    }
  } else if (ksLocation === undefined) {
    throw new KrillError(
      "CONFIG_INVALID",
      `listener ${listenerName} uses TLS and has no key store: set ssl.keystore.location (PKCS12 or PEM) or ssl.keystore.key and ssl.keystore.certificate.chain (PEM), optionally prefixed listener.name.${listenerName.toLowerCase()}.`,
    );
  }
  const keyStore: KeyStoreSettings = {
    type: ksType,
    location: ksLocation,
    password: get("ssl.keystore.password")?.value,
    keyPassword: get("ssl.key.password")?.value,
    keyPem,
    certificateChainPem: chainPem,
  };

  const tsTypeEntry = get("ssl.truststore.type");
  const tsLocation = text("ssl.truststore.location");
  const tsCerts = text("ssl.truststore.certificates");
  const tsType = storeType(tsTypeEntry?.key ?? "ssl.truststore.type", tsTypeEntry?.value);
  if (tsCerts !== undefined && (tsType !== "PEM" || tsLocation !== undefined)) {
    throw new KrillError(
      "CONFIG_INVALID",
      `listener ${listenerName}: ssl.truststore.certificates needs ssl.truststore.type=PEM and no ssl.truststore.location`,
    );
  }
  const trustStore: TrustStoreSettings | undefined =
    tsLocation === undefined && tsCerts === undefined
      ? undefined
      : {
          type: tsType,
          location: tsLocation,
          password: get("ssl.truststore.password")?.value,
          certificatesPem: tsCerts,
        };

  const authEntry = get("ssl.client.auth");
  const clientAuth = (authEntry?.value.trim().toLowerCase() ?? "none") as ClientAuth;
  if (!["none", "requested", "required"].includes(clientAuth)) {
    invalid(authEntry!.key, authEntry!.value, "none, requested, required");
  }
  if (clientAuth !== "none" && trustStore === undefined) {
    throw new KrillError(
      "CONFIG_INVALID",
      `listener ${listenerName}: ssl.client.auth=${clientAuth} needs a trust store (ssl.truststore.location or ssl.truststore.certificates) to verify client certificates against`,
    );
  }

  const protocolsEntry = get("ssl.enabled.protocols");
  const protocols = list(protocolsEntry?.value ?? "TLSv1.2,TLSv1.3");
  const indexes = protocols.map((p) => PROTOCOL_ORDER.indexOf(p as tls.SecureVersion)).sort((a, b) => a - b);
  if (
    indexes.length === 0 ||
    indexes.some((i) => i < 0) ||
    indexes.some((i, k) => k > 0 && i !== indexes[k - 1]! + 1)
  ) {
    invalid(
      protocolsEntry?.key ?? "ssl.enabled.protocols",
      protocolsEntry?.value ?? "",
      "a contiguous range of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3 (Node.js enables a minimum and a maximum version)",
    );
  }
  const protocolEntry = get("ssl.protocol");
  if (protocolEntry !== undefined && !["TLS", "TLSv1.2", "TLSv1.3"].includes(protocolEntry.value.trim())) {
    invalid(protocolEntry.key, protocolEntry.value, "TLS, TLSv1.2, TLSv1.3");
  }

  const suitesEntry = get("ssl.cipher.suites");
  let ciphers: string | undefined;
  const suites = list(suitesEntry?.value ?? "");
  if (suites.length > 0) {
    const names = suites.map((s) => {
      const n = openSslCipherName(s);
      if (n === undefined) {
        invalid(
          suitesEntry!.key,
          s,
          "IANA cipher suite names Node.js's OpenSSL supports, e.g. TLS_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        );
      }
      return n;
    });
    ciphers = names.join(":");
  }
  const endpointEntry = get("ssl.endpoint.identification.algorithm");
  if (endpointEntry !== undefined && !["", "https"].includes(endpointEntry.value.trim().toLowerCase())) {
    invalid(endpointEntry.key, endpointEntry.value, "https or an empty value");
  }
  return {
    listenerName,
    keyStore,
    trustStore,
    clientAuth,
    minVersion: PROTOCOL_ORDER[indexes[0]!]!,
    maxVersion: PROTOCOL_ORDER[indexes[indexes.length - 1]!]!,
    ciphers,
  };
}
