/**
 * ACLs in the metadata log, as Kafka's AclControlManager keeps them: a CreateAcls request becomes
 * AccessControlEntryRecord records (one per new binding, each with a fresh id), a DeleteAcls
 * request RemoveAccessControlEntryRecord records (by id) for every binding a filter matches, both
 * validated with Kafka's errors and messages. The image holds the bindings by id; the authorizer
 * (src/server/authorizer.ts) indexes them.
 *
 * Codes are Kafka's: ResourceType, PatternType, AclOperation and AclPermissionType bytes as the
 * wire and the records carry them.
 */
import { ErrorCode } from "../protocol/generated/error-codes.js";
import { uuidFromBytes } from "../protocol/primitives/uuid.js";
import type { Random } from "../random.js";
import type { MetadataImage } from "./image.js";
import type { MetadataRecord } from "./records.js";

/** Kafka's ResourceType codes. */
export const ResourceType = {
  UNKNOWN: 0,
  ANY: 1,
  TOPIC: 2,
  GROUP: 3,
  CLUSTER: 4,
  TRANSACTIONAL_ID: 5,
  DELEGATION_TOKEN: 6,
  USER: 7,
} as const;

/** Kafka's PatternType codes. */
export const PatternType = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;

/** Kafka's AclOperation codes. */
export const AclOperation = {
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14,
  /** Kafka 4.x (KIP-939): on a transactional id. */
  TWO_PHASE_COMMIT: 15,
} as const;

/** Kafka's AclPermissionType codes. */
export const AclPermission = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const;

/** The one name of the CLUSTER resource (Kafka's CLUSTER_NAME). */
export const CLUSTER_NAME = "kafka-cluster";
/** The resource name and host matching anything. */
export const WILDCARD = "*";
export const WILDCARD_PRINCIPAL = "User:*";

/** Kafka's MAX_RECORDS_PER_USER_OP: the most ACL records one request may write. */
export const ACL_RECORDS_PER_REQUEST_MAX = 10_000;

/** One ACL binding (Kafka's StandardAcl): a resource pattern and an access control entry. */
export interface AclBinding {
  readonly resourceType: number;
  readonly resourceName: string;
  readonly patternType: number;
  readonly principal: string;
  readonly host: string;
  readonly operation: number;
  readonly permissionType: number;
}

/** A binding as stored, with its id (AccessControlEntryRecord). */
export interface AclRecordData extends AclBinding {
  readonly id: string;
}

/** Kafka's AclBindingFilter: null strings and ANY codes match anything. */
export interface AclFilter {
  readonly resourceType: number;
  readonly resourceName: string | null;
  readonly patternType: number;
  readonly principal: string | null;
  readonly host: string | null;
  readonly operation: number;
  readonly permissionType: number;
}

const known = (codes: Record<string, number>, code: number) => Object.values(codes).includes(code);

/** Kafka's `fromCode`: a byte outside the enum is UNKNOWN. */
export function normalizeCodes<T extends AclBinding | AclFilter>(b: T): T {
  const norm = (codes: Record<string, number>, code: number) => (known(codes, code) ? code : 0);
  return {
    ...b,
    resourceType: norm(ResourceType, b.resourceType),
    patternType: norm(PatternType, b.patternType),
    operation: norm(AclOperation, b.operation),
    permissionType: norm(AclPermission, b.permissionType),
  };
}

/** True when any code is UNKNOWN: Kafka's request classes refuse such a request while parsing. */
export function hasUnknownCode(b: AclBinding | AclFilter): boolean {
  return (
    !known(ResourceType, b.resourceType) ||
    b.resourceType === ResourceType.UNKNOWN ||
    !known(PatternType, b.patternType) ||
    b.patternType === PatternType.UNKNOWN ||
    !known(AclOperation, b.operation) ||
    b.operation === AclOperation.UNKNOWN ||
    !known(AclPermission, b.permissionType) ||
    b.permissionType === AclPermission.UNKNOWN
  );
}

/** Kafka's ResourcePatternFilter.matches. */
function patternMatches(f: AclFilter, b: AclBinding): boolean {
  if (f.resourceType !== ResourceType.ANY && f.resourceType !== b.resourceType) return false;
  if (
    f.patternType !== PatternType.ANY &&
    f.patternType !== PatternType.MATCH &&
    f.patternType !== b.patternType
  ) {
    return false;
  }
  if (f.resourceName === null) return true;
  if (f.patternType === PatternType.ANY || f.patternType === b.patternType)
    return f.resourceName === b.resourceName;
  // MATCH: the bindings that would apply to a resource of that name.
  if (b.patternType === PatternType.LITERAL)
    return f.resourceName === b.resourceName || b.resourceName === WILDCARD;
  return f.resourceName.startsWith(b.resourceName);
}

/** Kafka's AclBindingFilter.matches. */
export function filterMatches(f: AclFilter, b: AclBinding): boolean {
  if (!patternMatches(f, b)) return false;
  if (f.principal !== null && f.principal !== b.principal) return false;
  if (f.host !== null && f.host !== b.host) return false;
  if (f.operation !== AclOperation.ANY && f.operation !== b.operation) return false;
  return f.permissionType === AclPermission.ANY || f.permissionType === b.permissionType;
}

/** The identity of a binding (Kafka's existingAcls set), for duplicates. */
export function bindingKey(b: AclBinding): string {
  return JSON.stringify([
    b.resourceType,
    b.resourceName,
    b.patternType,
    b.principal,
    b.host,
    b.operation,
    b.permissionType,
  ]);
}

export interface AclApiError {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

const OK: AclApiError = { errorCode: ErrorCode.NONE, errorMessage: null };

function invalid(message: string): AclApiError {
  return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: message };
}

const NAMES: Record<string, Record<string, number>> = {
  resourceType: ResourceType,
  patternType: PatternType,
  operation: AclOperation,
  permissionType: AclPermission,
};

/** The enum name of a code, as Kafka prints it in messages. */
export function codeName(kind: keyof typeof NAMES, code: number): string {
  return Object.entries(NAMES[kind]!).find(([, c]) => c === code)?.[0] ?? "UNKNOWN";
}

/**
 * Kafka's checks on one new binding: AclApis (CLUSTER named kafka-cluster, a name) then
 * AclControlManager.validateNewAcl.
 */
export function validateNewAcl(b: AclBinding): AclApiError | undefined {
  if (b.resourceType === ResourceType.CLUSTER && b.resourceName !== CLUSTER_NAME) {
    return invalid(`The only valid name for the CLUSTER resource is ${CLUSTER_NAME}`);
  }
  if (b.resourceName === "") return invalid("Invalid empty resource name");
  if (b.resourceType === ResourceType.UNKNOWN || b.resourceType === ResourceType.ANY) {
    return invalid(`Invalid resourceType ${codeName("resourceType", b.resourceType)}`);
  }
  if (b.patternType !== PatternType.LITERAL && b.patternType !== PatternType.PREFIXED) {
    return invalid(`Invalid patternType ${codeName("patternType", b.patternType)}`);
  }
  if (b.operation === AclOperation.UNKNOWN || b.operation === AclOperation.ANY) {
    return invalid(`Invalid operation ${codeName("operation", b.operation)}`);
  }
  if (b.permissionType !== AclPermission.ALLOW && b.permissionType !== AclPermission.DENY) {
    return invalid(`Invalid permissionType ${codeName("permissionType", b.permissionType)}`);
  }
  if (principalOf(b.principal) === undefined) {
    // Kafka stores such a binding and fails on it when authorizing; Krill refuses it up front
    // with SecurityUtils.parseKafkaPrincipal's message.
    return invalid(`expected a string in format principalType:principalName but got ${b.principal}`);
  }
  return undefined;
}

/** `Type:name` split at the first colon, as Kafka's SecurityUtils.parseKafkaPrincipal. */
export function principalOf(text: string): { type: string; name: string } | undefined {
  const colon = text.indexOf(":");
  if (colon === -1) return undefined;
  return { type: text.slice(0, colon), name: text.slice(colon + 1) };
}

/** Kafka's AclControlManager.createAcls: records for bindings not stored yet, one result each. */
export function createAclRecords(
  image: MetadataImage,
  bindings: readonly AclBinding[],
  random: Random,
): { records: MetadataRecord[]; results: AclApiError[] } {
  const existing = new Set<string>();
  const ids = new Set<string>();
  for (const acl of image.acls.values()) {
    existing.add(bindingKey(acl));
    ids.add(acl.id);
  }
  const records: MetadataRecord[] = [];
  const results: AclApiError[] = [];
  for (const b of bindings) {
    const error = validateNewAcl(b);
    if (error !== undefined) {
      results.push(error);
      continue;
    }
    const key = bindingKey(b);
    if (!existing.has(key)) {
      if (records.length >= ACL_RECORDS_PER_REQUEST_MAX) {
        results.push({
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: `Cannot create more than ${ACL_RECORDS_PER_REQUEST_MAX} acls in a single request.`,
        });
        continue;
      }
      existing.add(key);
      let id: string;
      do id = uuidFromBytes(random.bytes(16), 0);
      while (ids.has(id));
      ids.add(id);
      records.push({ type: "AccessControlEntry", data: { id, ...pick(b) } });
    }
    results.push(OK);
  }
  return { records, results };
}

function pick(b: AclBinding): AclBinding {
  return {
    resourceType: b.resourceType,
    resourceName: b.resourceName,
    patternType: b.patternType,
    principal: b.principal,
    host: b.host,
    operation: b.operation,
    permissionType: b.permissionType,
  };
}

export interface AclDeleteResult extends AclApiError {
  readonly matching: readonly AclBinding[];
}

/**
 * Kafka's AclControlManager.deleteAcls: for each filter the bindings it matches (one binding may
 * match several filters; its record is written once). Atomic: beyond the bound every filter fails.
 */
export function deleteAclRecords(
  image: MetadataImage,
  filters: readonly AclFilter[],
): { records: MetadataRecord[]; results: AclDeleteResult[] } {
  const removed = new Set<string>();
  const results: AclDeleteResult[] = [];
  for (const f of filters) {
    if (f.resourceType === ResourceType.UNKNOWN || f.patternType === PatternType.UNKNOWN) {
      results.push({ ...invalid("Unknown patternFilter."), matching: [] });
      continue;
    }
    if (f.operation === AclOperation.UNKNOWN || f.permissionType === AclPermission.UNKNOWN) {
      results.push({ ...invalid("Unknown entryFilter."), matching: [] });
      continue;
    }
    const matching: AclBinding[] = [];
    for (const acl of image.acls.values()) {
      if (!filterMatches(f, acl)) continue;
      matching.push(pick(acl));
      removed.add(acl.id);
    }
    if (removed.size > ACL_RECORDS_PER_REQUEST_MAX) {
      const error = invalid(
        `Cannot remove more than ${ACL_RECORDS_PER_REQUEST_MAX} acls in a single delete operation.`,
      );
      return { records: [], results: filters.map(() => ({ ...error, matching: [] })) };
    }
    results.push({ ...OK, matching });
  }
  const records: MetadataRecord[] = [...removed].map((id) => ({
    type: "RemoveAccessControlEntry",
    data: { id },
  }));
  return { records, results };
}

/** Kafka's StandardAuthorizer.acls(filter) (DescribeAcls), grouped by resource pattern. */
export function describeAcls(
  image: MetadataImage,
  filter: AclFilter,
): { resourceType: number; resourceName: string; patternType: number; acls: AclBinding[] }[] {
  const byPattern = new Map<
    string,
    { resourceType: number; resourceName: string; patternType: number; acls: AclBinding[] }
  >();
  for (const acl of image.acls.values()) {
    if (!filterMatches(filter, acl)) continue;
    const key = JSON.stringify([acl.resourceType, acl.resourceName, acl.patternType]);
    let entry = byPattern.get(key);
    if (entry === undefined) {
      entry = {
        resourceType: acl.resourceType,
        resourceName: acl.resourceName,
        patternType: acl.patternType,
        acls: [],
      };
      byPattern.set(key, entry);
    }
    entry.acls.push(pick(acl));
  }
  return [...byPattern.values()];
}
