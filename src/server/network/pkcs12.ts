/**
 * Reads PKCS#12 key stores and trust stores (RFC 7292), the format Kafka's `ssl.keystore.type`
 * and `ssl.truststore.type` call PKCS12, as keytool and `openssl pkcs12 -export` write them.
 *
 * Node's TLS can load a PKCS#12 file only when it holds a private key (`pfx`), and then also
 * trusts the chain certificates in it; a trust store (certificates only) it cannot load at all.
 * So Krill reads the file itself: it checks the integrity MAC with the password (a wrong
 * password is reported as such, not as a corrupt file), decrypts the encrypted safe contents and
 * shrouded key bags, and returns the private keys and certificates, which the caller hands to
 * node:tls as PEM.
 *
 * Supported protections: PBES2 (PBKDF2 with HMAC-SHA-1/224/256/384/512, AES-128/192/256-CBC or
 * 3DES-CBC), which keytool (JDK 8u301+) and OpenSSL 3 write, and the older
 * pbeWithSHAAnd3-KeyTripleDES-CBC. RC2 (OpenSSL 1.x's default for certificates) is refused with a
 * message saying how to re-export the file. Only definite-length DER/BER is read.
 *
 * Every length is checked against the input, so a malformed file gives an error, never a crash
 * or an unbounded allocation.
 */
import crypto from "node:crypto";

export class Pkcs12Error extends Error {}

interface Der {
  readonly tag: number;
  /** The content octets. */
  readonly content: Buffer;
  /** Children, for constructed values. */
  readonly children: readonly Der[];
}

const MAX_DEPTH = 32;

function parseDer(buf: Buffer, depth = 0): Der[] {
  if (depth > MAX_DEPTH) throw new Pkcs12Error("nested too deeply");
  const out: Der[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const tag = buf[pos++]!;
    if ((tag & 0x1f) === 0x1f) throw new Pkcs12Error("multi-byte ASN.1 tags are not supported");
    if (pos >= buf.length) throw new Pkcs12Error("truncated ASN.1 value");
    let len = buf[pos++]!;
    if (len === 0x80) throw new Pkcs12Error("indefinite-length encoding is not supported");
    if (len > 0x80) {
      const n = len & 0x7f;
      if (n > 4 || pos + n > buf.length) throw new Pkcs12Error("bad ASN.1 length");
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[pos++]!;
    }
    if (pos + len > buf.length) throw new Pkcs12Error("truncated ASN.1 value");
    const content = buf.subarray(pos, pos + len);
    pos += len;
    const constructed = (tag & 0x20) !== 0;
    out.push({ tag, content, children: constructed ? parseDer(content, depth + 1) : [] });
  }
  return out;
}

function one(buf: Buffer): Der {
  const values = parseDer(buf);
  if (values.length !== 1) throw new Pkcs12Error("expected one ASN.1 value");
  return values[0]!;
}

function child(d: Der, i: number, tag?: number): Der {
  const c = d.children[i];
  if (c === undefined || (tag !== undefined && c.tag !== tag)) {
    throw new Pkcs12Error(`unexpected ASN.1 structure (tag ${c?.tag ?? "none"} at index ${i})`);
  }
  return c;
}

const SEQUENCE = 0x30;
const OCTET_STRING = 0x04;
const OID = 0x06;
const INTEGER = 0x02;
const CONTEXT_0 = 0xa0;

function oid(d: Der): string {
  if (d.tag !== OID || d.content.length === 0) throw new Pkcs12Error("expected an OID");
  const b = d.content;
  const arcs = [Math.floor(b[0]! / 40), b[0]! % 40];
  let v = 0;
  for (let i = 1; i < b.length; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if ((b[i]! & 0x80) === 0) {
      arcs.push(v);
      v = 0;
    }
  }
  return arcs.join(".");
}

function int(d: Der): number {
  if (d.tag !== INTEGER || d.content.length > 6) throw new Pkcs12Error("expected a small INTEGER");
  let v = 0;
  for (const b of d.content) v = v * 256 + b;
  return v;
}

/** An OCTET STRING's bytes, joining the pieces of a constructed (BER) one. */
function octets(d: Der): Buffer {
  if (d.tag === OCTET_STRING) return d.content;
  if (d.tag === (OCTET_STRING | 0x20)) return Buffer.concat(d.children.map(octets));
  throw new Pkcs12Error("expected an OCTET STRING");
}

const OIDS = {
  data: "1.2.840.113549.1.7.1",
  encryptedData: "1.2.840.113549.1.7.6",
  keyBag: "1.2.840.113549.1.12.10.1.1",
  shroudedKeyBag: "1.2.840.113549.1.12.10.1.2",
  certBag: "1.2.840.113549.1.12.10.1.3",
  x509Certificate: "1.2.840.113549.1.9.22.1",
  localKeyId: "1.2.840.113549.1.9.21",
  pbes2: "1.2.840.113549.1.5.13",
  pbkdf2: "1.2.840.113549.1.5.12",
  pbeSha3Des: "1.2.840.113549.1.12.1.3",
  pbeShaRc2_128: "1.2.840.113549.1.12.1.5",
  pbeShaRc2_40: "1.2.840.113549.1.12.1.6",
} as const;

const HMAC_PRFS: ReadonlyMap<string, string> = new Map([
  ["1.2.840.113549.2.7", "sha1"],
  ["1.2.840.113549.2.8", "sha224"],
  ["1.2.840.113549.2.9", "sha256"],
  ["1.2.840.113549.2.10", "sha384"],
  ["1.2.840.113549.2.11", "sha512"],
]);

const DIGESTS: ReadonlyMap<string, string> = new Map([
  ["1.3.14.3.2.26", "sha1"],
  ["2.16.840.1.101.3.4.2.1", "sha256"],
  ["2.16.840.1.101.3.4.2.2", "sha384"],
  ["2.16.840.1.101.3.4.2.3", "sha512"],
  ["2.16.840.1.101.3.4.2.4", "sha224"],
]);

const CIPHERS: ReadonlyMap<string, { name: string; keyLength: number }> = new Map([
  ["2.16.840.1.101.3.4.1.2", { name: "aes-128-cbc", keyLength: 16 }],
  ["2.16.840.1.101.3.4.1.22", { name: "aes-192-cbc", keyLength: 24 }],
  ["2.16.840.1.101.3.4.1.42", { name: "aes-256-cbc", keyLength: 32 }],
  ["1.2.840.113549.3.7", { name: "des-ede3-cbc", keyLength: 24 }],
]);

/** Hash block size in bytes, for the PKCS#12 key derivation. */
function blockBytes(hash: string): number {
  return hash === "sha384" || hash === "sha512" ? 128 : 64;
}

/** The password as PKCS#12's BMPString: UTF-16BE with a two-byte terminator (empty: no bytes). */
function bmpPassword(password: string): Buffer {
  if (password === "") return Buffer.alloc(0);
  const out = Buffer.alloc(password.length * 2 + 2);
  for (let i = 0; i < password.length; i++) out.writeUInt16BE(password.charCodeAt(i), i * 2);
  return out;
}

/** RFC 7292 appendix B.2: key (id 1), IV (id 2) or MAC key (id 3) material. */
function pkcs12Kdf(
  hash: string,
  password: Buffer,
  salt: Buffer,
  iterations: number,
  id: number,
  n: number,
): Buffer {
  const v = blockBytes(hash);
  const fill = (src: Buffer) => {
    if (src.length === 0) return Buffer.alloc(0);
    const len = v * Math.ceil(src.length / v);
    const out = Buffer.alloc(len);
    for (let i = 0; i < len; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const d = Buffer.alloc(v, id);
  const i = Buffer.concat([fill(salt), fill(password)]);
  const parts: Buffer[] = [];
  let produced = 0;
  while (produced < n) {
    let a = crypto.createHash(hash).update(d).update(i).digest();
    for (let r = 1; r < iterations; r++) a = crypto.createHash(hash).update(a).digest();
    parts.push(a);
    produced += a.length;
    if (produced >= n) break;
    const b = Buffer.alloc(v);
    for (let k = 0; k < v; k++) b[k] = a[k % a.length]!;
    for (let off = 0; off < i.length; off += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = i[off + k]! + b[k]! + carry;
        i[off + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(parts).subarray(0, n);
}

const MAX_ITERATIONS = 10_000_000;

function checkIterations(n: number): number {
  if (n < 1 || n > MAX_ITERATIONS) throw new Pkcs12Error(`unreasonable iteration count ${n}`);
  return n;
}

/** Decrypts `data` protected by the AlgorithmIdentifier `alg` with `password`. */
function decrypt(alg: Der, data: Buffer, password: string): Buffer {
  const algOid = oid(child(alg, 0, OID));
  let cipherName: string;
  let key: Buffer;
  let iv: Buffer;
  if (algOid === OIDS.pbes2) {
    const params = child(alg, 1, SEQUENCE);
    const kdf = child(params, 0, SEQUENCE);
    if (oid(child(kdf, 0, OID)) !== OIDS.pbkdf2) throw new Pkcs12Error("PBES2 without PBKDF2");
    const kdfParams = child(kdf, 1, SEQUENCE);
    const salt = octets(child(kdfParams, 0));
    const iterations = checkIterations(int(child(kdfParams, 1, INTEGER)));
    let prf = "sha1";
    for (const c of kdfParams.children.slice(2)) {
      if (c.tag === SEQUENCE) {
        const p = HMAC_PRFS.get(oid(child(c, 0, OID)));
        if (p === undefined) throw new Pkcs12Error("unsupported PBKDF2 PRF");
        prf = p;
      }
    }
    const scheme = child(params, 1, SEQUENCE);
    const cipher = CIPHERS.get(oid(child(scheme, 0, OID)));
    if (cipher === undefined) throw new Pkcs12Error("unsupported PBES2 cipher");
    iv = octets(child(scheme, 1));
    cipherName = cipher.name;
    key = crypto.pbkdf2Sync(Buffer.from(password, "utf8"), salt, iterations, cipher.keyLength, prf);
  } else if (algOid === OIDS.pbeSha3Des) {
    const params = child(alg, 1, SEQUENCE);
    const salt = octets(child(params, 0));
    const iterations = checkIterations(int(child(params, 1, INTEGER)));
    const pw = bmpPassword(password);
    key = pkcs12Kdf("sha1", pw, salt, iterations, 1, 24);
    iv = pkcs12Kdf("sha1", pw, salt, iterations, 2, 8);
    cipherName = "des-ede3-cbc";
  } else if (algOid === OIDS.pbeShaRc2_40 || algOid === OIDS.pbeShaRc2_128) {
    throw new Pkcs12Error(
      "it is protected with RC2, which OpenSSL 3 no longer supports; re-export it with keytool or `openssl pkcs12 -export` from OpenSSL 3 (AES)",
    );
  } else {
    throw new Pkcs12Error(`unsupported encryption algorithm ${algOid}`);
  }
  try {
    const decipher = crypto.createDecipheriv(cipherName, key, iv);
    return Buffer.concat([decipher.update(data), decipher.final()]);
  } catch {
    throw new Pkcs12Error("cannot decrypt it: wrong password");
  }
}

export interface Pkcs12Contents {
  /** Private keys (PKCS#8 DER, decrypted) with their localKeyId when present. */
  readonly keys: readonly { readonly der: Buffer; readonly localKeyId?: Buffer }[];
  /** X.509 certificates (DER) with their localKeyId when present, in file order. */
  readonly certs: readonly { readonly der: Buffer; readonly localKeyId?: Buffer }[];
}

function localKeyId(bag: Der): Buffer | undefined {
  const attrs = bag.children[2];
  if (attrs === undefined) return undefined;
  for (const attr of attrs.children) {
    if (attr.tag !== SEQUENCE || oid(child(attr, 0, OID)) !== OIDS.localKeyId) continue;
    const values = child(attr, 1);
    const first = values.children[0];
    if (first !== undefined) return octets(first);
  }
  return undefined;
}

/**
 * Parses a PKCS#12 file. `keyPassword` decrypts shrouded key bags (Kafka's ssl.key.password;
 * defaults to the store password). Throws Pkcs12Error with a reason fit for a start-up message.
 */
export function readPkcs12(file: Buffer, password: string, keyPassword = password): Pkcs12Contents {
  const pfx = one(file);
  if (pfx.tag !== SEQUENCE) throw new Pkcs12Error("not a PKCS#12 file");
  if (int(child(pfx, 0, INTEGER)) !== 3) throw new Pkcs12Error("not a PKCS#12 version 3 file");
  const authSafe = child(pfx, 1, SEQUENCE);
  if (oid(child(authSafe, 0, OID)) !== OIDS.data) {
    throw new Pkcs12Error("public-key integrity mode is not supported (only password MAC)");
  }
  const authSafeBytes = octets(child(child(authSafe, 1, CONTEXT_0), 0));
  const macData = pfx.children[2];
  if (macData !== undefined) verifyMac(macData, authSafeBytes, password);
  const keys: { der: Buffer; localKeyId?: Buffer }[] = [];
  const certs: { der: Buffer; localKeyId?: Buffer }[] = [];
  for (const info of one(authSafeBytes).children) {
    const type = oid(child(info, 0, OID));
    let safeContents: Buffer;
    if (type === OIDS.data) {
      safeContents = octets(child(child(info, 1, CONTEXT_0), 0));
    } else if (type === OIDS.encryptedData) {
      const encrypted = child(child(child(info, 1, CONTEXT_0), 0, SEQUENCE), 1, SEQUENCE);
      const alg = child(encrypted, 1, SEQUENCE);
      const body = child(encrypted, 2);
      // [0] IMPLICIT OCTET STRING: primitive (0x80) or constructed (0xa0).
      const data = body.tag === 0x80 ? body.content : Buffer.concat(body.children.map(octets));
      safeContents = decrypt(alg, data, password);
    } else {
      throw new Pkcs12Error(`unsupported content type ${type}`);
    }
    for (const bag of one(safeContents).children) {
      const bagId = oid(child(bag, 0, OID));
      const value = child(child(bag, 1, CONTEXT_0), 0);
      const id = localKeyId(bag);
      if (bagId === OIDS.keyBag) {
        keys.push({ der: bagBytes(value), localKeyId: id });
      } else if (bagId === OIDS.shroudedKeyBag) {
        const alg = child(value, 0, SEQUENCE);
        const data = octets(child(value, 1));
        keys.push({ der: decrypt(alg, data, keyPassword), localKeyId: id });
      } else if (bagId === OIDS.certBag) {
        if (oid(child(value, 0, OID)) !== OIDS.x509Certificate) continue;
        certs.push({ der: octets(child(child(value, 1, CONTEXT_0), 0)), localKeyId: id });
      }
    }
  }
  return { keys, certs };
}

/** The full DER encoding of a parsed value (a key bag holds the PrivateKeyInfo itself). */
function bagBytes(d: Der): Buffer {
  const len = d.content.length;
  let header: Buffer;
  if (len < 0x80) header = Buffer.from([d.tag, len]);
  else {
    const bytes: number[] = [];
    for (let l = len; l > 0; l = Math.floor(l / 256)) bytes.unshift(l & 0xff);
    header = Buffer.from([d.tag, 0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([header, d.content]);
}

function verifyMac(macData: Der, authSafeBytes: Buffer, password: string): void {
  const digestInfo = child(macData, 0, SEQUENCE);
  const hash = DIGESTS.get(oid(child(child(digestInfo, 0, SEQUENCE), 0, OID)));
  if (hash === undefined) throw new Pkcs12Error("unsupported integrity MAC algorithm");
  const expected = octets(child(digestInfo, 1));
  const salt = octets(child(macData, 1));
  const iterations = macData.children[2] === undefined ? 1 : checkIterations(int(child(macData, 2, INTEGER)));
  const size = crypto.createHash(hash).digest().length;
  const macKey = pkcs12Kdf(hash, bmpPassword(password), salt, iterations, 3, size);
  const actual = crypto.createHmac(hash, macKey).update(authSafeBytes).digest();
  if (actual.length !== expected.length || !crypto.timingSafeEqual(actual, expected)) {
    throw new Pkcs12Error("its integrity check failed: wrong password or a corrupt file");
  }
}

/** The first four bytes of a Java KeyStore (JKS) or JCEKS file. */
export function isJavaKeyStore(file: Buffer): boolean {
  if (file.length < 4) return false;
  const magic = file.readUInt32BE(0);
  return magic === 0xfeedfeed || magic === 0xcececece;
}
