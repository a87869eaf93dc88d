/**
 * The live-broker fuzz, bounded (issue 19 item 8): 2,000 mutated real frames across every served
 * API and version; the broker keeps answering and its memory stays bounded. Long runs:
 * scripts/fuzz-live.ts (figures in docs/limits.md).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../src/index.js";
import { SPEC_PRESENT } from "../protocol/generated/schema-arbitraries.js";
import { fuzzLiveBroker } from "./fuzz-live-loop.js";

const MiB = 1024 * 1024;

describe.runIf(SPEC_PRESENT)("live broker fuzz", () => {
  let broker: BrokerHandle;

  beforeAll(async () => {
    broker = await startBroker({ "auto.create.topics.enable": false, "socket.request.max.bytes": 1 << 20 });
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it("answers or closes every mutated frame, keeps serving, and stays within 512 MiB of its start", async () => {
    const report = await fuzzLiveBroker(broker, {
      seed: 20261203,
      inputsMax: 2_000,
      timeLimitMs: 60_000,
      answerTimeoutMs: 1_000,
    });
    expect(report.failure).toBeUndefined();
    expect(report.targets).toBeGreaterThan(100);
    expect(report.inputs).toBeGreaterThan(500);
    expect(report.answered).toBeGreaterThan(0);
    expect(report.closed).toBeGreaterThan(0);
    expect(report.rssPeakBytes - report.rssStartBytes).toBeLessThan(512 * MiB);
  }, 120_000);
});
