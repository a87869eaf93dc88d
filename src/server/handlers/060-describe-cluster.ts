/**
 * DescribeCluster (key 60), versions 0-2.
 *
 * Cluster id, a controller id and nodes with their endpoint on the request's listener, as Kafka
 * 4 answers in KRaft (AuthHelper.computeDescribeClusterResponse):
 * - On a broker listener (endpoint_type 1, brokers): the unfenced brokers (v2's
 *   include_fenced_brokers, KIP-1073, adds the fenced ones with is_fenced true), and as controller
 *   id a random live broker, since clients cannot reach KRaft controllers and admin writes sent to
 *   any broker are forwarded to the active controller (KIP-590; KRaftMetadataCache.getControllerId).
 * - On a controller listener (endpoint_type 2, `--bootstrap-controller`, KIP-919): the
 *   controllers (the static voters of `controller.quorum.voters`, where Kafka lists the
 *   ControllerRegistration records Krill does not write; a single node that is its own quorum
 *   lists itself on its controller listener, as Kafka's lone controller does), and the active
 *   controller's id.
 * A controller id not among the nodes listed is -1, as in Kafka. An endpoint type other than the
 * listener's is MISMATCHED_ENDPOINT_TYPE (INVALID_REQUEST at v0), an unknown one
 * UNSUPPORTED_ENDPOINT_TYPE. Authorized operations are -2147483648 unless asked, 0 without
 * DESCRIBE on the cluster, else the cluster operations the authorizer allows (all without one).
 */

import { AclOperation, CLUSTER_NAME, ResourceType } from "../../metadata/acls.js";
import { DESCRIBE_CLUSTER_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { parseVoters } from "../../raft/config.js";
import { authorizeCluster, authorizedOperations } from "../auth.js";
import { isControllerListener } from "../controller-apis.js";
import { defineHandler } from "../registry.js";
import { AUTHORIZED_OPERATIONS_OMITTED, brokerEndpoints, randomLiveBroker } from "./003-metadata.js";

const ENDPOINT_TYPE_BROKERS = 1;
const ENDPOINT_TYPE_CONTROLLERS = 2;
const ENDPOINT_TYPE_NAMES: Record<number, string> = { 1: "BROKER", 2: "CONTROLLER" };

interface DescribedNode {
  brokerId: number;
  host: string;
  port: number;
  rack: string | null;
  isFenced: boolean;
}

export const handler = defineHandler({
  api: DESCRIBE_CLUSTER_API,
  minVersion: 0,
  maxVersion: 2,
  ordering: "concurrent",
  handle(ctx, request) {
    const broker = ctx.broker;
    const expected = isControllerListener(ctx) ? ENDPOINT_TYPE_CONTROLLERS : ENDPOINT_TYPE_BROKERS;
    const refused = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0,
      errorCode: ctx.apiVersion === 0 ? ErrorCode.INVALID_REQUEST : errorCode,
      errorMessage,
      endpointType: ENDPOINT_TYPE_BROKERS,
      clusterId: "",
      controllerId: -1,
      brokers: [],
      clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    });
    const asked = request.endpointType;
    if (ENDPOINT_TYPE_NAMES[asked] === undefined) {
      return refused(ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, `Unsupported endpoint type ${asked}`);
    }
    if (asked !== expected) {
      return refused(
        ErrorCode.MISMATCHED_ENDPOINT_TYPE,
        `The request was sent to an endpoint of type ${ENDPOINT_TYPE_NAMES[expected]}, but we wanted an endpoint of type ${ENDPOINT_TYPE_NAMES[asked]}`,
      );
    }
    let nodes: DescribedNode[];
    let controllerId: number;
    if (expected === ENDPOINT_TYPE_CONTROLLERS) {
      const voters = parseVoters(broker.config.list("controller.quorum.voters").join(","));
      const self = broker.raftEndpoint?.endpoints.get(broker.nodeId);
      if (voters.length === 0 && self !== undefined) voters.push({ id: broker.nodeId, ...self });
      nodes = voters.map((v) => ({
        brokerId: v.id,
        host: v.host,
        port: v.port,
        rack: null,
        isFenced: false,
      }));
      controllerId = broker.activeControllerId();
    } else {
      nodes = brokerEndpoints(broker.image(), ctx.connection.listenerName, {
        includeFenced: ctx.apiVersion >= 2 && request.includeFencedBrokers,
      }).map((b) => ({
        brokerId: b.nodeId,
        host: b.host,
        port: b.port,
        rack: b.rack,
        isFenced: b.fenced,
      }));
      controllerId = randomLiveBroker(
        nodes.filter((n) => !n.isFenced),
        broker.random.nextFloat(),
      );
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      endpointType: expected,
      clusterId: broker.clusterId,
      controllerId: nodes.some((n) => n.brokerId === controllerId) ? controllerId : -1,
      brokers: nodes,
      // Kafka's computeDescribeClusterResponse: 0 without DESCRIBE on the cluster.
      clusterAuthorizedOperations: !request.includeClusterAuthorizedOperations
        ? AUTHORIZED_OPERATIONS_OMITTED
        : authorizeCluster(ctx, AclOperation.DESCRIBE)
          ? authorizedOperations(ctx, ResourceType.CLUSTER, CLUSTER_NAME)
          : 0,
    };
  },
});
