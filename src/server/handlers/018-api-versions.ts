/**
 * ApiVersions (key 18), versions 0-4.
 *
 * Lists every API in the handler registry served on the request's kind of listener (broker or
 * controller) with the versions its handler serves, so the broker never advertises what it cannot
 * answer. v3+ also carries features: metadata.version is supported
 * from 3.3-IV3 (7) to 4.0-IV3 (25) and finalized at the level in the metadata image, with the image
 * offset as the finalized-features epoch, as Kafka 4 reports it (Java 4.x clients read it).
 * v3+ requests name the client software; names that break Kafka's pattern get INVALID_REQUEST.
 * An ApiVersions request at a version above 4 never reaches this module: the dispatcher answers it
 * in v0 format with UNSUPPORTED_VERSION (KIP-511).
 */

import {
  METADATA_VERSION_FEATURE,
  METADATA_VERSION_LATEST,
  METADATA_VERSION_MIN,
} from "../../metadata/features.js";
import type { ApiVersionsResponse } from "../../protocol/generated/api-versions-response.js";
import { API_VERSIONS_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { listenerKind } from "../dispatcher.js";
import { defineHandler, type HandlerRegistry, type ListenerKind } from "../registry.js";

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

export const handler = defineHandler({
  api: API_VERSIONS_API,
  minVersion: 0,
  maxVersion: 4,
  ordering: "concurrent",
  handle(ctx, request) {
    const keys = apiKeys(ctx.broker.registry, listenerKind(ctx.broker, ctx.connection));
    if (
      ctx.apiVersion >= 3 &&
      (!SOFTWARE_PATTERN.test(request.clientSoftwareName) ||
        !SOFTWARE_PATTERN.test(request.clientSoftwareVersion))
    ) {
      return response(ErrorCode.INVALID_REQUEST, keys);
    }
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
