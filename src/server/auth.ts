/**
 * What handlers call to authorize a request, as Kafka's AuthHelper: every function allows
 * everything when the broker has no authorizer (`ctx.broker.authorizer` undefined), else asks the
 * StandardAuthorizer (authorizer.ts) for the request's principal and client address.
 *
 * The principal of a connection (Kafka's DefaultKafkaPrincipalBuilder): `User:<name>` once SASL
 * authenticated it, `User:<distinguished name>` of a verified TLS client certificate, else
 * `User:ANONYMOUS` (PLAINTEXT, or TLS without a client certificate).
 */
import { CLUSTER_NAME, ResourceType } from "../metadata/acls.js";
import { type AuthorizeOptions, allOperations, clientHost, type RequestIdentity } from "./authorizer.js";
import type { ConnectionInfo } from "./network/connection.js";
import type { RequestContext } from "./registry.js";

export const ANONYMOUS = "User:ANONYMOUS";

export function connectionPrincipal(connection: ConnectionInfo): string {
  return connection.sasl?.principal ?? connection.tlsPrincipal ?? ANONYMOUS;
}

function identity(ctx: RequestContext): RequestIdentity {
  return {
    principal: connectionPrincipal(ctx.connection),
    host: clientHost(ctx.connection.remoteAddress),
    apiName: ctx.broker.registry.get(ctx.apiKey)?.name ?? String(ctx.apiKey),
  };
}

/** Kafka's AuthHelper.authorize on a LITERAL resource. */
export function authorize(
  ctx: RequestContext,
  operation: number,
  resourceType: number,
  name: string,
  options?: AuthorizeOptions,
): boolean {
  const authorizer = ctx.broker.authorizer;
  if (authorizer === undefined) return true;
  return authorizer.authorize(identity(ctx), operation, resourceType, name, options);
}

/** An operation on the cluster resource (`kafka-cluster`). */
export function authorizeCluster(
  ctx: RequestContext,
  operation: number,
  options?: AuthorizeOptions,
): boolean {
  return authorize(ctx, operation, ResourceType.CLUSTER, CLUSTER_NAME, options);
}

/** Kafka's filterByAuthorized: the names of `names` the request may perform `operation` on. */
export function filterAuthorized(
  ctx: RequestContext,
  operation: number,
  resourceType: number,
  names: Iterable<string>,
  options?: AuthorizeOptions,
): Set<string> {
  const unique = new Set(names);
  const authorizer = ctx.broker.authorizer;
  if (authorizer === undefined) return unique;
  const who = identity(ctx);
  const out = new Set<string>();
  for (const name of unique)
    if (authorizer.authorize(who, operation, resourceType, name, options)) out.add(name);
  return out;
}

/** Kafka's AuthHelper.authorizedOperations: every supported operation without an authorizer. */
export function authorizedOperations(ctx: RequestContext, resourceType: number, name: string): number {
  const authorizer = ctx.broker.authorizer;
  if (authorizer === undefined) return allOperations(resourceType);
  return authorizer.authorizedOperations(identity(ctx), resourceType, name);
}

/** Kafka's AuthHelper.authorizeByResourceType. */
export function authorizeByResourceType(
  ctx: RequestContext,
  operation: number,
  resourceType: number,
): boolean {
  const authorizer = ctx.broker.authorizer;
  if (authorizer === undefined) return true;
  return authorizer.authorizeByResourceType(identity(ctx), operation, resourceType);
}

/** A topic entry answered with one error for each of its partitions (a denied topic or group). */
export function failedTopic<T extends { partitions: readonly { partitionIndex: number }[] }>(
  topic: T,
  errorCode: number,
): Omit<T, "partitions"> & { partitions: { partitionIndex: number; errorCode: number }[] } {
  return {
    ...topic,
    partitions: topic.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
  };
}
