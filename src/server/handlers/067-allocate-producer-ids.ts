/**
 * AllocateProducerIds (key 67), version 0; served on controller listeners only (its spec's
 * listeners), as Kafka's ControllerApis.
 *
 * A broker reserves a block of producer ids for InitProducerId. The active controller checks that
 * the broker epoch is the broker's current registration (else STALE_BROKER_EPOCH, as Kafka's
 * ProducerIdControlManager) and answers once the ProducerIds record is committed. A controller
 * that is not active answers NOT_CONTROLLER.
 */
import { AclOperation } from "../../metadata/acls.js";
import { ALLOCATE_PRODUCER_IDS_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { authorizeCluster } from "../auth.js";
import { runOnController } from "../controller-apis.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: ALLOCATE_PRODUCER_IDS_API,
  minVersion: 0,
  maxVersion: 0,
  ordering: "concurrent",
  handle(ctx, request) {
    const failed = (errorCode: number) => ({
      throttleTimeMs: 0,
      errorCode,
      producerIdStart: -1n,
      producerIdLen: -1,
    });
    // Kafka's ControllerApis: CLUSTER_ACTION.
    if (!authorizeCluster(ctx, AclOperation.CLUSTER_ACTION))
      return failed(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    return runOnController(
      ctx,
      async (controller) => {
        const registration = ctx.broker.image().brokers.get(request.brokerId);
        if (registration === undefined || registration.brokerEpoch !== request.brokerEpoch) {
          return failed(ErrorCode.STALE_BROKER_EPOCH);
        }
        const block = await controller.allocateProducerIds(request.brokerId, request.brokerEpoch);
        return {
          throttleTimeMs: 0,
          errorCode: ErrorCode.NONE,
          producerIdStart: block.firstProducerId,
          producerIdLen: block.count,
        };
      },
      () => failed(ErrorCode.NOT_CONTROLLER),
    );
  },
});
