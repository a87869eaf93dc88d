/**
 * UpdateFeatures (api key 57), versions 0-2: `kafka-features upgrade / downgrade / disable`. The
 * controller checks every update against the levels in force and what this node supports, and
 * records all of them or none (src/metadata/feature-control.ts, Kafka's FeatureControlManager):
 * INVALID_UPDATE_VERSION with Kafka's message otherwise. On a broker listener the request goes
 * through the controller channel (forwarded to the active controller in a quorum), on a
 * controller listener to this node's controller if active (NOT_CONTROLLER otherwise), as Kafka
 * splits KafkaApis and ControllerApis. ALTER on the cluster is required
 * (CLUSTER_AUTHORIZATION_FAILED) when an authorizer is configured. v0 says downgrade with AllowDowngrade (a safe downgrade);
 * v1 adds the upgrade type and validate-only; v0-1 repeat the answer per feature (Kafka's
 * UpdateFeaturesResponse.createWithErrors), v2 answers once.
 */
import { AclOperation, CLUSTER_NAME, ResourceType } from "../../metadata/acls.js";
import type { FeatureUpdate } from "../../metadata/feature-control.js";
import { UpgradeType } from "../../metadata/feature-control.js";
import { UPDATE_FEATURES_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { UpdateFeaturesResponse } from "../../protocol/generated/update-features-response.js";
import { authorize } from "../auth.js";
import { runOnController } from "../controller-apis.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: UPDATE_FEATURES_API,
  minVersion: 0,
  maxVersion: 2,
  ordering: "serial",
  async handle(ctx, request): Promise<UpdateFeaturesResponse> {
    const updates: FeatureUpdate[] = request.featureUpdates.map((u) => ({
      feature: u.feature,
      maxVersionLevel: u.maxVersionLevel,
      upgradeType:
        ctx.apiVersion === 0
          ? u.allowDowngrade
            ? UpgradeType.SAFE_DOWNGRADE
            : UpgradeType.UPGRADE
          : u.upgradeType,
    }));
    const validateOnly = ctx.apiVersion >= 1 && request.validateOnly;
    // Kafka's handleUpdateFeatures: ALTER on the cluster.
    const result = !authorize(ctx, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME)
      ? {
          errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          errorMessage: "Cluster authorization failed.",
        }
      : await runOnController(
          ctx,
          (controller) => controller.updateFeatures(updates, validateOnly, { timeoutMs: request.timeoutMs }),
          (message) => ({ errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: message }),
        );
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      errorMessage: result.errorMessage,
      results:
        ctx.apiVersion <= 1
          ? updates.map((u) => ({
              feature: u.feature,
              errorCode: result.errorCode,
              errorMessage: result.errorMessage,
            }))
          : [],
    };
  },
});
