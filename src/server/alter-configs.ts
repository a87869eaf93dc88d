/**
 * Shared by AlterConfigs and IncrementalAlterConfigs: topic and broker resources go to the
 * controller (broker resources: "" for cluster-wide defaults, a broker id for that broker); other
 * resource types are INVALID_REQUEST. Which controller (this node's, or the active one through
 * the channel) the handler decides by listener (controller-apis.ts); a controller that is not
 * active answers every resource NOT_CONTROLLER.
 */

import { AclOperation, ResourceType } from "../metadata/acls.js";
import type { ConfigAlteration } from "../metadata/controller.js";
import type { ControllerChannel } from "../metadata/controller-channel.js";
import { CONFIG_RESOURCE_TYPE } from "../metadata/records.js";
import { ErrorCode } from "../protocol/generated/error-codes.js";
import { authorize, authorizeCluster } from "./auth.js";
import { runOnController } from "./controller-apis.js";
import type { RequestContext } from "./registry.js";

export interface AlterResult {
  errorCode: number;
  errorMessage: string | null;
  resourceType: number;
  resourceName: string;
}

export interface AlterResource {
  readonly resourceType: number;
  readonly resourceName: string;
  readonly alterations: readonly ConfigAlteration[];
}

/** Alters each resource in turn on the controller serving this request; one answer per resource. */
export async function alterResources(
  ctx: RequestContext,
  resources: readonly AlterResource[],
  incremental: boolean,
  validateOnly: boolean,
): Promise<AlterResult[]> {
  // Kafka's (Incremental)AlterConfigs: ALTER_CONFIGS on the topic, or on the cluster for broker
  // configs; a denied resource is answered with the authorization error and not altered.
  const denied = resources.map((r) => deniedAlteration(ctx, r));
  const allowed = resources.filter((_, i) => denied[i] === undefined);
  const altered = await alterOnController(ctx, allowed, incremental, validateOnly);
  let next = 0;
  return resources.map((r, i) => {
    const errorCode = denied[i];
    if (errorCode === undefined) return altered[next++]!;
    return { errorCode, errorMessage: null, resourceType: r.resourceType, resourceName: r.resourceName };
  });
}

function deniedAlteration(ctx: RequestContext, r: AlterResource): number | undefined {
  if (r.resourceType === CONFIG_RESOURCE_TYPE.TOPIC) {
    return authorize(ctx, AclOperation.ALTER_CONFIGS, ResourceType.TOPIC, r.resourceName)
      ? undefined
      : ErrorCode.TOPIC_AUTHORIZATION_FAILED;
  }
  if (r.resourceType === CONFIG_RESOURCE_TYPE.BROKER) {
    return authorizeCluster(ctx, AclOperation.ALTER_CONFIGS)
      ? undefined
      : ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
  }
  return undefined;
}

function alterOnController(
  ctx: RequestContext,
  resources: readonly AlterResource[],
  incremental: boolean,
  validateOnly: boolean,
): Promise<AlterResult[]> {
  if (resources.length === 0) return Promise.resolve([]);
  return runOnController(
    ctx,
    async (controller) => {
      const results: AlterResult[] = [];
      for (const r of resources) {
        results.push(
          await alterResource(
            controller,
            r.resourceType,
            r.resourceName,
            r.alterations,
            incremental,
            validateOnly,
          ),
        );
      }
      return results;
    },
    (message) =>
      resources.map((r) => ({
        errorCode: ErrorCode.NOT_CONTROLLER,
        errorMessage: message,
        resourceType: r.resourceType,
        resourceName: r.resourceName,
      })),
  );
}

async function alterResource(
  controller: ControllerChannel,
  resourceType: number,
  resourceName: string,
  alterations: readonly ConfigAlteration[],
  incremental: boolean,
  validateOnly: boolean,
): Promise<AlterResult> {
  const answer = (errorCode: number, errorMessage: string | null): AlterResult => ({
    errorCode,
    errorMessage,
    resourceType,
    resourceName,
  });
  if (resourceType === CONFIG_RESOURCE_TYPE.TOPIC) {
    const r = await controller.alterTopicConfigs(resourceName, alterations, incremental, validateOnly);
    return answer(r.errorCode, r.errorMessage);
  }
  if (resourceType === CONFIG_RESOURCE_TYPE.BROKER) {
    const r = await controller.alterBrokerConfigs(resourceName, alterations, incremental, validateOnly);
    return answer(r.errorCode, r.errorMessage);
  }
  return answer(ErrorCode.INVALID_REQUEST, `Krill does not alter configs of resource type ${resourceType}`);
}
