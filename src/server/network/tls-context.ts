/**
 * Builds a listener's server TLS context from its validated settings (config/tls-settings.ts):
 * reads the key store and trust store (PEM files or strings, PKCS#12 files through pkcs12.ts),
 * checks that the key matches the certificate, and wraps accepted sockets.
 *
 * Any problem (missing file, wrong password, JKS file, key not matching the certificate) throws
 * CONFIG_INVALID naming the listener and the key, so start-up stops with one clear line.
 *
 * Client authentication (`ssl.client.auth`): `required` asks for a certificate and refuses the
 * handshake without a valid one; `requested` asks, accepts a client without one, and refuses one
 * whose certificate does not verify (as Java's SSLEngine with wantClientAuth does); `none` does
 * not ask. Only the trust store's certificates are trusted: never the system's, never the key
 * store's chain.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import tls from "node:tls";
import type { KeyStoreSettings, ListenerTlsSettings, TrustStoreSettings } from "../../config/tls-settings.js";
import { KrillError } from "../../errors.js";
import { isJavaKeyStore, Pkcs12Error, readPkcs12 } from "./pkcs12.js";

export interface ServerTls {
  readonly settings: ListenerTlsSettings;
  /**
   * A tls.Server that never listens: the listener's TCP server hands it accepted sockets
   * (`emit("connection", socket)`), so node:tls runs the handshake and the client certificate
   * checks (which it does only for sockets of a tls.Server), then calls `onSecure` with the
   * verified socket. Handshake failures are reported to `onFailure`.
   */
  createServer(options: {
    handshakeTimeoutMs: number;
    onSecure: (socket: tls.TLSSocket) => void;
    onFailure: (err: Error, socket: tls.TLSSocket) => void;
  }): tls.Server;
}

/** `where`: what the message names first (`listener NAME`, or the admin client's `--command-config FILE`). */
function fail(where: string, message: string, cause?: unknown): never {
  throw new KrillError("CONFIG_INVALID", `${where}: ${message}`, cause === undefined ? undefined : { cause });
}

function readFile(listener: string, key: string, path: string): Buffer {
  try {
    return fs.readFileSync(path);
  } catch (err) {
    return fail(listener, `cannot read ${key} ${path}: ${(err as Error).message}`, err);
  }
}

function derToPem(der: Buffer): string {
  const b64 = der.toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith("\n") ? "" : "\n"}-----END CERTIFICATE-----\n`;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const PEM_KEY = /-----BEGIN (ENCRYPTED |RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END \1?PRIVATE KEY-----/;

function pemCertificates(listener: string, what: string, text: string): string[] {
  const certs = text.match(PEM_CERT) ?? [];
  if (certs.length === 0) fail(listener, `${what} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  for (const c of certs) {
    try {
      new crypto.X509Certificate(c);
    } catch (err) {
      fail(listener, `${what} holds a certificate that cannot be parsed: ${(err as Error).message}`, err);
    }
  }
  return certs;
}

function pkcs12(
  listener: string,
  key: string,
  file: Buffer,
  password: string | undefined,
  keyPassword?: string,
) {
  if (isJavaKeyStore(file)) {
    fail(
      listener,
      `${key} is a JKS (Java KeyStore) file, which Krill cannot read: convert it with \`keytool -importkeystore -srckeystore FILE -destkeystore FILE.p12 -deststoretype PKCS12\` and set the store type to PKCS12, or use PEM`,
    );
  }
  try {
    return readPkcs12(file, password ?? "", keyPassword ?? password ?? "");
  } catch (err) {
    const reason = err instanceof Pkcs12Error ? err.message : `it cannot be read (${(err as Error).message})`;
    return fail(listener, `cannot read ${key} as PKCS12: ${reason}`, err);
  }
}

export interface KeyMaterial {
  key: crypto.KeyObject;
  /** Leaf first. */
  chain: string[];
}

/** Reads a key store (PEM or PKCS12); throws CONFIG_INVALID starting with `listener`. */
export function loadKeyStore(listener: string, ks: KeyStoreSettings): KeyMaterial {
  if (ks.type === "PEM") {
    let text: string;
    let what: string;
    if (ks.location !== undefined) {
      text = readFile(listener, "ssl.keystore.location", ks.location).toString("utf8");
      what = `ssl.keystore.location ${ks.location}`;
    } else {
      text = `${ks.keyPem}\n${ks.certificateChainPem}`;
      what = "ssl.keystore.key/ssl.keystore.certificate.chain";
    }
    const keyText = PEM_KEY.exec(text)?.[0];
    if (keyText === undefined) fail(listener, `${what} holds no PEM private key`);
    const encrypted = keyText.includes("ENCRYPTED");
    if (encrypted && (ks.keyPassword === undefined || ks.keyPassword === "")) {
      fail(listener, `${what} holds an encrypted private key and ssl.key.password is not set`);
    }
    let key: crypto.KeyObject;
    try {
      key = crypto.createPrivateKey(
        encrypted
          ? { key: keyText, format: "pem", passphrase: ks.keyPassword }
          : { key: keyText, format: "pem" },
      );
    } catch (err) {
      return fail(listener, `cannot read the private key in ${what}: ${(err as Error).message}`, err);
    }
    const chainText = ks.location !== undefined ? text : (ks.certificateChainPem ?? "");
    return { key, chain: pemCertificates(listener, what, chainText) };
  }
  const file = readFile(listener, "ssl.keystore.location", ks.location!);
  const contents = pkcs12(listener, "ssl.keystore.location", file, ks.password, ks.keyPassword);
  if (contents.keys.length !== 1) {
    fail(
      listener,
      `ssl.keystore.location ${ks.location} holds ${contents.keys.length} private keys; Krill needs exactly one`,
    );
  }
  const entry = contents.keys[0]!;
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey({ key: entry.der, format: "der", type: "pkcs8" });
  } catch (err) {
    return fail(listener, `cannot read the private key in ${ks.location}: ${(err as Error).message}`, err);
  }
  const leafIndex = contents.certs.findIndex(
    (c) => entry.localKeyId !== undefined && c.localKeyId?.equals(entry.localKeyId) === true,
  );
  const ordered =
    leafIndex < 0
      ? contents.certs
      : [contents.certs[leafIndex]!, ...contents.certs.filter((_, i) => i !== leafIndex)];
  if (ordered.length === 0) fail(listener, `ssl.keystore.location ${ks.location} holds no certificate`);
  return { key, chain: ordered.map((c) => derToPem(c.der)) };
}

/** Reads a trust store's certificates as PEM; throws CONFIG_INVALID starting with `listener`. */
export function loadTrustStore(listener: string, ts: TrustStoreSettings): string[] {
  if (ts.type === "PEM") {
    if (ts.location === undefined)
      return pemCertificates(listener, "ssl.truststore.certificates", ts.certificatesPem ?? "");
    const text = readFile(listener, "ssl.truststore.location", ts.location).toString("utf8");
    return pemCertificates(listener, `ssl.truststore.location ${ts.location}`, text);
  }
  const file = readFile(listener, "ssl.truststore.location", ts.location!);
  const contents = pkcs12(listener, "ssl.truststore.location", file, ts.password);
  if (contents.certs.length === 0)
    fail(listener, `ssl.truststore.location ${ts.location} holds no certificate`);
  return contents.certs.map((c) => derToPem(c.der));
}

/** Reads the stores and builds the listener's TLS context; throws CONFIG_INVALID on any problem. */
export function createServerTls(settings: ListenerTlsSettings): ServerTls {
  const listener = `listener ${settings.listenerName}`;
  const { key, chain } = loadKeyStore(listener, settings.keyStore);
  const leaf = new crypto.X509Certificate(chain[0]!);
  if (!leaf.checkPrivateKey(key)) {
    fail(listener, "the key store's private key does not match its first certificate");
  }
  const ca = settings.trustStore === undefined ? undefined : loadTrustStore(listener, settings.trustStore);
  const secureOptions: tls.SecureContextOptions = {
    key: key.export({ format: "pem", type: "pkcs8" }) as string,
    cert: chain.join("\n"),
    // An explicit list replaces Node's bundled CAs: only the trust store is trusted.
    ca: ca ?? [],
    minVersion: settings.minVersion,
    maxVersion: settings.maxVersion,
    ...(settings.ciphers === undefined ? {} : { ciphers: settings.ciphers }),
  };
  try {
    tls.createSecureContext(secureOptions);
  } catch (err) {
    return fail(listener, `cannot build the TLS context: ${(err as Error).message}`, err);
  }
  const requestCert = settings.clientAuth !== "none";
  const rejectUnauthorized = settings.clientAuth === "required";
  return {
    settings,
    createServer({ handshakeTimeoutMs, onSecure, onFailure }) {
      const server = tls.createServer({
        ...secureOptions,
        requestCert,
        rejectUnauthorized,
        handshakeTimeout: handshakeTimeoutMs,
      });
      server.on("secureConnection", (socket: tls.TLSSocket) => {
        // `requested`: a client without a certificate is fine, one whose certificate does not
        // verify is refused, as Java's SSLEngine with wantClientAuth does.
        if (requestCert && !rejectUnauthorized && !socket.authorized) {
          const peer = socket.getPeerCertificate();
          if (peer !== null && Object.keys(peer).length > 0) {
            onFailure(new Error(`client certificate rejected: ${String(socket.authorizationError)}`), socket);
            socket.destroy();
            return;
          }
        }
        onSecure(socket);
      });
      server.on("tlsClientError", (err, socket) => {
        onFailure(err, socket);
        socket.destroy();
      });
      return server;
    },
  };
}

/**
 * The principal of a TLS connection whose client sent a certificate that verified: `User:` and
 * the subject's distinguished name as Java's X500Principal.getName() writes it (RFC 2253: the
 * most specific attribute first, comma-separated, special characters escaped), which is Kafka's
 * DefaultKafkaPrincipalBuilder with the default `ssl.principal.mapping.rules`. Undefined when the
 * client sent none (Kafka's ANONYMOUS).
 */
export function certificatePrincipal(socket: tls.TLSSocket): string | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerX509Certificate();
  if (cert === undefined) return undefined;
  return `User:${rfc2253(cert.subject)}`;
}

/**
 * Node's subject (one `KEY=value` line per RDN in certificate order, multi-valued RDNs joined by
 * ` + `, specials escaped with a backslash) as RFC 2253.
 */
export function rfc2253(subject: string): string {
  const attribute = (text: string) => {
    const eq = text.indexOf("=");
    const value = text.slice(eq + 1).replace(/\\(.)/g, "$1");
    const escaped = value
      .replace(/[,+"\\<>;]/g, (c) => `\\${c}`)
      .replace(/^[ #]/, (c) => `\\${c}`)
      .replace(/ $/, "\\ ");
    return `${text.slice(0, eq)}=${escaped}`;
  };
  return subject
    .split("\n")
    .filter((line) => line !== "")
    .reverse()
    .map((line) => line.split(" + ").map(attribute).join("+"))
    .join(",");
}
