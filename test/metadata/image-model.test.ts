import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { BrokerConfig } from "../../src/config/broker-config.js";
import type { MetadataImage } from "../../src/metadata/image.js";
import { type LocalMetadata, openLocalMetadata } from "../../src/metadata/local-metadata.js";
import { registerAndUnfence } from "./cluster-helpers.js";

const logger = pino({ level: "silent" });

/** Random admin operations against the controller. */
const name = fc.constantFrom("a", "b", "c", "d.e", "d_e");
const op = fc.oneof(
  fc.record({ kind: fc.constant("create" as const), name, partitions: fc.integer({ min: -1, max: 4 }) }),
  fc.record({ kind: fc.constant("delete" as const), name }),
  fc.record({ kind: fc.constant("grow" as const), name, count: fc.integer({ min: 0, max: 6 }) }),
  fc.record({
    kind: fc.constant("config" as const),
    name,
    key: fc.constantFrom("retention.ms", "cleanup.policy", "segment.bytes"),
    value: fc.constantFrom("1000", "compact", "2000000", "bad"),
  }),
  fc.record({ kind: fc.constant("pids" as const) }),
);

async function openController(dir: string, snapshotBytes: number): Promise<LocalMetadata> {
  const config = BrokerConfig.create({
    "log.dirs": dir,
    "metadata.log.max.record.bytes.between.snapshots": snapshotBytes,
  });
  return openLocalMetadata({ dir, logger, nodeId: 1, config: () => config });
}

function comparable(image: MetadataImage) {
  return {
    topics: [...image.topicsByName.values()].sort((x, y) => x.name.localeCompare(y.name)),
    ids: [...image.topicsById.keys()].sort(),
    configs: [...image.configs.entries()].map(([k, v]) => [k, [...v.entries()].sort()]).sort(),
    brokers: [...image.brokers.keys()],
    features: [...image.features.entries()],
    nextProducerId: image.nextProducerId,
  };
}

describe("metadata image model", () => {
  it("replaying the log (with snapshots at any point) rebuilds exactly the published image", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { maxLength: 12 }),
        fc.constantFrom(300, 100_000),
        async (ops, snapshotBytes) => {
          const dir = mkdtempSync(path.join(os.tmpdir(), "krill-model-"));
          try {
            const { controller, log, publisher } = await openController(dir, snapshotBytes);
            await registerAndUnfence(controller, 1, () => publisher.image.offset);
            for (const o of ops) {
              if (o.kind === "create") {
                await controller.createTopics(
                  [
                    {
                      name: o.name,
                      numPartitions: o.partitions,
                      replicationFactor: -1,
                      assignments: [],
                      configs: [],
                    },
                  ],
                  false,
                );
              } else if (o.kind === "delete") {
                await controller.deleteTopics([{ name: o.name, topicId: null }]);
              } else if (o.kind === "grow") {
                await controller.createPartitions(
                  [{ name: o.name, count: o.count, assignments: null }],
                  false,
                );
              } else if (o.kind === "config") {
                await controller.alterTopicConfigs(
                  o.name,
                  [{ name: o.key, value: o.value, op: 0 }],
                  true,
                  false,
                );
              } else {
                await controller.allocateProducerIds(1, 1n);
              }
              // Invariants after every step: ids and names agree, partitions are 0..n-1.
              const image = publisher.image;
              expect(image.topicsByName.size).toBe(image.topicsById.size);
              for (const t of image.topicsByName.values()) {
                expect(image.topicsById.get(t.topicId)).toBe(t);
                expect(t.partitions.map((p) => p.partitionId)).toEqual([...t.partitions.keys()]);
                expect(t.partitions.length).toBeGreaterThan(0);
              }
              for (const key of image.configs.keys()) {
                if (key.startsWith("2:")) expect(image.topicsByName.has(key.slice(2))).toBe(true);
              }
            }
            const expected = comparable(publisher.image);
            const offset = publisher.image.offset;
            await log.close();
            const reopened = await openController(dir, snapshotBytes);
            expect(comparable(reopened.publisher.image)).toEqual(expected);
            expect(reopened.publisher.image.offset).toBe(offset);
            await reopened.log.close();
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
