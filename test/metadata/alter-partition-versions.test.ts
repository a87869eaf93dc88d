import { describe, expect, it } from "vitest";
import { alterPartitionAt } from "../../src/metadata/remote-controller-channel.js";
import type { AlterPartitionRequest } from "../../src/protocol/generated/alter-partition-request.js";
import { ALTER_PARTITION_API } from "../../src/protocol/generated/apis.js";
import { Reader } from "../../src/protocol/primitives/reader.js";
import { Writer } from "../../src/protocol/primitives/writer.js";

/** What a partition leader proposes (partition.ts): the ISR with broker epochs. */
const proposal: AlterPartitionRequest = {
  brokerId: 1,
  brokerEpoch: 7n,
  topics: [
    {
      topicId: "AAAAAAAAAAAAAAAAAAAAAQ",
      partitions: [
        {
          partitionIndex: 0,
          leaderEpoch: 3,
          newIsr: [],
          newIsrWithEpochs: [
            { brokerId: 1, brokerEpoch: 7n },
            { brokerId: 2, brokerEpoch: 9n },
          ],
          leaderRecoveryState: 0,
          partitionEpoch: 4,
        },
      ],
    },
  ],
};

function roundTrip(request: AlterPartitionRequest, version: number): AlterPartitionRequest {
  const w = new Writer();
  ALTER_PARTITION_API.encodeRequest(w, request, version);
  return ALTER_PARTITION_API.decodeRequest(new Reader(w.finish()), version);
}

describe("AlterPartition forwarded at each version the controller serves", () => {
  it("v3 carries the ISR with broker epochs only", () => {
    const p = roundTrip(alterPartitionAt(proposal, 3), 3).topics[0]!.partitions[0]!;
    expect(p.newIsr).toEqual([]);
    expect(p.newIsrWithEpochs.map((b) => [b.brokerId, b.brokerEpoch])).toEqual([
      [1, 7n],
      [2, 9n],
    ]);
  });

  it("v2 carries the bare broker ids (the epochs cannot be sent)", () => {
    const p = roundTrip(alterPartitionAt(proposal, 2), 2).topics[0]!.partitions[0]!;
    expect(p.newIsr).toEqual([1, 2]);
    expect(p.newIsrWithEpochs).toEqual([]);
  });

  it("a request with both lists set does not encode at v3: the adaptation is needed", () => {
    const both = structuredClone(proposal);
    both.topics[0]!.partitions[0]!.newIsr = [1, 2];
    expect(() => roundTrip(both, 3)).toThrow(/newIsr/);
    expect(roundTrip(alterPartitionAt(both, 3), 3).topics[0]!.partitions[0]!.newIsr).toEqual([]);
  });
});
