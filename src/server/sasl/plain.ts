/**
 * SASL/PLAIN (RFC 4616) as Kafka's PlainSaslServer checks it: `[authzid] NUL authcid NUL passwd`
 * against the `user_<name>="<password>"` options of the listener's PlainLoginModule JAAS config.
 * Passwords are compared in constant time over their digests.
 */
import crypto from "node:crypto";
import type { SaslServer, SaslStep } from "./scram.js";

const INVALID = "Authentication failed: Invalid username or password";

function digest(s: string): Buffer {
  return crypto.createHash("sha256").update(s, "utf8").digest();
}

export class PlainServer implements SaslServer {
  readonly mechanism = "PLAIN";
  readonly #users: ReadonlyMap<string, string>;
  #done = false;

  constructor(users: ReadonlyMap<string, string>) {
    this.#users = users;
  }

  evaluate(token: Buffer): SaslStep {
    if (this.#done) return { kind: "failed", reason: "unexpected PLAIN message after the exchange" };
    this.#done = true;
    const parts = token.toString("utf8").split("\u0000");
    if (parts.length !== 3) {
      const message = "Invalid SASL/PLAIN response: expected 3 tokens, got " + parts.length;
      return { kind: "failed", reason: message, kafkaMessage: message };
    }
    const [authzid, user, password] = parts as [string, string, string];
    if (user === "" || password === "") {
      const message =
        user === ""
          ? "Authentication failed: username not specified"
          : "Authentication failed: password not specified";
      return { kind: "failed", reason: message, kafkaMessage: message };
    }
    if (authzid !== "" && authzid !== user) {
      const message =
        "Authentication failed: Client requested an authorization id that is different from username";
      return { kind: "failed", reason: message, kafkaMessage: message };
    }
    const expected = this.#users.get(user);
    // Compare even for an unknown user, so timing does not tell which users exist.
    const ok =
      crypto.timingSafeEqual(digest(expected ?? "\u0000unknown"), digest(password)) && expected !== undefined;
    if (!ok) return { kind: "failed", reason: INVALID, kafkaMessage: INVALID };
    return { kind: "complete", data: Buffer.alloc(0), user };
  }
}
