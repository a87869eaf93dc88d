import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isKrillError } from "../../../src/errors.js";
import { ZERO_UUID } from "../../../src/protocol/primitives/uuid.js";
import {
  consumerGroupCurrentMemberAssignmentRecord,
  consumerGroupMetadataRecord,
  decodeGroupRecord,
  groupMetadataRecord,
  offsetCommitRecord,
} from "../../../src/server/group/offsets-records.js";

describe("__consumer_offsets records", () => {
  it("an offset commit record has Kafka's layout: key type 1, value version 3", () => {
    const r = offsetCommitRecord("g", "t", 7, {
      offset: 42n,
      leaderEpoch: 5,
      metadata: "m",
      commitTimestamp: 1000n,
      expireTimestamp: -1n,
      topicId: ZERO_UUID,
    });
    // int16 type, string group, string topic, int32 partition.
    expect(r.key.toString("hex")).toBe("0001" + "00016" + "7" + "0001" + "74" + "00000007");
    expect(r.value!.readInt16BE(0)).toBe(3);
    expect(decodeGroupRecord(r)).toEqual({
      type: "OffsetCommit",
      group: "g",
      topic: "t",
      partition: 7,
      value: {
        offset: 42n,
        leaderEpoch: 5,
        metadata: "m",
        commitTimestamp: 1000n,
        expireTimestamp: -1n,
        topicId: ZERO_UUID,
        unknownTaggedFields: undefined,
      },
    });
  });

  it("an explicit expiry is written as value version 1 and read back", () => {
    const r = offsetCommitRecord("g", "t", 0, {
      offset: 1n,
      leaderEpoch: -1,
      metadata: "",
      commitTimestamp: 5n,
      expireTimestamp: 9n,
      topicId: ZERO_UUID,
    });
    expect(r.value!.readInt16BE(0)).toBe(1);
    const d = decodeGroupRecord(r);
    expect(d.type === "OffsetCommit" && d.value?.expireTimestamp).toBe(9n);
  });

  it("tombstones decode with a null value", () => {
    expect(decodeGroupRecord(offsetCommitRecord("g", "t", 0, null))).toMatchObject({
      type: "OffsetCommit",
      value: null,
    });
    expect(decodeGroupRecord(groupMetadataRecord("g", null))).toEqual({
      type: "GroupMetadata",
      group: "g",
      value: null,
    });
  });

  it("group metadata round-trips members, subscriptions and assignments", () => {
    const value = {
      protocolType: "consumer",
      generation: 4,
      protocol: "range",
      leader: "m1",
      currentStateTimestamp: 77n,
      members: [
        {
          memberId: "m1",
          groupInstanceId: "i1",
          clientId: "c",
          clientHost: "/127.0.0.1",
          rebalanceTimeout: 30000,
          sessionTimeout: 10000,
          subscription: Buffer.from([1, 2]),
          assignment: Buffer.from([3]),
        },
      ],
    };
    const d = decodeGroupRecord(groupMetadataRecord("g", value));
    expect(d.type).toBe("GroupMetadata");
    expect(d.type === "GroupMetadata" && d.value).toMatchObject({
      ...value,
      members: [{ ...value.members[0] }],
    });
  });

  it("share-group record types are skipped, not misread", () => {
    const key = Buffer.from([0, 9, 0, 1, 0x67]);
    expect(decodeGroupRecord({ key, value: Buffer.from([0, 0]) })).toEqual({
      type: "Skipped",
      recordType: 9,
    });
  });

  it("KIP-848 records round-trip with Kafka's types and value version 0", () => {
    const current = consumerGroupCurrentMemberAssignmentRecord("g", "m", {
      memberEpoch: 4,
      previousMemberEpoch: 3,
      state: 1,
      assignedPartitions: [{ topicId: "AAAAAAAAAAAAAAAAAAAAAQ", partitions: [0, 2], assignmentEpochs: [] }],
      partitionsPendingRevocation: [],
    });
    expect(current.key.readInt16BE(0)).toBe(8);
    expect(current.value!.readInt16BE(0)).toBe(0);
    expect(decodeGroupRecord(current)).toMatchObject({
      type: "ConsumerGroupCurrentMemberAssignment",
      group: "g",
      memberId: "m",
      value: { memberEpoch: 4, previousMemberEpoch: 3, state: 1 },
    });
    expect(decodeGroupRecord(consumerGroupMetadataRecord("g", { epoch: 7, metadataHash: 0n }))).toMatchObject(
      {
        type: "ConsumerGroupMetadata",
        value: { epoch: 7 },
      },
    );
    expect(decodeGroupRecord(consumerGroupMetadataRecord("g", null))).toEqual({
      type: "ConsumerGroupMetadata",
      group: "g",
      value: null,
    });
  });

  it("garbage only ever throws CORRUPT_RECORD", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.option(fc.uint8Array({ maxLength: 64 })),
        (key, value) => {
          try {
            decodeGroupRecord({ key: Buffer.from(key), value: value === null ? null : Buffer.from(value) });
          } catch (err) {
            if (!isKrillError(err, "CORRUPT_RECORD")) throw err;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
