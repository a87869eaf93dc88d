/**
 * The active controller's broker sessions (BrokerHeartbeatManager) on a ManualClock: the session
 * timeout, the first-contact window after an activation, and a lost heartbeat connection.
 */
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { BrokerHeartbeatManager } from "../../src/metadata/broker-heartbeats.js";
import { MetadataImage } from "../../src/metadata/image.js";

const SESSION_MS = 9_000;
const INTERVAL_MS = 2_000;

/** An image with brokers 1-3 registered and unfenced. */
const image = MetadataImage.EMPTY.apply(
  [1, 2, 3].map((brokerId) => ({
    type: "RegisterBroker" as const,
    data: {
      brokerId,
      incarnationId: `inc${brokerId}AAAAAAAAAAAAAAAAAQ`,
      brokerEpoch: BigInt(brokerId),
      endPoints: [],
      features: [],
      rack: null,
      fenced: false,
      inControlledShutdown: false,
      logDirs: [],
    },
  })),
  3,
);

function manager() {
  const clock = new ManualClock(1_000_000);
  const heartbeats = new BrokerHeartbeatManager(
    clock,
    () => SESSION_MS,
    () => INTERVAL_MS,
  );
  return { clock, heartbeats };
}

describe("broker sessions on the active controller", () => {
  it("a broker silent for the session timeout is stale, the longest silent first", () => {
    const { clock, heartbeats } = manager();
    for (const id of [1, 2, 3]) heartbeats.register(id);
    clock.advance(3_000);
    heartbeats.touch(2, false, 3);
    clock.advance(SESSION_MS - 3_000);
    expect(heartbeats.staleBrokers(image)).toEqual([]);
    clock.advance(1);
    expect(heartbeats.staleBrokers(image)).toEqual([1, 3]);
  });

  it("after an activation, brokers not heard from get one heartbeat interval, then the session timeout", () => {
    const { clock, heartbeats } = manager();
    heartbeats.activate();
    clock.advance(500);
    heartbeats.touch(1, false, 3); // reached the new controller at once
    clock.advance(INTERVAL_MS - 500);
    heartbeats.touch(2, false, 3); // just within the window
    expect(heartbeats.staleBrokers(image)).toEqual([]);
    clock.advance(1);
    // Broker 3 (its process died with the previous controller's) never made contact.
    expect(heartbeats.staleBrokers(image)).toEqual([3]);
    // The others are judged by the session timeout from their last heartbeat (the longest
    // silent first: broker 3 since the activation).
    clock.advance(SESSION_MS - INTERVAL_MS + 500);
    expect(heartbeats.staleBrokers(image)).toEqual([3, 1]);
  });

  it("a closed heartbeat connection ends the session unless a heartbeat came on another since", () => {
    const { heartbeats } = manager();
    for (const id of [1, 2, 3]) heartbeats.register(id);
    const a = {};
    const b = {};
    expect(heartbeats.noteConnection(1, a)).toBe(true);
    expect(heartbeats.noteConnection(1, a)).toBe(false);
    expect(heartbeats.noteConnection(2, a)).toBe(true);
    expect(heartbeats.noteConnection(2, b)).toBe(true);
    expect(heartbeats.connectionClosed(2, a)).toBe(false);
    expect(heartbeats.connectionClosed(1, a)).toBe(true);
    expect(heartbeats.staleBrokers(image)).toEqual([1]);
    heartbeats.touch(1, false, 3);
    expect(heartbeats.staleBrokers(image)).toEqual([]);
  });
});
