/**
 * InitProducerId (api key 22), versions 0-5, for idempotent producers: every call gets a new
 * producer id with epoch 0 from a block reserved through the metadata log, so ids stay unique
 * across restarts. As in Kafka, a non-transactional producer that sends its current id and epoch
 * (v3+, KIP-360) also just gets a fresh id.
 *
 * A transactional id needs the transaction coordinator, which is not built yet: such requests
 * get COORDINATOR_NOT_AVAILABLE. A failed block reservation is COORDINATOR_LOAD_IN_PROGRESS
 * (retriable).
 */
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import {
  decodeInitProducerIdRequest,
  type InitProducerIdRequest,
} from "../../protocol/generated/init-producer-id-request.js";
import {
  encodeInitProducerIdResponse,
  type InitProducerIdResponse,
} from "../../protocol/generated/init-producer-id-response.js";
import { producerIdsOf } from "../partitions/component.js";
import { defineHandler } from "../registry.js";

function failure(errorCode: number): InitProducerIdResponse {
  return { throttleTimeMs: 0, errorCode, producerId: -1n, producerEpoch: -1 };
}

export const handler = defineHandler<InitProducerIdRequest, InitProducerIdResponse>({
  apiKey: 22,
  name: "InitProducerId",
  minVersion: 0,
  maxVersion: 5,
  flexibleMinVersion: 2,
  ordering: "serial",
  decodeRequest: decodeInitProducerIdRequest,
  encodeResponse: encodeInitProducerIdResponse,
  async handle(ctx, request) {
    if (request.transactionalId !== null) return failure(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    try {
      const producerId = await producerIdsOf(ctx.broker).nextProducerId();
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId, producerEpoch: 0 };
    } catch (err) {
      ctx.logger.warn({ err }, "producer id block reservation failed");
      return failure(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    }
  },
  errorResponse: (_version, errorCode) => failure(errorCode),
});
