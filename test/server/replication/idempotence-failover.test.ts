/**
 * Issue 16 item 7: producer state moves with the partition. Followers rebuild it from the
 * leader's batches as they append them, so a retry of an idempotent batch that reached the old
 * leader and its followers is recognised by the new leader as a duplicate (answered with the
 * original offset, not written twice), and a batch out of sequence is refused there too.
 */
import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { buildRecordBatch } from "../../../src/protocol/records/record-batch.js";
import { SimCluster } from "./sim-cluster.js";

function batch(baseSequence: number, values: string[]): Buffer {
  return buildRecordBatch({
    producerId: 7000n,
    producerEpoch: 0,
    baseSequence,
    records: values.map((value) => ({ timestamp: 1_760_000_000_000, key: null, value })),
  });
}

describe("idempotent producer across a leader change (deterministic, in-process)", () => {
  it("deduplicates a retried batch at the new leader and keeps the sequence", async () => {
    const sim = new SimCluster({ seed: 5, nodes: 3, partitions: 1, minInsyncReplicas: 2 });
    try {
      await sim.start();
      const first = sim.produceBatch(0, -1, batch(0, ["a", "b"]));
      for (const id of [2, 3, 2, 3]) await sim.fetchRound(id);
      expect(await first).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 0 });
      // The second batch reaches every replica, but its answer is lost: the leader changes
      // before the producer hears back, and the producer retries it at the new leader.
      const lost = sim.produceBatch(0, -1, batch(2, ["c"]), 60_000);
      for (const id of [2, 3]) await sim.fetchRound(id);
      expect(sim.held(2, 0).logEndOffset).toBe(3);
      expect(await sim.electLeader(0)).toBe(true);
      expect((await lost).errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
      expect(sim.leaderOf(0)).toBe(2);
      const retried = sim.produceBatch(0, -1, batch(2, ["c"]));
      for (const id of [1, 3, 1, 3]) await sim.fetchRound(id);
      expect(await retried).toEqual({ errorCode: ErrorCode.NONE, baseOffset: 2 });
      expect(sim.held(2, 0).logEndOffset).toBe(3);
      // The next batch continues the sequence; a gap is refused.
      expect((await sim.produceBatch(0, 1, batch(5, ["x"]))).errorCode).toBe(
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      );
      expect(await sim.produceBatch(0, 1, batch(3, ["d"]))).toEqual({
        errorCode: ErrorCode.NONE,
        baseOffset: 3,
      });
      sim.checkInvariants();
    } finally {
      await sim.close();
    }
  });
});
