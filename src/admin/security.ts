/**
 * TLS and SASL for the admin commands: `--command-config FILE` takes the client properties Kafka's
 * tools take (`security.protocol`, `ssl.*`, `sasl.mechanism`, `sasl.jaas.config`), and
 * `clientSecurity` turns them into the connection hook of NodeClient (src/server/network/node-client.ts):
 *
 * - SSL / SASL_SSL: node:tls with the trust store (PEM or PKCS12, read by tls-context.ts as the
 *   broker reads its own; none given: Node's bundled CAs, as the JVM's default trust store), the
 *   key store for mutual TLS, and the host name checked against the certificate unless
 *   `ssl.endpoint.identification.algorithm` is empty (Kafka's default `https` checks it).
 * - SASL_PLAINTEXT / SASL_SSL: SaslHandshake v1 then SaslAuthenticate v1 on the new connection,
 *   before NodeClient's ApiVersions (a broker answers ApiVersions before authentication as well,
 *   so either order works): PLAIN (RFC 4616) and SCRAM-SHA-256/512 (RFC 5802, the server's
 *   signature checked), with the user and password of `sasl.jaas.config`'s PlainLoginModule or
 *   ScramLoginModule.
 *
 * Fails closed: a mechanism, login module or `ssl.*`/`sasl.*` key this client cannot honour stops
 * the command (exit 2) rather than connecting with less security than asked; other keys (producer
 * or consumer settings in a shared file) are reported on stderr and ignored, as Kafka's tools log
 * "supplied but isn't a known config".
 *
 * An authentication or TLS failure is not retried: the command ends with it (exit 1).
 */
import crypto from "node:crypto";
import net from "node:net";
import tls from "node:tls";
import type { KeyStoreSettings, StoreType, TrustStoreSettings } from "../config/tls-settings.js";
import { openSslCipherName } from "../config/tls-settings.js";
import { KrillError } from "../errors.js";
import { type ApiDescriptor, SASL_AUTHENTICATE_API, SASL_HANDSHAKE_API } from "../protocol/generated/apis.js";
import { errorCodeName } from "../protocol/generated/error-codes.js";
import { Reader } from "../protocol/primitives/reader.js";
import { FrameDecoder } from "../server/network/frame-decoder.js";
import { frame, type NodeEndpoint, skipTaggedFields } from "../server/network/node-client.js";
import { loadKeyStore, loadTrustStore } from "../server/network/tls-context.js";
import { saltPassword, scramMechanismByName } from "../server/sasl/scram.js";
import { UsageError } from "./args.js";

export type SecurityProtocol = "PLAINTEXT" | "SSL" | "SASL_PLAINTEXT" | "SASL_SSL";
export type SaslMechanism = "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512";

export interface ClientSecurity {
  readonly protocol: SecurityProtocol;
  readonly tls?: tls.ConnectionOptions;
  readonly sasl?: { readonly mechanism: SaslMechanism; readonly username: string; readonly password: string };
  /** client.id from the file, when given. */
  readonly clientId?: string;
}

/** Keys read (everything else under ssl./sasl. is refused, anything else ignored with a warning). */
const READ_KEYS = new Set([
  "security.protocol",
  "sasl.mechanism",
  "sasl.jaas.config",
  "ssl.truststore.type",
  "ssl.truststore.location",
  "ssl.truststore.password",
  "ssl.truststore.certificates",
  "ssl.keystore.type",
  "ssl.keystore.location",
  "ssl.keystore.password",
  "ssl.keystore.key",
  "ssl.keystore.certificate.chain",
  "ssl.key.password",
  "ssl.endpoint.identification.algorithm",
  "ssl.enabled.protocols",
  "ssl.protocol",
  "ssl.cipher.suites",
  "client.id",
]);

/** `ssl.*`/`sasl.*` keys accepted at these values only (Kafka's defaults: nothing asked that we do not do). */
const HARMLESS: ReadonlyMap<string, readonly string[]> = new Map([
  ["ssl.keymanager.algorithm", ["SunX509", ""]],
  ["ssl.trustmanager.algorithm", ["PKIX", ""]],
  ["ssl.provider", [""]],
  ["ssl.engine.factory.class", [""]],
  ["ssl.secure.random.implementation", [""]],
  ["sasl.login.callback.handler.class", [""]],
  ["sasl.client.callback.handler.class", [""]],
  ["sasl.login.class", [""]],
  ["sasl.kerberos.service.name", [""]],
]);

const PROTOCOLS: readonly SecurityProtocol[] = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"];
const TLS_VERSIONS: readonly tls.SecureVersion[] = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

/** Client security settings from Kafka client properties; UsageError on anything it cannot honour. */
export function clientSecurity(
  props: ReadonlyMap<string, string>,
  file: string,
  warn: (line: string) => void,
): ClientSecurity {
  const where = `--command-config ${file}`;
  const bad = (message: string): never => {
    throw new UsageError(`${where}: ${message}`);
  };
  for (const [key, value] of props) {
    if (READ_KEYS.has(key)) continue;
    const harmless = HARMLESS.get(key);
    if (harmless !== undefined) {
      if (!harmless.includes(value.trim())) bad(`${key}=${value} is not supported by krill's client`);
      continue;
    }
    if (key.startsWith("ssl.") || key.startsWith("sasl.")) {
      bad(`${key} is not supported by krill's client (it would connect with less than the file asks)`);
    }
    warn(`krill: ${where}: the configuration '${key}' was supplied but isn't used by this command`);
  }
  const text = (key: string): string | undefined => {
    const v = props.get(key)?.trim();
    return v === undefined || v === "" ? undefined : v;
  };
  const protocolText = (text("security.protocol") ?? "PLAINTEXT").toUpperCase();
  if (!PROTOCOLS.includes(protocolText as SecurityProtocol)) {
    bad(`security.protocol=${protocolText}: accepted values are ${PROTOCOLS.join(", ")}`);
  }
  const protocol = protocolText as SecurityProtocol;
  const clientId = text("client.id");
  const usesTls = protocol === "SSL" || protocol === "SASL_SSL";
  const usesSasl = protocol === "SASL_PLAINTEXT" || protocol === "SASL_SSL";
  if (!usesTls) {
    for (const key of props.keys()) {
      if (
        key.startsWith("ssl.") &&
        text(key) !== undefined &&
        key !== "ssl.endpoint.identification.algorithm"
      ) {
        bad(`${key} is set but security.protocol=${protocol} does not use TLS`);
      }
    }
  }
  if (!usesSasl && (text("sasl.mechanism") !== undefined || text("sasl.jaas.config") !== undefined)) {
    bad(`sasl.* is set but security.protocol=${protocol} does not use SASL`);
  }
  return {
    protocol,
    ...(clientId !== undefined ? { clientId } : {}),
    ...(usesTls ? { tls: tlsOptions(text, where) } : {}),
    ...(usesSasl ? { sasl: saslSettings(text, bad) } : {}),
  };
}

function storeType(
  text: (key: string) => string | undefined,
  key: string,
  bad: (m: string) => never,
): StoreType {
  const v = (text(key) ?? "JKS").toUpperCase();
  if (v === "PEM" || v === "PKCS12" || v === "JKS") return v;
  return bad(`${key}=${v}: accepted values are PEM, PKCS12 (and JKS files that are PKCS#12 inside)`);
}

function tlsOptions(text: (key: string) => string | undefined, where: string): tls.ConnectionOptions {
  const bad = (message: string): never => {
    throw new UsageError(`${where}: ${message}`);
  };
  const options: tls.ConnectionOptions = {};
  // Store types are checked even when no store is given: a typo must not pass unnoticed.
  storeType(text, "ssl.truststore.type", bad);
  storeType(text, "ssl.keystore.type", bad);
  const tsLocation = text("ssl.truststore.location");
  const tsCerts = text("ssl.truststore.certificates");
  if (tsLocation !== undefined || tsCerts !== undefined) {
    const trust: TrustStoreSettings = {
      type: storeType(text, "ssl.truststore.type", bad),
      ...(tsLocation !== undefined ? { location: tsLocation } : {}),
      ...(text("ssl.truststore.password") !== undefined
        ? { password: text("ssl.truststore.password")! }
        : {}),
      ...(tsCerts !== undefined ? { certificatesPem: tsCerts } : {}),
    };
    if (tsCerts !== undefined && (trust.type !== "PEM" || tsLocation !== undefined)) {
      bad("ssl.truststore.certificates needs ssl.truststore.type=PEM and no ssl.truststore.location");
    }
    options.ca = loadTrustStore(where, trust);
  }
  const ksLocation = text("ssl.keystore.location");
  const keyPem = text("ssl.keystore.key");
  const chainPem = text("ssl.keystore.certificate.chain");
  if (ksLocation !== undefined || keyPem !== undefined || chainPem !== undefined) {
    const ks: KeyStoreSettings = {
      type: storeType(text, "ssl.keystore.type", bad),
      ...(ksLocation !== undefined ? { location: ksLocation } : {}),
      ...(text("ssl.keystore.password") !== undefined ? { password: text("ssl.keystore.password")! } : {}),
      ...(text("ssl.key.password") !== undefined ? { keyPassword: text("ssl.key.password")! } : {}),
      ...(keyPem !== undefined ? { keyPem } : {}),
      ...(chainPem !== undefined ? { certificateChainPem: chainPem } : {}),
    };
    if (
      (keyPem !== undefined || chainPem !== undefined) &&
      (ks.type !== "PEM" || keyPem === undefined || chainPem === undefined)
    ) {
      bad("ssl.keystore.key and ssl.keystore.certificate.chain go together, with ssl.keystore.type=PEM");
    }
    const { key, chain } = loadKeyStore(where, ks);
    options.key = key.export({ format: "pem", type: "pkcs8" }) as string;
    options.cert = chain.join("\n");
  }
  const enabled = (text("ssl.enabled.protocols") ?? "TLSv1.2,TLSv1.3")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const p of enabled) {
    if (!TLS_VERSIONS.includes(p as tls.SecureVersion)) bad(`ssl.enabled.protocols: unknown protocol ${p}`);
  }
  const indexes = enabled.map((p) => TLS_VERSIONS.indexOf(p as tls.SecureVersion));
  options.minVersion = TLS_VERSIONS[Math.min(...indexes)]!;
  options.maxVersion = TLS_VERSIONS[Math.max(...indexes)]!;
  const suites = text("ssl.cipher.suites");
  if (suites !== undefined) {
    const names = suites.split(",").map((s) => s.trim());
    const mapped = names.map(
      (n) => openSslCipherName(n) ?? bad(`ssl.cipher.suites: ${n} is not a suite Node's TLS offers`),
    );
    options.ciphers = mapped.join(":");
  }
  // Kafka's default (https) checks the broker's name against its certificate; empty turns it off.
  const identification = text("ssl.endpoint.identification.algorithm") ?? "https";
  if (identification.toLowerCase() !== "https") {
    bad(`ssl.endpoint.identification.algorithm=${identification}: accepted values are https and empty`);
  }
  // An explicitly empty value (the key present, blank) disables the check.
  return options;
}

function saslSettings(
  text: (key: string) => string | undefined,
  bad: (m: string) => never,
): { mechanism: SaslMechanism; username: string; password: string } {
  const mechanism = (text("sasl.mechanism") ?? "GSSAPI").toUpperCase();
  if (mechanism !== "PLAIN" && mechanism !== "SCRAM-SHA-256" && mechanism !== "SCRAM-SHA-512") {
    bad(
      `sasl.mechanism=${mechanism} is not supported by krill's client (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)`,
    );
  }
  const jaas = text("sasl.jaas.config");
  if (jaas === undefined)
    return bad(`sasl.mechanism=${mechanism} needs sasl.jaas.config with a username and password`);
  const parsed = parseJaasConfig(jaas);
  if (parsed === undefined) return bad('sasl.jaas.config is not `LoginModule required key="value" ...;`');
  const expected = mechanism === "PLAIN" ? "PlainLoginModule" : "ScramLoginModule";
  if (!parsed.loginModule.endsWith(`.${expected}`) && parsed.loginModule !== expected) {
    bad(`sasl.jaas.config: ${parsed.loginModule} is not the ${expected} sasl.mechanism=${mechanism} needs`);
  }
  if (parsed.flag !== "required")
    bad(`sasl.jaas.config: the login module's flag must be required, got ${parsed.flag}`);
  const username = parsed.options.get("username");
  const password = parsed.options.get("password");
  if (username === undefined || password === undefined) bad("sasl.jaas.config needs username and password");
  for (const key of parsed.options.keys()) {
    if (key !== "username" && key !== "password" && key !== "tokenauth") {
      bad(`sasl.jaas.config: option ${key} is not supported by krill's client`);
    }
  }
  if (parsed.options.get("tokenauth") === "true")
    bad("sasl.jaas.config: delegation tokens (tokenauth=true) are not supported by krill's client");
  return { mechanism: mechanism as SaslMechanism, username: username!, password: password! };
}

/** `module.Class required a="x" b=y;` (one login module, as a client's sasl.jaas.config holds). */
export function parseJaasConfig(
  text: string,
): { loginModule: string; flag: string; options: Map<string, string> } | undefined {
  const head = /^\s*([\w.$]+)\s+(required|requisite|sufficient|optional)\b/.exec(text);
  if (head === null) return undefined;
  const options = new Map<string, string>();
  let rest = text.slice(head[0].length);
  const option = /^\s*([\w.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;"]+))/;
  for (;;) {
    const m = option.exec(rest);
    if (m === null) break;
    options.set(m[1]!, m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : m[3]!);
    rest = rest.slice(m[0].length);
  }
  if (!/^\s*;\s*$/.test(rest)) return undefined;
  return { loginModule: head[1]!, flag: head[2]!, options };
}

/** Whether an explicitly empty ssl.endpoint.identification.algorithm turned host name checks off. */
function hostCheckOff(props: ReadonlyMap<string, string>): boolean {
  const v = props.get("ssl.endpoint.identification.algorithm");
  return v !== undefined && v.trim() === "";
}

/**
 * The NodeClient connection hook for `security`, or undefined for PLAINTEXT. `onAuthFailure` is
 * told of a TLS or SASL failure, which the admin client then reports instead of retrying.
 */
export function connector(
  security: ClientSecurity,
  props: ReadonlyMap<string, string>,
  clientId: string,
  onAuthFailure: (err: KrillError) => void,
): ((endpoint: NodeEndpoint) => { socket: net.Socket; ready: Promise<void> }) | undefined {
  if (security.protocol === "PLAINTEXT") return undefined;
  const noHostCheck = hostCheckOff(props);
  return (endpoint) => {
    let socket: net.Socket;
    let connected: Promise<void>;
    if (security.tls !== undefined) {
      const t = tls.connect({
        ...security.tls,
        host: endpoint.host,
        port: endpoint.port,
        ...(net.isIP(endpoint.host) === 0 ? { servername: endpoint.host } : {}),
        ...(noHostCheck ? { checkServerIdentity: () => undefined } : {}),
      });
      socket = t;
      connected = new Promise((resolve, reject) => {
        t.once("secureConnect", () => resolve());
        t.once("error", (err) => {
          const failure = new KrillError(
            "AUTHENTICATION_FAILED",
            `TLS handshake with ${endpoint.host}:${endpoint.port} failed: ${err.message}`,
          );
          // A refused connection is a network failure (retried); a handshake failure is not.
          if (
            !/ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH/.test(
              String((err as NodeJS.ErrnoException).code),
            )
          )
            onAuthFailure(failure);
          reject(failure);
        });
      });
    } else {
      socket = net.connect({ host: endpoint.host, port: endpoint.port });
      connected = new Promise((resolve, reject) => {
        socket.once("connect", () => resolve());
        socket.once("error", reject);
      });
    }
    const sasl = security.sasl;
    const ready =
      sasl === undefined
        ? connected
        : connected.then(() =>
            authenticate(socket, sasl, clientId).catch((err: unknown) => {
              if (err instanceof KrillError && err.code === "AUTHENTICATION_FAILED") onAuthFailure(err);
              throw err;
            }),
          );
    return { socket, ready };
  };
}

/** Sends one request on a raw socket and reads its answer (SASL runs before NodeClient owns the socket). */
function exchange<Req, Res>(
  socket: net.Socket,
  api: ApiDescriptor<Req, Res>,
  version: number,
  correlationId: number,
  clientId: string,
  body: Req,
): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    const decoder = new FrameDecoder(1024 * 1024);
    const onData = (chunk: Buffer) => {
      try {
        decoder.push(chunk);
        const frameBody = decoder.next();
        if (frameBody === undefined) return;
        cleanup();
        const reader = new Reader(frameBody, 4);
        if (api.responseHeaderVersion(version) >= 1) skipTaggedFields(reader);
        resolve(api.decodeResponse(reader, version));
      } catch (err) {
        cleanup();
        reject(err);
      }
    };
    const onClose = () => {
      cleanup();
      reject(new KrillError("NETWORK_EXCEPTION", `the broker closed the connection during ${api.name}`));
    };
    const cleanup = () => {
      socket.off("data", onData);
      socket.off("close", onClose);
    };
    socket.on("data", onData);
    socket.on("close", onClose);
    socket.cork();
    for (const c of frame(api as ApiDescriptor, version, correlationId, clientId, body)) socket.write(c);
    socket.uncork();
  });
}

/** SaslHandshake v1 and SaslAuthenticate v1 rounds; AUTHENTICATION_FAILED with the broker's message. */
async function authenticate(
  socket: net.Socket,
  sasl: NonNullable<ClientSecurity["sasl"]>,
  clientId: string,
): Promise<void> {
  // Correlation ids below NodeClient's (it starts at 0 on its own connection; these come first).
  let correlationId = 0x7ffffff0;
  const hs = await exchange(socket, SASL_HANDSHAKE_API, 1, correlationId++, clientId, {
    mechanism: sasl.mechanism,
  });
  if (hs.errorCode !== 0) {
    throw new KrillError(
      "AUTHENTICATION_FAILED",
      `SASL mechanism ${sasl.mechanism} refused by the broker (${errorCodeName(hs.errorCode)}; it enables ${hs.mechanisms.join(", ") || "none"})`,
    );
  }
  const step = async (token: Buffer): Promise<Buffer> => {
    const res = await exchange(socket, SASL_AUTHENTICATE_API, 1, correlationId++, clientId, {
      authBytes: token,
    });
    if (res.errorCode !== 0) {
      throw new KrillError(
        "AUTHENTICATION_FAILED",
        `SASL ${sasl.mechanism} authentication failed: ${errorCodeName(res.errorCode)}${res.errorMessage ? ` (${res.errorMessage})` : ""}`,
      );
    }
    return res.authBytes;
  };
  if (sasl.mechanism === "PLAIN") {
    await step(Buffer.from(`\u0000${sasl.username}\u0000${sasl.password}`, "utf8"));
    return;
  }
  const scram = new ScramClient(sasl.mechanism, sasl.username, sasl.password);
  const serverFirst = await step(scram.clientFirst());
  const serverFinal = await step(scram.clientFinal(serverFirst));
  scram.verifyServerFinal(serverFinal);
}

/** The client side of SCRAM (RFC 5802) without channel binding, as Kafka's ScramSaslClient. */
export class ScramClient {
  readonly #hash: string;
  readonly #mechanismName: string;
  readonly #user: string;
  readonly #password: string;
  readonly #nonce: string;
  #clientFirstBare = "";
  #serverSignature: Buffer | undefined;

  constructor(mechanism: "SCRAM-SHA-256" | "SCRAM-SHA-512", user: string, password: string, nonce?: string) {
    this.#mechanismName = mechanism;
    this.#hash = mechanism === "SCRAM-SHA-256" ? "sha256" : "sha512";
    this.#user = user;
    this.#password = password;
    this.#nonce = nonce ?? crypto.randomBytes(24).toString("base64url");
  }

  clientFirst(): Buffer {
    const name = this.#user.replace(/=/g, "=3D").replace(/,/g, "=2C");
    this.#clientFirstBare = `n=${name},r=${this.#nonce}`;
    return Buffer.from(`n,,${this.#clientFirstBare}`, "utf8");
  }

  clientFinal(serverFirstBytes: Buffer): Buffer {
    const serverFirst = serverFirstBytes.toString("utf8");
    const attrs = new Map(serverFirst.split(",").map((p) => [p.slice(0, 1), p.slice(2)] as const));
    const nonce = attrs.get("r");
    const salt = attrs.get("s");
    const iterations = Number(attrs.get("i"));
    if (nonce === undefined || salt === undefined || !Number.isInteger(iterations) || iterations < 1) {
      throw new KrillError(
        "AUTHENTICATION_FAILED",
        `SCRAM: the broker's first message is malformed: ${serverFirst}`,
      );
    }
    if (!nonce.startsWith(this.#nonce) || nonce.length === this.#nonce.length) {
      throw new KrillError("AUTHENTICATION_FAILED", "SCRAM: the broker's nonce does not extend the client's");
    }
    const mechanism = scramMechanismByName(this.#mechanismName)!;
    const salted = saltPassword(mechanism, this.#password, Buffer.from(salt, "base64"), iterations);
    const hmac = (key: Buffer, data: string) => crypto.createHmac(this.#hash, key).update(data).digest();
    const clientKey = hmac(salted, "Client Key");
    const storedKey = crypto.createHash(this.#hash).update(clientKey).digest();
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.#clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ signature[i]!;
    this.#serverSignature = hmac(hmac(salted, "Server Key"), authMessage);
    return Buffer.from(`${withoutProof},p=${proof.toString("base64")}`, "utf8");
  }

  verifyServerFinal(serverFinalBytes: Buffer): void {
    const text = serverFinalBytes.toString("utf8");
    if (text.startsWith("e="))
      throw new KrillError("AUTHENTICATION_FAILED", `SCRAM: the broker says ${text.slice(2)}`);
    const v = text.startsWith("v=") ? Buffer.from(text.slice(2).split(",")[0]!, "base64") : undefined;
    if (
      v === undefined ||
      this.#serverSignature === undefined ||
      v.length !== this.#serverSignature.length ||
      !crypto.timingSafeEqual(v, this.#serverSignature)
    ) {
      throw new KrillError(
        "AUTHENTICATION_FAILED",
        "SCRAM: the broker's signature does not verify (not the server that holds the credential)",
      );
    }
  }
}
