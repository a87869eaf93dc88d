/**
 * The data path as a broker component: builds the PartitionManager and the ProducerIdManager when
 * the broker starts, exposes them to handlers as `ext.partitions` / `ext.producerIds`, follows
 * metadata changes, and on stop answers waiting fetches and writes producer-state snapshots
 * (components stop before the partition logs close).
 */

import { ProducerIdManager } from "../producer-state/producer-id-manager.js";
import type { BrokerComponent, BrokerContext } from "../services.js";
import { PartitionManager } from "./partition-manager.js";

declare module "../services.js" {
  interface BrokerExtensions {
    partitions: PartitionManager;
    producerIds: ProducerIdManager;
  }
}

export function dataPathComponent(): BrokerComponent {
  let manager: PartitionManager | undefined;
  return {
    name: "data-path",
    start(broker: BrokerContext) {
      manager = new PartitionManager({
        logs: broker.logs,
        image: () => broker.image(),
        config: () => broker.config,
        nodeId: broker.nodeId,
        logger: broker.logger,
        clock: broker.clock,
        random: broker.random,
      });
      const partitions = manager;
      broker.publisher.onPublish((next, previous, records) => partitions.onImage(next, previous, records));
      broker.ext.partitions = partitions;
      broker.ext.producerIds = new ProducerIdManager(() => {
        const brokerEpoch = broker.image().brokers.get(broker.nodeId)?.brokerEpoch ?? -1n;
        return broker.controller.allocateProducerIds(broker.nodeId, brokerEpoch);
      });
    },
    async stop() {
      await manager?.shutdown();
    },
  };
}

/** The partition manager, which the data-path component installs at start-up. */
export function partitionsOf(broker: BrokerContext): PartitionManager {
  const partitions = broker.ext.partitions;
  if (partitions === undefined) throw new Error("assertion: the data-path component is not installed");
  return partitions;
}

export function producerIdsOf(broker: BrokerContext): ProducerIdManager {
  const ids = broker.ext.producerIds;
  if (ids === undefined) throw new Error("assertion: the data-path component is not installed");
  return ids;
}
