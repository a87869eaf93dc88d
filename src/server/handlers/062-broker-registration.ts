/**
 * BrokerRegistration (key 62), versions 0-4; served on controller listeners only (its spec's
 * listeners), as Kafka's ControllerApis.
 *
 * A broker registers with the active controller at start-up: its id, incarnation, listeners,
 * rack and supported features. A registration for another cluster id is
 * INCONSISTENT_CLUSTER_ID; one whose metadata.version range leaves out the finalized level is
 * UNSUPPORTED_VERSION (Kafka's ClusterControlManager). The answer (with the broker epoch: the
 * offset of its RegisterBroker record) comes once the record is committed. A controller that is
 * not active answers NOT_CONTROLLER. Heartbeats, fencing and log directories are the controller's
 * registration logic (src/metadata), not this wire handler's.
 */
import { AclOperation } from "../../metadata/acls.js";
import { BROKER_REGISTRATION_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { authorizeCluster } from "../auth.js";
import { runOnController } from "../controller-apis.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: BROKER_REGISTRATION_API,
  minVersion: 0,
  maxVersion: 4,
  ordering: "concurrent",
  handle(ctx, request) {
    const answer = (errorCode: number, brokerEpoch = -1n) => ({ throttleTimeMs: 0, errorCode, brokerEpoch });
    // Kafka's ControllerApis: CLUSTER_ACTION.
    if (!authorizeCluster(ctx, AclOperation.CLUSTER_ACTION))
      return answer(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    return runOnController(
      ctx,
      async (controller) => {
        if (request.isMigratingZkBroker) return answer(ErrorCode.BROKER_ID_NOT_REGISTERED);
        // The controller checks cluster id, features and log directories (cluster-control.ts).
        const reply = await controller.registerBroker({
          brokerId: request.brokerId,
          clusterId: request.clusterId,
          incarnationId: request.incarnationId,
          listeners: request.listeners.map((l) => ({
            name: l.name,
            host: l.host,
            port: l.port,
            securityProtocol: l.securityProtocol,
          })),
          features: request.features.map((f) => ({
            name: f.name,
            minSupportedVersion: f.minSupportedVersion,
            maxSupportedVersion: f.maxSupportedVersion,
          })),
          rack: request.rack,
          logDirs: request.logDirs,
          previousBrokerEpoch: request.previousBrokerEpoch,
        });
        return answer(reply.errorCode, reply.brokerEpoch);
      },
      () => answer(ErrorCode.NOT_CONTROLLER),
    );
  },
});
