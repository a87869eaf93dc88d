/**
 * AlterPartition (key 56), versions 2-3, on the controller listener: a partition leader proposes
 * a new ISR (replication-control.ts checks broker, leader and partition epochs and eligibility).
 * v2 names the new ISR without broker epochs; it is passed on with epoch -1 (not checked), as
 * Kafka does.
 */
import { ALTER_PARTITION_API } from "../../protocol/generated/apis.js";
import { defineHandler } from "../registry.js";
import { controllerErrorCode } from "./errors.js";

export const handler = defineHandler({
  api: ALTER_PARTITION_API,
  minVersion: 2,
  maxVersion: 3,
  ordering: "concurrent",
  async handle(ctx, request) {
    const withEpochs =
      ctx.apiVersion >= 3
        ? request
        : {
            ...request,
            topics: request.topics.map((t) => ({
              ...t,
              partitions: t.partitions.map((p) => ({
                ...p,
                newIsrWithEpochs: p.newIsr.map((brokerId) => ({ brokerId, brokerEpoch: -1n })),
              })),
            })),
          };
    try {
      return await ctx.broker.controller.alterPartition(withEpochs);
    } catch (err) {
      return { throttleTimeMs: 0, errorCode: controllerErrorCode(err, ctx.logger), topics: [] };
    }
  },
});
