/**
 * DescribeCluster (key 60), versions 0-2.
 *
 * Cluster id, controller id (this node: clients cannot reach KRaft controllers, so Kafka reports a
 * broker too) and the unfenced brokers with their endpoint on the request's listener. v1 adds
 * endpoint_type: 1 (brokers) is served; 2 (controllers) is UNSUPPORTED_ENDPOINT_TYPE on a broker
 * listener, as in Kafka. v2 adds include_fenced_brokers (KIP-1073): fenced brokers are listed
 * too, with is_fenced true (before v2, and when not asked, only unfenced ones). Authorized operations are -2147483648 unless asked; Krill has no ACLs, so
 * when asked every cluster operation is allowed.
 */
import { DESCRIBE_CLUSTER_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { defineHandler } from "../registry.js";
import { AUTHORIZED_OPERATIONS_OMITTED, brokerEndpoints, CLUSTER_OPERATIONS_ALL } from "./003-metadata.js";

const ENDPOINT_TYPE_BROKERS = 1;

export const handler = defineHandler({
  api: DESCRIBE_CLUSTER_API,
  minVersion: 0,
  maxVersion: 2,
  ordering: "concurrent",
  handle(ctx, request) {
    const broker = ctx.broker;
    const base = {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      endpointType: ENDPOINT_TYPE_BROKERS,
      clusterId: broker.clusterId,
      controllerId: broker.nodeId,
      brokers: [] as {
        brokerId: number;
        host: string;
        port: number;
        rack: string | null;
        isFenced: boolean;
      }[],
      clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    };
    if (ctx.apiVersion >= 1 && request.endpointType !== ENDPOINT_TYPE_BROKERS) {
      return {
        ...base,
        errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
        errorMessage:
          "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER",
        endpointType: request.endpointType,
      };
    }
    return {
      ...base,
      brokers: brokerEndpoints(broker.image(), ctx.connection.listenerName, {
        includeFenced: ctx.apiVersion >= 2 && request.includeFencedBrokers,
      }).map((b) => ({
        brokerId: b.nodeId,
        host: b.host,
        port: b.port,
        rack: b.rack,
        isFenced: b.fenced,
      })),
      clusterAuthorizedOperations: request.includeClusterAuthorizedOperations
        ? CLUSTER_OPERATIONS_ALL
        : AUTHORIZED_OPERATIONS_OMITTED,
    };
  },
});
