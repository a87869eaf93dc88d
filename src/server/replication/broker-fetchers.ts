/**
 * The broker's replica fetchers over the wire: one NodeClient per fetcher to the leader's
 * inter-broker listener (`inter.broker.listener.name`, else the first listener the leader
 * registered), resolved from the current image at each connection attempt so a leader that
 * re-registers on another port is found; replica.fetch.* settings from the broker configuration.
 */
import type { Logger } from "pino";
import type { Clock } from "../../clock.js";
import { type BrokerConfig, brokerConfigDef } from "../../config/broker-config.js";
import type { MetadataImage } from "../../metadata/image.js";
import { NodeClient, type NodeEndpoint } from "../network/node-client.js";
import { RemoteLeaderEndpoint } from "./leader-endpoint.js";
import { DEFAULT_FETCHER_CONFIG, type FetcherConfig } from "./replica-fetcher.js";
import { ReplicaFetcherManager } from "./replica-fetcher-manager.js";

export interface BrokerFetchersOptions {
  readonly nodeId: number;
  readonly config: BrokerConfig;
  readonly image: () => MetadataImage;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** replica.socket.timeout.ms default: a fetch (plus its own wait) not answered by then fails. */
const REPLICA_SOCKET_TIMEOUT_MS = 30_000;

/**
 * Where another broker takes inter-broker requests (replica fetches, transaction markers): its
 * endpoint on `inter.broker.listener.name`, else the first listener it registered; null when the
 * image does not know it. Asked again at each connection attempt, so a broker that re-registers
 * on another port is found.
 */
export function interBrokerEndpoints(
  config: BrokerConfig,
  image: () => MetadataImage,
): (brokerId: number) => NodeEndpoint | null {
  const listenerName =
    brokerConfigDef("inter.broker.listener.name") === undefined
      ? null
      : config.stringOrNull("inter.broker.listener.name");
  return (brokerId) => {
    const broker = image().brokers.get(brokerId);
    if (broker === undefined) return null;
    const chosen =
      (listenerName === null ? undefined : broker.endPoints.find((e) => e.name === listenerName)) ??
      broker.endPoints[0];
    return chosen === undefined ? null : { host: chosen.host, port: chosen.port };
  };
}

export function buildBrokerFetchers(options: BrokerFetchersOptions): ReplicaFetcherManager {
  const { config, nodeId } = options;
  const int = (name: string, fallback: number) =>
    brokerConfigDef(name) === undefined ? fallback : (config.intOrNull(name) ?? fallback);
  const fetcherConfig: FetcherConfig = {
    waitMaxMs: int("replica.fetch.wait.max.ms", DEFAULT_FETCHER_CONFIG.waitMaxMs),
    minBytes: int("replica.fetch.min.bytes", DEFAULT_FETCHER_CONFIG.minBytes),
    partitionMaxBytes: int("replica.fetch.max.bytes", DEFAULT_FETCHER_CONFIG.partitionMaxBytes),
    responseMaxBytes: int("replica.fetch.response.max.bytes", DEFAULT_FETCHER_CONFIG.responseMaxBytes),
    backoffMs: int("replica.fetch.backoff.ms", DEFAULT_FETCHER_CONFIG.backoffMs),
  };
  const endpointOf = interBrokerEndpoints(config, options.image);
  return new ReplicaFetcherManager({
    deps: {
      localBrokerId: nodeId,
      localBrokerEpoch: () => options.image().brokers.get(nodeId)?.brokerEpoch ?? -1n,
      clock: options.clock,
      logger: options.logger,
      config: fetcherConfig,
      sleep: (ms, wake) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          timer.unref();
          wake.onWake = () => {
            clearTimeout(timer);
            resolve();
          };
        }),
    },
    fetchersPerBroker: Math.max(1, int("num.replica.fetchers", 1)),
    autoStart: true,
    endpointFor: (leaderId) =>
      new RemoteLeaderEndpoint(
        new NodeClient({
          endpoint: () => endpointOf(leaderId),
          clientId: `broker-${nodeId}-fetcher-${leaderId}`,
          logger: options.logger,
          requestTimeoutMs: int("replica.socket.timeout.ms", REPLICA_SOCKET_TIMEOUT_MS),
        }),
        int("replica.socket.timeout.ms", REPLICA_SOCKET_TIMEOUT_MS),
      ),
  });
}
