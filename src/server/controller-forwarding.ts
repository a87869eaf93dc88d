/**
 * The broker's forwarding to the active controller in a quorum: a RemoteControllerChannel over
 * a NodeClient whose endpoint is the quorum leader's entry in `controller.quorum.voters` (with
 * static voters that is the leader's controller listener, as Kafka's brokers find the active
 * controller from the voters and the leader the quorum reports). While this node's own controller
 * is the active one, calls run on it in process.
 */
import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import type { QuorumMetadata } from "../metadata/quorum-metadata.js";
import { type ControllerNode, RemoteControllerChannel } from "../metadata/remote-controller-channel.js";
import type { QuorumConfig } from "../raft/config.js";
import { NodeClient } from "./network/node-client.js";

export interface ControllerForwarding {
  readonly channel: RemoteControllerChannel;
  /** Closes the connection to the controller; calls in flight fail and are answered. */
  close(): void;
}

export function controllerForwarding(
  member: QuorumMetadata,
  options: {
    readonly nodeId: number;
    readonly clusterId: string;
    readonly quorum: QuorumConfig;
    readonly logger: Logger;
    readonly clock: Clock;
  },
): ControllerForwarding {
  const activeController = (): ControllerNode | null => {
    const leaderId = member.raft.leaderId;
    const voter = options.quorum.voters.find((v) => v.id === leaderId);
    return voter === undefined ? null : { id: voter.id, host: voter.host, port: voter.port };
  };
  const client = new NodeClient({
    endpoint: () => activeController(),
    clientId: `krill-node-${options.nodeId}-to-controller`,
    logger: options.logger,
  });
  const channel = new RemoteControllerChannel({
    client,
    activeController,
    localController: () =>
      member.controller !== undefined && member.log.isActive ? member.controller : null,
    publisher: member.publisher,
    clusterId: options.clusterId,
    logger: options.logger,
    clock: options.clock,
  });
  return { channel, close: () => client.close() };
}
