/**
 * SCRAM credentials in the metadata log, as Kafka's ScramControlManager keeps them: an
 * AlterUserScramCredentials request becomes UserScramCredentialRecord (upsertion: the client sent
 * the salt and salted password; the stored and server keys are derived here, so the password is
 * never stored) and RemoveUserScramCredentialRecord (deletion) records, validated against the
 * image with Kafka's errors and messages. DescribeUserScramCredentials reads the image.
 */
import { ErrorCode } from "../protocol/generated/error-codes.js";
import { credentialFromSaltedPassword, scramMechanismByType } from "../server/sasl/scram.js";
import type { MetadataImage } from "./image.js";
import type { MetadataRecord } from "./records.js";

/** Kafka's ScramControlManager.MAX_ITERATIONS. */
export const SCRAM_MAX_ITERATIONS = 16384;

export interface ScramDeletion {
  readonly name: string;
  readonly mechanism: number;
}

export interface ScramUpsertion {
  readonly name: string;
  readonly mechanism: number;
  readonly iterations: number;
  readonly salt: Buffer;
  readonly saltedPassword: Buffer;
}

export interface ScramAlterResult {
  readonly user: string;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

interface ApiError {
  readonly code: number;
  readonly message: string;
}

const DUPLICATE: ApiError = {
  code: ErrorCode.DUPLICATE_RESOURCE,
  message: "A user credential cannot be altered twice in the same request",
};

function validateNameAndMechanism(name: string, mechanism: number): ApiError | undefined {
  if (name === "") return { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: "Username must not be empty" };
  if (scramMechanismByType(mechanism) === undefined) {
    return { code: ErrorCode.UNSUPPORTED_SASL_MECHANISM, message: "Unknown SCRAM mechanism" };
  }
  return undefined;
}

/** Kafka's ScramControlManager.alterCredentials: the records to commit and one result per user. */
export function scramAlterRecords(
  image: MetadataImage,
  deletions: readonly ScramDeletion[],
  upsertions: readonly ScramUpsertion[],
): { records: MetadataRecord[]; results: ScramAlterResult[] } {
  const toDelete = new Map<string, ScramDeletion>();
  const toUpsert = new Map<string, ScramUpsertion>();
  const errors = new Map<string, ApiError>();
  for (const d of deletions) {
    if (errors.has(d.name)) continue;
    if (toDelete.delete(d.name)) {
      errors.set(d.name, DUPLICATE);
      continue;
    }
    const error =
      validateNameAndMechanism(d.name, d.mechanism) ??
      (image.scramCredential(d.name, d.mechanism) === undefined
        ? {
            code: ErrorCode.RESOURCE_NOT_FOUND,
            message: "Attempt to delete a user credential that does not exist",
          }
        : undefined);
    if (error !== undefined) errors.set(d.name, error);
    else toDelete.set(d.name, d);
  }
  for (const u of upsertions) {
    if (errors.has(u.name)) continue;
    if (toDelete.delete(u.name) || toUpsert.delete(u.name)) {
      errors.set(u.name, DUPLICATE);
      continue;
    }
    let error = validateNameAndMechanism(u.name, u.mechanism);
    const mechanism = scramMechanismByType(u.mechanism);
    if (error === undefined && mechanism !== undefined) {
      if (u.iterations < mechanism.minIterations)
        error = { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: "Too few iterations" };
      else if (u.iterations > SCRAM_MAX_ITERATIONS)
        error = { code: ErrorCode.UNACCEPTABLE_CREDENTIAL, message: "Too many iterations" };
    }
    if (error !== undefined) errors.set(u.name, error);
    else toUpsert.set(u.name, u);
  }
  const records: MetadataRecord[] = [];
  const results: ScramAlterResult[] = [];
  for (const d of toDelete.values()) {
    records.push({ type: "RemoveUserScramCredential", data: { name: d.name, mechanism: d.mechanism } });
    results.push({ user: d.name, errorCode: ErrorCode.NONE, errorMessage: null });
  }
  for (const u of toUpsert.values()) {
    const credential = credentialFromSaltedPassword(
      scramMechanismByType(u.mechanism)!,
      u.salt,
      u.saltedPassword,
      u.iterations,
    );
    records.push({
      type: "UserScramCredential",
      data: { name: u.name, mechanism: u.mechanism, ...credential },
    });
    results.push({ user: u.name, errorCode: ErrorCode.NONE, errorMessage: null });
  }
  for (const [user, e] of errors) results.push({ user, errorCode: e.code, errorMessage: e.message });
  return { records, results };
}

export interface ScramDescribeResult {
  readonly user: string;
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly credentialInfos: ReadonlyArray<{ readonly mechanism: number; readonly iterations: number }>;
}

/** Kafka's ScramImage.describe: every user with a credential when `users` is null or empty. */
export function describeScramCredentials(
  image: MetadataImage,
  users: readonly string[] | null,
): ScramDescribeResult[] {
  const unique = new Map<string, boolean>();
  if (users === null || users.length === 0) {
    for (const c of image.scramCredentials.values()) unique.set(c.name, false);
  } else {
    for (const u of users) unique.set(u, unique.has(u));
  }
  const out: ScramDescribeResult[] = [];
  for (const [user, duplicate] of unique) {
    if (duplicate) {
      out.push({
        user,
        errorCode: ErrorCode.DUPLICATE_RESOURCE,
        errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`,
        credentialInfos: [],
      });
      continue;
    }
    const infos: { mechanism: number; iterations: number }[] = [];
    for (const type of [1, 2]) {
      const c = image.scramCredential(user, type);
      if (c !== undefined) infos.push({ mechanism: type, iterations: c.iterations });
    }
    if (infos.length === 0) {
      out.push({
        user,
        errorCode: ErrorCode.RESOURCE_NOT_FOUND,
        errorMessage: `Attempt to describe a user credential that does not exist: ${user}`,
        credentialInfos: [],
      });
    } else out.push({ user, errorCode: ErrorCode.NONE, errorMessage: null, credentialInfos: infos });
  }
  return out;
}
