/**
 * Kafka's StandardAuthorizer (`authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer`):
 * decides whether a principal from a host may perform an operation on a resource, from the ACL
 * bindings in the metadata image (src/metadata/acls.ts), `super.users` and
 * `allow.everyone.if.no.acl.found`, with StandardAuthorizerData's rules:
 *
 * - A super user may do anything.
 * - The bindings that apply to a resource are those of its type whose pattern is the LITERAL
 *   name, the LITERAL wildcard `*`, or a PREFIXED pattern that starts the name.
 * - Of those, a binding matches when its principal is the request's or `User:*`, its host is the
 *   client's address or `*`, and its operation is the one asked, or ALL; an ALLOW binding for
 *   READ, WRITE, DELETE or ALTER also grants DESCRIBE, one for ALTER_CONFIGS also DESCRIBE_CONFIGS
 *   (a DENY binding denies only its own operation).
 * - Any matching DENY wins; else any matching ALLOW allows; else, when bindings apply to the
 *   resource (for anyone), the answer is DENY; else it is `allow.everyone.if.no.acl.found`
 *   (default false).
 *
 * Denials a client asked for are logged at info level, rate-limited per principal and resource,
 * as Kafka's `kafka.authorizer.logger` logs them; allowed requests at debug.
 *
 * The index is rebuilt when the image's ACLs change (a new map object), so an authorization is a
 * few map lookups: the literal name, the wildcard and each prefix of the name.
 */
import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import type { AuthorizerSettings } from "../config/authorizer-settings.js";
import { RateLimitedWarning } from "../logging.js";
import {
  AclOperation,
  AclPermission,
  type AclRecordData,
  CLUSTER_NAME,
  codeName,
  PatternType,
  ResourceType,
  WILDCARD,
  WILDCARD_PRINCIPAL,
} from "../metadata/acls.js";
import type { MetadataImage } from "../metadata/image.js";

/** Who asks, from where (Kafka's AuthorizableRequestContext). */
export interface RequestIdentity {
  /** `User:alice`; `User:ANONYMOUS` on a listener that does not authenticate. */
  readonly principal: string;
  /** The client's IP address as Java prints it (no IPv4-mapped IPv6 prefix). */
  readonly host: string;
  /** The API name, for the audit log. */
  readonly apiName: string;
}

export interface AuthorizeOptions {
  /** Log an ALLOW at debug level (false for checks that only compute authorized operations). */
  readonly logIfAllowed?: boolean;
  /** Log a DENY at info level (false for filtering, as Kafka's logIfDenied). */
  readonly logIfDenied?: boolean;
}

/** AclEntry.supportedOperations (checked against Kafka 4.4.0's jar): what authorizedOperations reports. */
const SUPPORTED_OPERATIONS: ReadonlyMap<number, readonly number[]> = new Map([
  [
    ResourceType.TOPIC,
    [
      AclOperation.READ,
      AclOperation.WRITE,
      AclOperation.CREATE,
      AclOperation.DESCRIBE,
      AclOperation.DELETE,
      AclOperation.ALTER,
      AclOperation.DESCRIBE_CONFIGS,
      AclOperation.ALTER_CONFIGS,
    ],
  ],
  [
    ResourceType.GROUP,
    [
      AclOperation.READ,
      AclOperation.DESCRIBE,
      AclOperation.DELETE,
      AclOperation.DESCRIBE_CONFIGS,
      AclOperation.ALTER_CONFIGS,
    ],
  ],
  [
    ResourceType.CLUSTER,
    [
      AclOperation.CREATE,
      AclOperation.CLUSTER_ACTION,
      AclOperation.DESCRIBE_CONFIGS,
      AclOperation.ALTER_CONFIGS,
      AclOperation.IDEMPOTENT_WRITE,
      AclOperation.ALTER,
      AclOperation.DESCRIBE,
    ],
  ],
  [ResourceType.TRANSACTIONAL_ID, [AclOperation.DESCRIBE, AclOperation.WRITE, AclOperation.TWO_PHASE_COMMIT]],
  [ResourceType.DELEGATION_TOKEN, [AclOperation.DESCRIBE]],
  [ResourceType.USER, [AclOperation.CREATE_TOKENS, AclOperation.DESCRIBE_TOKENS]],
]);

/** Kafka's Utils.to32BitField over the operations' codes. */
export function operationsBitField(operations: Iterable<number>): number {
  let bits = 0;
  for (const op of operations) bits |= 1 << op;
  return bits;
}

/** Every supported operation of a resource type: what a broker without an authorizer reports. */
export function allOperations(resourceType: number): number {
  return operationsBitField(SUPPORTED_OPERATIONS.get(resourceType) ?? []);
}

const IMPLIES_DESCRIBE: ReadonlySet<number> = new Set([
  AclOperation.DESCRIBE,
  AclOperation.READ,
  AclOperation.WRITE,
  AclOperation.DELETE,
  AclOperation.ALTER,
]);
const IMPLIES_DESCRIBE_CONFIGS: ReadonlySet<number> = new Set([
  AclOperation.DESCRIBE_CONFIGS,
  AclOperation.ALTER_CONFIGS,
]);

/** The bindings of one resource type, by pattern name. */
interface TypeIndex {
  readonly literal: Map<string, AclRecordData[]>;
  readonly prefixed: Map<string, AclRecordData[]>;
  /** Lengths of the prefixed names, so a lookup tries only those. */
  readonly prefixLengths: number[];
}

function buildIndex(acls: ReadonlyMap<string, AclRecordData>): Map<number, TypeIndex> {
  const index = new Map<number, TypeIndex>();
  for (const acl of acls.values()) {
    let t = index.get(acl.resourceType);
    if (t === undefined) {
      t = { literal: new Map(), prefixed: new Map(), prefixLengths: [] };
      index.set(acl.resourceType, t);
    }
    const byName = acl.patternType === PatternType.PREFIXED ? t.prefixed : t.literal;
    let list = byName.get(acl.resourceName);
    if (list === undefined) {
      list = [];
      byName.set(acl.resourceName, list);
    }
    list.push(acl);
  }
  for (const t of index.values()) {
    t.prefixLengths.push(...new Set([...t.prefixed.keys()].map((k) => k.length)));
    t.prefixLengths.sort((a, b) => a - b);
  }
  return index;
}

/** Kafka's StandardAuthorizerData.findResult: ALLOW/DENY when `acl` matches, else undefined. */
function aclResult(
  acl: AclRecordData,
  principal: string,
  host: string,
  operation: number,
): boolean | undefined {
  if (acl.principal !== principal && acl.principal !== WILDCARD_PRINCIPAL) return undefined;
  if (acl.host !== WILDCARD && acl.host !== host) return undefined;
  const allow = acl.permissionType === AclPermission.ALLOW;
  if (acl.operation !== AclOperation.ALL) {
    if (allow) {
      if (operation === AclOperation.DESCRIBE) {
        if (!IMPLIES_DESCRIBE.has(acl.operation)) return undefined;
      } else if (operation === AclOperation.DESCRIBE_CONFIGS) {
        if (!IMPLIES_DESCRIBE_CONFIGS.has(acl.operation)) return undefined;
      } else if (operation !== acl.operation) return undefined;
    } else if (operation !== acl.operation) return undefined;
  }
  return allow;
}

/** The host as Java's InetAddress.getHostAddress prints it. */
export function clientHost(remoteAddress: string): string {
  return remoteAddress.startsWith("::ffff:") && remoteAddress.includes(".")
    ? remoteAddress.slice("::ffff:".length)
    : remoteAddress;
}

export class StandardAuthorizer {
  readonly settings: AuthorizerSettings;
  readonly #image: () => MetadataImage;
  readonly #logger: Logger;
  readonly #denials: RateLimitedWarning;
  #indexedAcls: ReadonlyMap<string, AclRecordData> | undefined;
  #index = new Map<number, TypeIndex>();

  constructor(settings: AuthorizerSettings, image: () => MetadataImage, logger: Logger, clock: Clock) {
    this.settings = settings;
    this.#image = image;
    this.#logger = logger.child({ logger: "kafka.authorizer.logger" });
    this.#denials = new RateLimitedWarning(clock, 10_000, 1_000);
  }

  #currentIndex(): Map<number, TypeIndex> {
    const acls = this.#image().acls;
    if (acls !== this.#indexedAcls) {
      this.#index = buildIndex(acls);
      this.#indexedAcls = acls;
    }
    return this.#index;
  }

  /** Whether `who` may perform `operation` on the LITERAL resource `resourceType`:`name`. */
  authorize(
    who: RequestIdentity,
    operation: number,
    resourceType: number,
    name: string,
    options: AuthorizeOptions = {},
  ): boolean {
    const rule = this.#decide(who, operation, resourceType, name);
    if (rule.allowed) {
      if ((options.logIfAllowed ?? true) && this.#logger.isLevelEnabled("debug")) {
        this.#logger.debug(this.#audit(who, operation, resourceType, name, rule), "authorized");
      }
    } else if (options.logIfDenied ?? true) {
      const fields = this.#audit(who, operation, resourceType, name, rule);
      this.#denials.warn(
        { warn: (f: object, m: string) => this.#logger.info(f, m) },
        `${who.principal}|${resourceType}|${name}|${operation}`,
        fields,
        "authorization denied",
      );
    }
    return rule.allowed;
  }

  #audit(
    who: RequestIdentity,
    operation: number,
    resourceType: number,
    name: string,
    rule: { rule: string },
  ) {
    return {
      principal: who.principal,
      host: who.host,
      operation: codeName("operation", operation),
      resource: `${codeName("resourceType", resourceType)}:LITERAL:${name}`,
      request: who.apiName,
      rule: rule.rule,
    };
  }

  #decide(
    who: RequestIdentity,
    operation: number,
    resourceType: number,
    name: string,
  ): { allowed: boolean; rule: string } {
    if (this.settings.superUsers.has(who.principal)) return { allowed: true, rule: "SuperUser" };
    const t = this.#currentIndex().get(resourceType);
    let applies = false;
    let allowedBy: AclRecordData | undefined;
    const consider = (list: readonly AclRecordData[] | undefined): AclRecordData | undefined => {
      if (list === undefined) return undefined;
      for (const acl of list) {
        applies = true;
        const result = aclResult(acl, who.principal, who.host, operation);
        if (result === false) return acl;
        if (result === true) allowedBy ??= acl;
      }
      return undefined;
    };
    if (t !== undefined) {
      const denied =
        consider(t.literal.get(name)) ??
        consider(name === WILDCARD ? undefined : t.literal.get(WILDCARD)) ??
        t.prefixLengths
          .filter((len) => len <= name.length)
          .reduce<AclRecordData | undefined>(
            (found, len) => found ?? consider(t.prefixed.get(name.slice(0, len))),
            undefined,
          );
      if (denied !== undefined) return { allowed: false, rule: `MatchingAcl(${describeAcl(denied)})` };
    }
    if (allowedBy !== undefined) return { allowed: true, rule: `MatchingAcl(${describeAcl(allowedBy)})` };
    if (applies) return { allowed: false, rule: "DefaultDeny" };
    return this.settings.allowIfNoAcl
      ? { allowed: true, rule: "DefaultAllow" }
      : { allowed: false, rule: "DefaultDeny" };
  }

  /** Kafka's AuthHelper.authorizedOperations: the supported operations allowed, as a bit field. */
  authorizedOperations(who: RequestIdentity, resourceType: number, name: string): number {
    const allowed = (SUPPORTED_OPERATIONS.get(resourceType) ?? []).filter((op) =>
      this.authorize(who, op, resourceType, name, { logIfAllowed: false, logIfDenied: false }),
    );
    return operationsBitField(allowed);
  }

  /**
   * Kafka's Authorizer.authorizeByResourceType: whether `who` may perform `operation` on at least
   * one resource of the type (an ALLOW binding not dominated by a DENY one), e.g. WRITE on some
   * topic for an idempotent producer.
   */
  authorizeByResourceType(who: RequestIdentity, operation: number, resourceType: number): boolean {
    // A hard-coded name, so that super users and allow.everyone.if.no.acl.found apply.
    if (
      this.authorize(who, operation, resourceType, "hardcode", { logIfAllowed: true, logIfDenied: false })
    ) {
      return true;
    }
    const deny = { literal: new Set<string>(), prefixed: new Set<string>() };
    const allow = { literal: new Set<string>(), prefixed: new Set<string>() };
    let wildcardAllow = false;
    for (const acl of this.#image().acls.values()) {
      if (acl.resourceType !== resourceType) continue;
      if (acl.host !== who.host && acl.host !== WILDCARD) continue;
      if (acl.principal !== who.principal && acl.principal !== WILDCARD_PRINCIPAL) continue;
      if (acl.operation !== operation && acl.operation !== AclOperation.ALL) continue;
      const literal = acl.patternType === PatternType.LITERAL;
      if (acl.permissionType === AclPermission.DENY) {
        if (literal && acl.resourceName === WILDCARD) return false;
        (literal ? deny.literal : deny.prefixed).add(acl.resourceName);
      } else if (acl.permissionType === AclPermission.ALLOW) {
        if (literal && acl.resourceName === WILDCARD) wildcardAllow = true;
        else (literal ? allow.literal : allow.prefixed).add(acl.resourceName);
      }
    }
    if (wildcardAllow) return true;
    const dominated = (name: string) => {
      for (let i = 1; i <= name.length; i++) if (deny.prefixed.has(name.slice(0, i))) return true;
      return false;
    };
    for (const name of allow.literal) if (!deny.literal.has(name) && !dominated(name)) return true;
    for (const name of allow.prefixed) if (!dominated(name)) return true;
    return false;
  }
}

function describeAcl(acl: AclRecordData): string {
  return `${acl.principal} ${codeName("permissionType", acl.permissionType)} ${codeName("operation", acl.operation)} from ${acl.host} on ${codeName("resourceType", acl.resourceType)}:${codeName("patternType", acl.patternType)}:${acl.resourceName}`;
}

export { CLUSTER_NAME };
