/**
 * IncrementalAlterConfigs (key 44), versions 0-1.
 *
 * Edits a topic's overrides key by key: SET (0), DELETE (1), and for list-typed keys (cleanup.policy,
 * the throttled-replica lists) APPEND (2) and SUBTRACT (3). The resulting set is validated as a
 * whole before anything is written (INVALID_CONFIG naming the key). Unknown topics get
 * UNKNOWN_TOPIC_OR_PARTITION.
 * BROKER resources ("" = cluster-wide default, else this broker's id)
 * take SET and DELETE on dynamic broker configs; keys that cannot change at run time are
 * INVALID_REQUEST, bad values INVALID_CONFIG. On a controller listener only the active
 * controller alters (else NOT_CONTROLLER for every resource); a broker listener forwards when the
 * controller is elsewhere (controller-apis.ts).
 */
import { INCREMENTAL_ALTER_CONFIGS_API } from "../../protocol/generated/apis.js";
import { alterResources } from "../alter-configs.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: INCREMENTAL_ALTER_CONFIGS_API,
  minVersion: 0,
  maxVersion: 1,
  ordering: "concurrent",
  async handle(ctx, request) {
    const resources = request.resources.map((r) => ({
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      alterations: r.configs.map((c) => ({ name: c.name, value: c.value, op: c.configOperation })),
    }));
    return { throttleTimeMs: 0, responses: await alterResources(ctx, resources, true, request.validateOnly) };
  },
});
