/**
 * Client quotas in the metadata log, as Kafka's ClientQuotaControlManager writes them and its
 * ClientQuotasImage reads them: AlterClientQuotas becomes ClientQuotaRecords (one per key set or
 * removed, only when the value changes), validated against the image with Kafka's errors and
 * messages; DescribeClientQuotas filters the image. Every node applies the same records, so every
 * node enforces the same quotas (src/server/quotas/).
 *
 * An entity is a set of (type, name) pairs: `user`, `client-id` (either or both) or `ip`; a null
 * name is the default entity of its type (`--entity-default`). Krill enforces the user/client-id
 * keys (producer_byte_rate, consumer_byte_rate, request_percentage, controller_mutation_rate) and
 * not the IP connection-rate quota, so an `ip` entity is refused rather than stored unenforced.
 */
import { ErrorCode } from "../protocol/generated/error-codes.js";
import type { ClientQuotaRecordData, MetadataRecord } from "./records.js";

export const QUOTA_ENTITY_USER = "user";
export const QUOTA_ENTITY_CLIENT_ID = "client-id";
export const QUOTA_ENTITY_IP = "ip";

/** Kafka's QuotaConfig keys for users and client ids, with their ConfigDef types. */
export const PRODUCER_BYTE_RATE = "producer_byte_rate";
export const CONSUMER_BYTE_RATE = "consumer_byte_rate";
export const REQUEST_PERCENTAGE = "request_percentage";
export const CONTROLLER_MUTATION_RATE = "controller_mutation_rate";
const USER_CLIENT_QUOTA_TYPES: ReadonlyMap<string, "LONG" | "DOUBLE"> = new Map([
  [PRODUCER_BYTE_RATE, "LONG"],
  [CONSUMER_BYTE_RATE, "LONG"],
  [REQUEST_PERCENTAGE, "DOUBLE"],
  [CONTROLLER_MUTATION_RATE, "DOUBLE"],
]);

/** Entity type to name (null: the default entity), as Kafka's ClientQuotaEntity map. */
export type QuotaEntity = ReadonlyMap<string, string | null>;

export interface ClientQuotaEntry {
  readonly entity: QuotaEntity;
  /** Quota key to value. Never empty in an image. */
  readonly values: ReadonlyMap<string, number>;
}

/** The canonical key of an entity: its pairs sorted by type. */
export function quotaEntityKey(entity: QuotaEntity): string {
  return JSON.stringify([...entity].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Kafka's ClientQuotaEntity.toString (as its messages print it). */
function entityText(entity: QuotaEntity): string {
  return `ClientQuotaEntity(entries={${[...entity].map(([t, n]) => `${t}=${n}`).join(", ")}})`;
}

/** Applies one ClientQuotaRecord to a copy-on-write map of entries (image.ts). */
export function applyClientQuotaRecord(
  quotas: Map<string, ClientQuotaEntry>,
  record: ClientQuotaRecordData,
): void {
  const entity: QuotaEntity = new Map(record.entity.map((e) => [e.entityType, e.entityName]));
  const key = quotaEntityKey(entity);
  const values = new Map(quotas.get(key)?.values);
  if (record.remove) values.delete(record.key);
  else values.set(record.key, record.value);
  if (values.size === 0) quotas.delete(key);
  else quotas.set(key, { entity, values });
}

/** The records that rebuild `quotas` (a snapshot). */
export function clientQuotaSnapshotRecords(quotas: ReadonlyMap<string, ClientQuotaEntry>): MetadataRecord[] {
  const out: MetadataRecord[] = [];
  for (const q of quotas.values()) {
    for (const [key, value] of q.values) {
      out.push({ type: "ClientQuota", data: { entity: entityData(q.entity), key, value, remove: false } });
    }
  }
  return out;
}

function entityData(entity: QuotaEntity): { entityType: string; entityName: string | null }[] {
  return [...entity].map(([entityType, entityName]) => ({ entityType, entityName }));
}

export interface QuotaAlteration {
  /** As sent: a type may appear twice (refused). */
  readonly entity: ReadonlyArray<{ readonly entityType: string; readonly entityName: string | null }>;
  /** value null: remove the key. */
  readonly ops: ReadonlyArray<{ readonly key: string; readonly value: number | null }>;
}

export interface QuotaAlterResult {
  readonly entity: ReadonlyArray<{ readonly entityType: string; readonly entityName: string | null }>;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

interface ApiError {
  readonly code: number;
  readonly message: string;
}

function invalid(message: string): ApiError {
  return { code: ErrorCode.INVALID_REQUEST, message };
}

/** Kafka's validateEntity and configKeysForEntityType, for the entity as sent. */
function validateEntity(alteration: QuotaAlteration): ApiError | undefined {
  if (alteration.entity.length === 0) return invalid("Invalid empty client quota entity");
  const seen = new Set<string>();
  for (const { entityType, entityName } of alteration.entity) {
    if (seen.has(entityType)) {
      return invalid(`Invalid client quota entity, duplicate entity entry ${entityType}`);
    }
    seen.add(entityType);
    if (
      entityType !== QUOTA_ENTITY_USER &&
      entityType !== QUOTA_ENTITY_CLIENT_ID &&
      entityType !== QUOTA_ENTITY_IP
    ) {
      return invalid(`Unhandled client quota entity type: ${entityType}`);
    }
    if (entityName !== null && entityName === "") return invalid(`Empty ${entityType} not supported`);
  }
  if (seen.has(QUOTA_ENTITY_IP)) {
    if (seen.size > 1) {
      return invalid(
        "Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId",
      );
    }
    // Kafka stores connection_creation_rate for IPs; Krill does not limit connection creation,
    // so it stores nothing it would not enforce (fail closed).
    return invalid(
      "Krill does not enforce IP quotas (connection_creation_rate); only user and client-id quotas are supported",
    );
  }
  return undefined;
}

/** Kafka's validateQuotaKeyValue for the user/client-id keys. */
function validateKeyValue(key: string, value: number): ApiError | undefined {
  const type = USER_CLIENT_QUOTA_TYPES.get(key);
  if (type === undefined) return invalid(`Invalid configuration key ${key}`);
  if (value <= 0) return invalid(`Quota ${key} must be greater than 0`);
  if (type === "LONG") {
    // Java compares the double with Long.MAX_VALUE as a double: 2^63.
    if (value > 2 ** 63) return invalid(`Proposed value for ${key} is too large for a LONG.`);
    if (Math.abs(value % 1) > 1e-6) return invalid(`${key} cannot be a fractional value.`);
  }
  return undefined;
}

/**
 * Kafka's ClientQuotaControlManager.alterClientQuotas: the records of every valid alteration
 * (committed together) and one result per entity, in request order. A key named twice for one
 * entity, or an entity named twice, fails that entity ("Ignoring duplicate entity", which is what
 * Kafka's map of results ends up saying for both).
 */
export function clientQuotaAlterRecords(
  quotas: ReadonlyMap<string, ClientQuotaEntry>,
  alterations: readonly QuotaAlteration[],
): { records: MetadataRecord[]; results: QuotaAlterResult[] } {
  const records: MetadataRecord[] = [];
  const results = new Map<string, QuotaAlterResult>();
  for (const alteration of alterations) {
    const entity: QuotaEntity = new Map(alteration.entity.map((e) => [e.entityType, e.entityName]));
    const entityKey = quotaEntityKey(entity);
    const result = (error: ApiError | undefined): QuotaAlterResult => ({
      entity: alteration.entity,
      errorCode: error?.code ?? ErrorCode.NONE,
      errorMessage: error?.message ?? null,
    });
    const keys = new Set<string>();
    let duplicateKey = false;
    for (const op of alteration.ops) {
      if (keys.has(op.key)) duplicateKey = true;
      keys.add(op.key);
    }
    if (results.has(entityKey) || duplicateKey) {
      results.set(entityKey, result(invalid(`Ignoring duplicate entity ${entityText(entity)}`)));
      continue;
    }
    const error = validateEntity(alteration);
    if (error !== undefined) {
      results.set(entityKey, result(error));
      continue;
    }
    const current = quotas.get(entityKey)?.values ?? new Map<string, number>();
    const entityRecords: MetadataRecord[] = [];
    let valueError: ApiError | undefined;
    for (const op of alteration.ops) {
      const data = entityData(entity);
      if (op.value === null) {
        if (current.has(op.key)) {
          entityRecords.push({
            type: "ClientQuota",
            data: { entity: data, key: op.key, value: 0, remove: true },
          });
        }
        continue;
      }
      valueError = validateKeyValue(op.key, op.value);
      if (valueError !== undefined) break;
      if (current.get(op.key) !== op.value) {
        entityRecords.push({
          type: "ClientQuota",
          data: { entity: data, key: op.key, value: op.value, remove: false },
        });
      }
    }
    if (valueError !== undefined) {
      results.set(entityKey, result(valueError));
      continue;
    }
    records.push(...entityRecords);
    results.set(entityKey, result(undefined));
  }
  return { records, results: [...results.values()] };
}

/** DescribeClientQuotas match types. */
const MATCH_TYPE_EXACT = 0;
const MATCH_TYPE_DEFAULT = 1;
const MATCH_TYPE_SPECIFIED = 2;

export interface QuotaFilterComponent {
  readonly entityType: string;
  readonly matchType: number;
  readonly match: string | null;
}

export type QuotaDescribeResult =
  | { readonly kind: "ok"; readonly entries: readonly ClientQuotaEntry[] }
  | { readonly kind: "error"; readonly errorCode: number; readonly errorMessage: string };

/** Kafka's ClientQuotasImage.describe: its validation, errors and matching. */
export function describeClientQuotas(
  quotas: ReadonlyMap<string, ClientQuotaEntry>,
  components: readonly QuotaFilterComponent[],
  strict: boolean,
): QuotaDescribeResult {
  const exact = new Map<string, string | null>();
  const typed = new Set<string>();
  const fail = (errorCode: number, errorMessage: string): QuotaDescribeResult => ({
    kind: "error",
    errorCode,
    errorMessage,
  });
  for (const c of components) {
    if (c.entityType === "") return fail(ErrorCode.INVALID_REQUEST, "Invalid empty entity type.");
    if (exact.has(c.entityType) || typed.has(c.entityType)) {
      return fail(
        ErrorCode.INVALID_REQUEST,
        `Entity type ${c.entityType} cannot appear more than once in the filter.`,
      );
    }
    if (
      c.entityType !== QUOTA_ENTITY_IP &&
      c.entityType !== QUOTA_ENTITY_USER &&
      c.entityType !== QUOTA_ENTITY_CLIENT_ID
    ) {
      return fail(ErrorCode.UNSUPPORTED_VERSION, `Unsupported entity type ${c.entityType}`);
    }
    switch (c.matchType) {
      case MATCH_TYPE_EXACT:
        if (c.match === null) {
          return fail(
            ErrorCode.INVALID_REQUEST,
            "Request specified MATCH_TYPE_EXACT, but set match string to null.",
          );
        }
        exact.set(c.entityType, c.match);
        break;
      case MATCH_TYPE_DEFAULT:
        if (c.match !== null) {
          return fail(
            ErrorCode.INVALID_REQUEST,
            "Request specified MATCH_TYPE_DEFAULT, but also specified a match string.",
          );
        }
        exact.set(c.entityType, null);
        break;
      case MATCH_TYPE_SPECIFIED:
        if (c.match !== null) {
          return fail(
            ErrorCode.INVALID_REQUEST,
            "Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.",
          );
        }
        typed.add(c.entityType);
        break;
      default:
        return fail(ErrorCode.INVALID_REQUEST, `Unknown match type ${c.matchType}`);
    }
  }
  const named = (t: string) => exact.has(t) || typed.has(t);
  if (named(QUOTA_ENTITY_IP) && (named(QUOTA_ENTITY_USER) || named(QUOTA_ENTITY_CLIENT_ID))) {
    return fail(
      ErrorCode.INVALID_REQUEST,
      "Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.",
    );
  }
  const entries: ClientQuotaEntry[] = [];
  for (const q of quotas.values()) {
    if (strict && q.entity.size !== exact.size + typed.size) continue;
    let ok = true;
    for (const [type, name] of exact) {
      if (!q.entity.has(type) || q.entity.get(type) !== name) ok = false;
    }
    for (const type of typed) if (!q.entity.has(type)) ok = false;
    if (ok) entries.push(q);
  }
  return { kind: "ok", entries };
}
