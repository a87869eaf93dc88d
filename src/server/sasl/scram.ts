/**
 * SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka's ScramSaslServer speaks them:
 * the credential math shared with AlterUserScramCredentials (salted password to stored and
 * server keys) and the server side of one exchange.
 *
 * Errors carry Kafka's wording: a SaslException of Kafka's becomes, on the wire, "Authentication
 * failed during authentication due to invalid credentials with SASL mechanism <M>" (the caller
 * adds it); an authorization id different from the user name is Kafka's own
 * SaslAuthenticationException message.
 */
import crypto from "node:crypto";

export type ScramMechanismName = "SCRAM-SHA-256" | "SCRAM-SHA-512";

export interface ScramMechanism {
  readonly name: ScramMechanismName;
  /** Kafka's ScramMechanism type as stored in UserScramCredentialRecord and the admin APIs. */
  readonly type: number;
  readonly hash: "sha256" | "sha512";
  readonly minIterations: number;
  readonly maxIterations: number;
}

export const SCRAM_MECHANISMS: readonly ScramMechanism[] = [
  { name: "SCRAM-SHA-256", type: 1, hash: "sha256", minIterations: 4096, maxIterations: 16384 },
  { name: "SCRAM-SHA-512", type: 2, hash: "sha512", minIterations: 4096, maxIterations: 16384 },
];

export function scramMechanismByType(type: number): ScramMechanism | undefined {
  return SCRAM_MECHANISMS.find((m) => m.type === type);
}

export function scramMechanismByName(name: string): ScramMechanism | undefined {
  return SCRAM_MECHANISMS.find((m) => m.name === name);
}

export interface ScramCredential {
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
  readonly iterations: number;
}

const hmac = (hash: string, key: Buffer, data: string | Buffer) =>
  crypto.createHmac(hash, key).update(data).digest();

/** Kafka's ScramFormatter: stored and server keys from a salted password. */
export function credentialFromSaltedPassword(
  mechanism: ScramMechanism,
  salt: Buffer,
  saltedPassword: Buffer,
  iterations: number,
): ScramCredential {
  const clientKey = hmac(mechanism.hash, saltedPassword, "Client Key");
  const storedKey = crypto.createHash(mechanism.hash).update(clientKey).digest();
  const serverKey = hmac(mechanism.hash, saltedPassword, "Server Key");
  return { salt, storedKey, serverKey, iterations };
}

/** Hi() of RFC 5802: PBKDF2 with the mechanism's HMAC. */
export function saltPassword(
  mechanism: ScramMechanism,
  password: string,
  salt: Buffer,
  iterations: number,
): Buffer {
  const size = mechanism.hash === "sha256" ? 32 : 64;
  return crypto.pbkdf2Sync(Buffer.from(password, "utf8"), salt, iterations, size, mechanism.hash);
}

/** Looks a user's credential up when the exchange names the user. */
export type ScramCredentialLookup = (user: string, mechanism: ScramMechanism) => ScramCredential | undefined;

export type SaslStep =
  | { readonly kind: "challenge"; readonly data: Buffer }
  | { readonly kind: "complete"; readonly data: Buffer; readonly user: string }
  /** `kafkaMessage`: Kafka's own message (an AuthenticationException); else the generic one. */
  | { readonly kind: "failed"; readonly reason: string; readonly kafkaMessage?: string };

export interface SaslServer {
  readonly mechanism: string;
  evaluate(token: Buffer): SaslStep;
}

/** saslname of RFC 5802: "=2C" is ",", "=3D" is "="; any other "=" is invalid. */
function decodeSaslName(name: string): string | undefined {
  if (/=(?!2C|3D)/.test(name)) return undefined;
  return name.replace(/=2C/g, ",").replace(/=3D/g, "=");
}

function attributes(parts: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of parts) {
    if (p.length < 2 || p[1] !== "=") continue;
    out.set(p[0]!, p.slice(2));
  }
  return out;
}

const PRINTABLE_NONCE = /^[\x21-\x2b\x2d-\x7e]+$/;

export class ScramServer implements SaslServer {
  readonly mechanism: string;
  readonly #scram: ScramMechanism;
  readonly #lookup: ScramCredentialLookup;
  #state: "first" | "final" | "done" = "first";
  #user = "";
  #credential: ScramCredential | undefined;
  #clientFirstBare = "";
  #serverFirst = "";
  #nonce = "";
  #gs2Header = "";

  constructor(mechanism: ScramMechanism, lookup: ScramCredentialLookup) {
    this.mechanism = mechanism.name;
    this.#scram = mechanism;
    this.#lookup = lookup;
  }

  evaluate(token: Buffer): SaslStep {
    if (this.#state === "first") return this.#first(token.toString("utf8"));
    if (this.#state === "final") return this.#final(token.toString("utf8"));
    return { kind: "failed", reason: "unexpected SCRAM message after the exchange" };
  }

  #first(message: string): SaslStep {
    this.#state = "done";
    // gs2-header: "n,," / "y,," (no channel binding), optionally with "a=authzid".
    const m = /^([ny]),(a=[^,]*)?,(.*)$/.exec(message);
    if (m === null) return { kind: "failed", reason: "invalid SCRAM client-first message" };
    this.#gs2Header = `${m[1]},${m[2] ?? ""},`;
    const bare = m[3]!;
    const attrs = attributes(bare.split(","));
    const saslName = attrs.get("n");
    const clientNonce = attrs.get("r");
    if (
      !bare.startsWith("n=") ||
      saslName === undefined ||
      clientNonce === undefined ||
      !PRINTABLE_NONCE.test(clientNonce)
    ) {
      return { kind: "failed", reason: "invalid SCRAM client-first message" };
    }
    const user = decodeSaslName(saslName);
    if (user === undefined || user === "") return { kind: "failed", reason: "invalid SCRAM user name" };
    if (bare.split(",").some((p) => p.startsWith("tokenauth="))) {
      return { kind: "failed", reason: "delegation token authentication is not supported" };
    }
    const credential = this.#lookup(user, this.#scram);
    if (credential === undefined)
      return { kind: "failed", reason: "Authentication failed: Invalid user credentials" };
    const authzid = m[2]?.slice(2) ?? "";
    if (authzid !== "" && decodeSaslName(authzid) !== user) {
      const message =
        "Authentication failed: Client requested an authorization id that is different from username";
      return { kind: "failed", reason: message, kafkaMessage: message };
    }
    if (credential.iterations < this.#scram.minIterations) {
      return {
        kind: "failed",
        reason: `Iterations ${credential.iterations} is less than the minimum ${this.#scram.minIterations}`,
      };
    }
    this.#user = user;
    this.#credential = credential;
    this.#clientFirstBare = bare;
    this.#nonce = clientNonce + crypto.randomBytes(24).toString("base64url");
    this.#serverFirst = `r=${this.#nonce},s=${credential.salt.toString("base64")},i=${credential.iterations}`;
    this.#state = "final";
    return { kind: "challenge", data: Buffer.from(this.#serverFirst, "utf8") };
  }

  #final(message: string): SaslStep {
    this.#state = "done";
    const credential = this.#credential!;
    const proofAt = message.lastIndexOf(",p=");
    if (proofAt < 0) return { kind: "failed", reason: "invalid SCRAM client-final message" };
    const withoutProof = message.slice(0, proofAt);
    const attrs = attributes(withoutProof.split(","));
    if (attrs.get("r") !== this.#nonce)
      return { kind: "failed", reason: "Invalid client nonce in the final client message." };
    if (attrs.get("c") !== Buffer.from(this.#gs2Header, "utf8").toString("base64")) {
      return { kind: "failed", reason: "invalid channel binding in the final client message" };
    }
    const proof = Buffer.from(message.slice(proofAt + 3), "base64");
    const hash = this.#scram.hash;
    const authMessage = `${this.#clientFirstBare},${this.#serverFirst},${withoutProof}`;
    const clientSignature = hmac(hash, credential.storedKey, authMessage);
    if (proof.length !== clientSignature.length)
      return { kind: "failed", reason: "Invalid client credentials" };
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i]! ^ clientSignature[i]!;
    const computed = crypto.createHash(hash).update(clientKey).digest();
    if (!crypto.timingSafeEqual(computed, credential.storedKey)) {
      return { kind: "failed", reason: "Invalid client credentials" };
    }
    const serverSignature = hmac(hash, credential.serverKey, authMessage);
    this.#credential = undefined;
    return {
      kind: "complete",
      data: Buffer.from(`v=${serverSignature.toString("base64")}`, "utf8"),
      user: this.#user,
    };
  }
}
