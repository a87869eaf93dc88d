/**
 * ApiVersions (key 18), versions 0-5.
 *
 * Lists every API in the handler registry with the versions its handler serves, so the broker
 * never advertises what it cannot answer. v3+ also carries features: metadata.version is supported
 * from 3.3-IV3 (7) to 4.0-IV3 (25) and finalized at the level in the metadata image, with the image
 * offset as the finalized-features epoch, as Kafka 4 reports it (Java 4.x clients read it).
 * v3+ requests name the client software; names that break Kafka's pattern get INVALID_REQUEST.
 * v5 (KIP-1242) names the cluster and node the client means to reach: both or neither (one alone
 * is INVALID_REQUEST); when given and either differs from this broker's, REBOOTSTRAP_REQUIRED, so
 * a client whose address now points at another cluster or node rebootstraps. Both errors carry no
 * API list, as Kafka answers them.
 * An ApiVersions request at a version above 5 never reaches this module: the dispatcher answers it
 * in v0 format with UNSUPPORTED_VERSION (KIP-511).
 */

import {
  METADATA_VERSION_FEATURE,
  METADATA_VERSION_LATEST,
  METADATA_VERSION_MIN,
} from "../../metadata/features.js";
import type { ApiVersionsRequest } from "../../protocol/generated/api-versions-request.js";
import type { ApiVersionsResponse } from "../../protocol/generated/api-versions-response.js";
import { API_VERSIONS_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { defineHandler, type HandlerRegistry } from "../registry.js";

const NODE_ID_NONE = -1;

/** Kafka's ApiVersionsRequest.isValid pattern for client software name and version. */
const SOFTWARE_PATTERN = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

function apiKeys(registry: HandlerRegistry): ApiVersionsResponse["apiKeys"] {
  return registry
    .all()
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
    const keys = apiKeys(ctx.broker.registry);
    const image = ctx.broker.image();
    const level = image.features.get(METADATA_VERSION_FEATURE);
    return {
      ...response(ErrorCode.NONE, keys),
      supportedFeatures: [
        {
          name: METADATA_VERSION_FEATURE,
          minVersion: METADATA_VERSION_MIN,
          maxVersion: METADATA_VERSION_LATEST,
        },
      ],
      finalizedFeaturesEpoch: BigInt(image.offset),
      finalizedFeatures:
        level === undefined
          ? []
          : [{ name: METADATA_VERSION_FEATURE, minVersionLevel: level, maxVersionLevel: level }],
    };
  },
});
