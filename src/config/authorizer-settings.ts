/**
 * The authorizer's keys (`authorizer.class.name`, `super.users`, `allow.everyone.if.no.acl.found`),
 * read from the security keys as set; src/server/authorizer.ts enforces them.
 */
import { KrillError } from "../errors.js";

/** The keys read here: accepted at start-up (security-keys.ts) and validated by authorizerSettings. */
export const ENFORCED_AUTHORIZER_KEYS: ReadonlySet<string> = new Set([
  "authorizer.class.name",
  "super.users",
  "allow.everyone.if.no.acl.found",
]);

/** The one authorizer Krill implements, as Kafka names it. */
export const STANDARD_AUTHORIZER_CLASS = "org.apache.kafka.metadata.authorizer.StandardAuthorizer";

export interface AuthorizerSettings {
  /** `super.users`: principals (`User:admin`) allowed everything. */
  readonly superUsers: ReadonlySet<string>;
  /** `allow.everyone.if.no.acl.found`. */
  readonly allowIfNoAcl: boolean;
}

/**
 * Reads `authorizer.class.name`, `super.users` and `allow.everyone.if.no.acl.found` from the
 * security keys as set: undefined without an authorizer. Any other authorizer class, or a super
 * user that is not `Type:name`, stops start-up.
 */
export function authorizerSettings(raw: ReadonlyMap<string, string>): AuthorizerSettings | undefined {
  const cls = (raw.get("authorizer.class.name") ?? "").trim();
  if (cls === "") return undefined;
  if (cls !== STANDARD_AUTHORIZER_CLASS) {
    throw new KrillError(
      "CONFIG_INVALID",
      `Refusing to start: authorizer.class.name=${cls} is not an authorizer Krill implements (accepted: ${STANDARD_AUTHORIZER_CLASS}, or an empty value for none)`,
    );
  }
  const superUsers = new Set<string>();
  for (const part of (raw.get("super.users") ?? "").split(";")) {
    const p = part.trim();
    if (p === "") continue;
    if (!p.includes(":")) {
      throw new KrillError(
        "CONFIG_INVALID",
        `Refusing to start: super.users names ${p}: expected a string in format principalType:principalName`,
      );
    }
    superUsers.add(p);
  }
  const allow = (raw.get("allow.everyone.if.no.acl.found") ?? "false").trim().toLowerCase();
  if (allow !== "true" && allow !== "false") {
    throw new KrillError(
      "CONFIG_INVALID",
      `Refusing to start: allow.everyone.if.no.acl.found=${allow} is not a boolean (true or false)`,
    );
  }
  return { superUsers, allowIfNoAcl: allow === "true" };
}
