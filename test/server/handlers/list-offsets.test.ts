import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { currentLeaderEpochError } from "../../../src/server/handlers/002-list-offsets.js";

describe("currentLeaderEpochError (ListOffsets and OffsetForLeaderEpoch)", () => {
  it("skips the check for -1 and accepts the leader's epoch", () => {
    expect(currentLeaderEpochError(-1, 7)).toBe(ErrorCode.NONE);
    expect(currentLeaderEpochError(7, 7)).toBe(ErrorCode.NONE);
    expect(currentLeaderEpochError(0, 0)).toBe(ErrorCode.NONE);
  });

  it("fences an older epoch and does not know a newer one", () => {
    expect(currentLeaderEpochError(6, 7)).toBe(ErrorCode.FENCED_LEADER_EPOCH);
    expect(currentLeaderEpochError(0, 7)).toBe(ErrorCode.FENCED_LEADER_EPOCH);
    expect(currentLeaderEpochError(8, 7)).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
  });
});
