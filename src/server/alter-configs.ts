/**
 * Shared by AlterConfigs and IncrementalAlterConfigs: topic and broker resources go to the
 * controller (broker resources: "" for cluster-wide defaults, a broker id for that broker); other
 * resource types are INVALID_REQUEST.
 */

import type { ConfigAlteration } from "../metadata/controller.js";
import { CONFIG_RESOURCE_TYPE } from "../metadata/records.js";
import { ErrorCode } from "../protocol/generated/error-codes.js";
import type { BrokerContext } from "./services.js";

export interface AlterResult {
  errorCode: number;
  errorMessage: string | null;
  resourceType: number;
  resourceName: string;
}

export async function alterResource(
  broker: BrokerContext,
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
    const r = await broker.controller.alterTopicConfigs(resourceName, alterations, incremental, validateOnly);
    return answer(r.errorCode, r.errorMessage);
  }
  if (resourceType === CONFIG_RESOURCE_TYPE.BROKER) {
    const r = await broker.controller.alterBrokerConfigs(
      resourceName,
      alterations,
      incremental,
      validateOnly,
    );
    return answer(r.errorCode, r.errorMessage);
  }
  return answer(ErrorCode.INVALID_REQUEST, `Krill does not alter configs of resource type ${resourceType}`);
}
