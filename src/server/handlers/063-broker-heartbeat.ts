/**
 * BrokerHeartbeat (key 63), versions 0-2, on the controller listener: keeps a broker's session
 * with the active controller, unfences it once caught up, and runs its controlled shutdown
 * (cluster-control.ts). A stale broker epoch is STALE_BROKER_EPOCH.
 */
import { AclOperation } from "../../metadata/acls.js";
import { BROKER_HEARTBEAT_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { authorizeCluster } from "../auth.js";
import { runOnController } from "../controller-apis.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: BROKER_HEARTBEAT_API,
  minVersion: 0,
  maxVersion: 2,
  ordering: "concurrent",
  handle(ctx, request) {
    const failed = (errorCode: number) => ({
      throttleTimeMs: 0,
      errorCode,
      isCaughtUp: false,
      isFenced: true,
      shouldShutDown: false,
    });
    // Kafka's ControllerApis: CLUSTER_ACTION.
    if (!authorizeCluster(ctx, AclOperation.CLUSTER_ACTION))
      return failed(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    return runOnController(
      ctx,
      async (controller) => {
        const reply = await controller.brokerHeartbeat({
          brokerId: request.brokerId,
          brokerEpoch: request.brokerEpoch,
          currentMetadataOffset: request.currentMetadataOffset,
          wantFence: request.wantFence,
          wantShutDown: request.wantShutDown,
          // Watched by the controller: the broker is fenced at once if it closes (kill -9).
          connection: ctx.connection,
        });
        return {
          throttleTimeMs: 0,
          errorCode: reply.errorCode,
          isCaughtUp: reply.isCaughtUp,
          isFenced: reply.isFenced,
          shouldShutDown: reply.shouldShutDown,
        };
      },
      () => failed(ErrorCode.NOT_CONTROLLER),
    );
  },
});
