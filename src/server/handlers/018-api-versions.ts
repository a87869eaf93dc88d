/**
 * ApiVersions (key 18), versions 0-5.
 *
 * Lists every API in the handler registry served on the request's kind of listener (broker or
 * controller) with the versions its handler serves, so the broker never advertises what it cannot
 * answer. v3+ also carries features (src/metadata/features.ts:
 * every feature Kafka 4.4 knows, at the range Krill implements; finalized levels as the metadata
 * image records them, else Krill's defaults, and kraft.version as the metadata log's), with the
 * image offset as the finalized-features epoch, as Kafka 4
 * reports it (Java 4.x clients read it; `kafka-features describe` prints it). Below v4, supported
 * features whose minimum is 0 are left out, as Kafka leaves them out for clients that fail on a
 * 0 minimum (KAFKA-17011).
 * v3+ requests name the client software; names that break Kafka's pattern get INVALID_REQUEST.
 * v5 (KIP-1242) names the cluster and node the client means to reach: both or neither (one alone
 * is INVALID_REQUEST); when given and either differs from this broker's, REBOOTSTRAP_REQUIRED, so
 * a client whose address now points at another cluster or node rebootstraps. Both errors carry no
 * API list, as Kafka answers them.
 * An ApiVersions request at a version above 5 never reaches this module: the dispatcher answers it
 * in v0 format with UNSUPPORTED_VERSION (KIP-511).
 */

import { finalizedFeatures, SUPPORTED_FEATURES } from "../../metadata/features.js";
import type { ApiVersionsRequest } from "../../protocol/generated/api-versions-request.js";
import type { ApiVersionsResponse } from "../../protocol/generated/api-versions-response.js";
import { API_VERSIONS_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { listenerKind } from "../dispatcher.js";
import { defineHandler, type HandlerRegistry, type ListenerKind } from "../registry.js";

const NODE_ID_NONE = -1;

/** Kafka's ApiVersionsRequest.isValid pattern for client software name and version. */
const SOFTWARE_PATTERN = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

function apiKeys(registry: HandlerRegistry, kind: ListenerKind): ApiVersionsResponse["apiKeys"] {
  return registry
    .servedOn(kind)
    .map((h) => ({ apiKey: h.apiKey, minVersion: h.advertisedMinVersion, maxVersion: h.maxVersion }));
}

function response(errorCode: number, keys: ApiVersionsResponse["apiKeys"]): ApiVersionsResponse {
  return {
    errorCode,
    apiKeys: keys,
    throttleTimeMs: 0,
    supportedFeatures: [],
    finalizedFeaturesEpoch: -1n,
    finalizedFeatures: [],
    zkMigrationReady: false,
  };
}

/** Kafka's ApiVersionsRequest.isValid, then the v5 cluster and node check (KIP-1242). */
function requestError(
  version: number,
  request: ApiVersionsRequest,
  clusterId: string,
  nodeId: number,
): number {
  if (
    version >= 3 &&
    (!SOFTWARE_PATTERN.test(request.clientSoftwareName) ||
      !SOFTWARE_PATTERN.test(request.clientSoftwareVersion))
  ) {
    return ErrorCode.INVALID_REQUEST;
  }
  if (version < 5) return ErrorCode.NONE;
  const named = request.clusterId !== null;
  if (named !== (request.nodeId !== NODE_ID_NONE)) return ErrorCode.INVALID_REQUEST;
  if (named && (request.clusterId !== clusterId || request.nodeId !== nodeId)) {
    return ErrorCode.REBOOTSTRAP_REQUIRED;
  }
  return ErrorCode.NONE;
}

export const handler = defineHandler({
  api: API_VERSIONS_API,
  minVersion: 0,
  maxVersion: 5,
  ordering: "concurrent",
  handle(ctx, request) {
    const error = requestError(ctx.apiVersion, request, ctx.broker.clusterId, ctx.broker.nodeId);
    if (error !== ErrorCode.NONE) return response(error, []);
    const keys = apiKeys(ctx.broker.registry, listenerKind(ctx.broker, ctx.connection));
    const image = ctx.broker.image();
    return {
      ...response(ErrorCode.NONE, keys),
      supportedFeatures: SUPPORTED_FEATURES.filter((f) => ctx.apiVersion >= 4 || f.minVersion > 0).map(
        (f) => ({ name: f.name, minVersion: f.minVersion, maxVersion: f.maxVersion }),
      ),
      finalizedFeaturesEpoch: BigInt(image.offset),
      finalizedFeatures: [...finalizedFeatures(image.features, ctx.broker.kraftVersion())].map(
        ([name, level]) => ({
          name,
          minVersionLevel: level,
          maxVersionLevel: level,
        }),
      ),
    };
  },
});
