/**
 * AlterConfigs (key 33), versions 0-2.
 *
 * Replaces a topic's whole set of overrides with the given one (keys not listed return to their
 * defaults), after validating every key and value (INVALID_CONFIG naming the key). Unknown topics
 * get UNKNOWN_TOPIC_OR_PARTITION.
 * BROKER resources ("" = cluster-wide default, else this broker's
 * id) replace that resource's dynamic broker configs the same way: keys that cannot change at run
 * time are INVALID_REQUEST, bad values INVALID_CONFIG.
 * validate_only writes nothing. On a controller listener only the active controller alters
 * (else NOT_CONTROLLER for every resource); a broker listener forwards when the controller is
 * elsewhere (controller-apis.ts).
 */
import { ALTER_CONFIGS_API } from "../../protocol/generated/apis.js";
import { alterResources } from "../alter-configs.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: ALTER_CONFIGS_API,
  minVersion: 0,
  maxVersion: 2,
  ordering: "concurrent",
  async handle(ctx, request) {
    const resources = request.resources.map((r) => ({
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      alterations: r.configs,
    }));
    return {
      throttleTimeMs: 0,
      responses: await alterResources(ctx, resources, false, request.validateOnly),
    };
  },
});
