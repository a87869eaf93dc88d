/**
 * BrokerRegistration (key 62), versions 0-4, on the controller listener: a broker registers with
 * the active controller (cluster-control.ts): RegisterBrokerRecord, fenced, with its listeners,
 * features, rack and log directories; the reply carries the broker epoch. v1+ ZooKeeper
 * migration brokers are refused as in Kafka 4.
 */
import { BROKER_REGISTRATION_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { defineHandler } from "../registry.js";
import { controllerErrorCode } from "./errors.js";

export const handler = defineHandler({
  api: BROKER_REGISTRATION_API,
  minVersion: 0,
  maxVersion: 4,
  ordering: "concurrent",
  async handle(ctx, request) {
    if (request.isMigratingZkBroker) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.BROKER_ID_NOT_REGISTERED, brokerEpoch: -1n };
    }
    try {
      const reply = await ctx.broker.controller.registerBroker({
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
      return { throttleTimeMs: 0, errorCode: reply.errorCode, brokerEpoch: reply.brokerEpoch };
    } catch (err) {
      return { throttleTimeMs: 0, errorCode: controllerErrorCode(err, ctx.logger), brokerEpoch: -1n };
    }
  },
});
