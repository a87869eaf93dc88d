import { describe, expect, it } from "vitest";
import { type ClientQuotaEntry, quotaEntityKey } from "../../../src/metadata/client-quotas.js";
import { ClientQuotaManager, SENSOR_EXPIRATION_MS } from "../../../src/server/quotas/client-quota-manager.js";
import { rateThrottleMs, SampledRate, TokenBucket } from "../../../src/server/quotas/sampled-rate.js";

const WINDOW = { samples: 11, windowMs: 1000 };

function quotas(...entries: [Record<string, string | null>, Record<string, number>][]) {
  const m = new Map<string, ClientQuotaEntry>();
  for (const [entity, values] of entries) {
    const e = new Map(Object.entries(entity));
    m.set(quotaEntityKey(e), { entity: e, values: new Map(Object.entries(values)) });
  }
  return m;
}

describe("SampledRate (Kafka's Rate over a WindowedSum)", () => {
  it("measures over at least samples - 1 windows, then over the elapsed time", () => {
    const rate = new SampledRate(WINDOW);
    rate.record(1000, 0);
    // Kafka's Rate.windowSize: 10 full windows assumed at the start.
    expect(rate.windowSizeMs(0)).toBe(10_000);
    expect(rate.measure(0)).toBe(100);
    for (let t = 1000; t <= 12_000; t += 1000) rate.record(1000, t);
    // 12 samples kept (11 + the overlapping one): t=0's was recycled for t=12000, and t=1000's
    // has had no event for 11 s, so it is reset: the oldest starts at 2000.
    expect(rate.windowSizeMs(12_500)).toBe(10_500);
    expect(rate.measure(12_500)).toBeCloseTo(11_000 / 10.5, 6);
  });

  it("throttles as Kafka's QuotaUtils.throttleTime: (O - T) / T * W", () => {
    const rate = new SampledRate(WINDOW);
    rate.record(20_000, 0); // 2000/s over the 10 s assumed window, quota 1000/s
    expect(rateThrottleMs(rate, 1000, 0)).toBe(10_000);
    const within = new SampledRate(WINDOW);
    within.record(9_000, 0);
    expect(rateThrottleMs(within, 1000, 0)).toBe(0);
  });

  it("forgets a window with no event for samples * window", () => {
    const rate = new SampledRate(WINDOW);
    rate.record(50_000, 0);
    expect(rate.measure(10_999)).toBeGreaterThan(0);
    expect(rate.measure(11_000)).toBe(0);
  });
});

describe("TokenBucket (controller_mutation_rate)", () => {
  it("starts full at samples * window * rate, refills at the rate, may go negative", () => {
    const bucket = new TokenBucket();
    expect(bucket.measure(WINDOW, 2, 5000)).toBe(22);
    bucket.record(WINDOW, 2, 30, 5000);
    expect(bucket.measure(WINDOW, 2, 5000)).toBe(-8);
    expect(bucket.measure(WINDOW, 2, 7000)).toBe(-4);
  });
});

describe("ClientQuotaManager", () => {
  it("finds the quota in Kafka's order and measures per the tags of the quota found", () => {
    const m = new ClientQuotaManager("producer_byte_rate", { window: WINDOW, measure: "rate" });
    expect(m.enabled).toBe(false);
    m.update(
      quotas(
        [{ user: "alice", "client-id": "app" }, { producer_byte_rate: 1 }],
        [{ user: "alice", "client-id": null }, { producer_byte_rate: 2 }],
        [{ user: "alice" }, { producer_byte_rate: 3 }],
        [{ user: null, "client-id": "app" }, { producer_byte_rate: 4 }],
        [{ user: null, "client-id": null }, { producer_byte_rate: 5 }],
        [{ user: null }, { producer_byte_rate: 6 }],
        [{ "client-id": "app" }, { producer_byte_rate: 7 }],
        [{ "client-id": null }, { producer_byte_rate: 8 }],
        [{ user: "carol" }, { consumer_byte_rate: 99 }],
      ),
    );
    expect(m.enabled).toBe(true);
    expect(m.quota("alice", "app")).toBe(1);
    expect(m.quota("alice", "other")).toBe(2);
    expect(m.quota("bob", "app")).toBe(4);
    expect(m.quota("bob", "other")).toBe(5);
    // Another key's quota does not count.
    expect(m.quota("carol", "x")).toBe(5);

    const users = new ClientQuotaManager("producer_byte_rate", { window: WINDOW, measure: "rate" });
    users.update(
      quotas([{ user: "alice" }, { producer_byte_rate: 3 }], [{ user: null }, { producer_byte_rate: 6 }]),
    );
    expect(users.quota("alice", "any")).toBe(3);
    expect(users.quota("bob", "any")).toBe(6);

    const clients = new ClientQuotaManager("producer_byte_rate", { window: WINDOW, measure: "rate" });
    clients.update(
      quotas(
        [{ "client-id": "app" }, { producer_byte_rate: 7 }],
        [{ "client-id": null }, { producer_byte_rate: 8 }],
      ),
    );
    expect(clients.quota("alice", "app")).toBe(7);
    expect(clients.quota("alice", "other")).toBe(8);
    // Kafka: an empty client id matches no client-id quota.
    expect(clients.quota("alice", "")).toBeUndefined();

    const mixed = new ClientQuotaManager("producer_byte_rate", { window: WINDOW, measure: "rate" });
    mixed.update(
      quotas(
        [{ user: null }, { producer_byte_rate: 6 }],
        [{ "client-id": "app" }, { producer_byte_rate: 7 }],
      ),
    );
    // The default user (6) comes before the client id (7) in Kafka's search.
    expect(mixed.quota("alice", "app")).toBe(6);
  });

  it("shares one sensor between the client ids of a user under a user quota", () => {
    const m = new ClientQuotaManager("producer_byte_rate", { window: WINDOW, measure: "rate" });
    m.update(quotas([{ user: "alice" }, { producer_byte_rate: 1000 }]));
    expect(m.recordAndGetThrottleMs("alice", "a", 6000, 0)).toBe(0);
    // 12,000 bytes over the 10 s window: 1200/s, 20% over: 2 s.
    expect(m.recordAndGetThrottleMs("alice", "b", 6000, 0)).toBe(2000);
    expect(m.sensorCount).toBe(1);
    // A client without a quota is not throttled.
    expect(m.recordAndGetThrottleMs("bob", "a", 1e9, 0)).toBe(0);
  });

  it("follows quota changes on existing sensors and stops measuring when none is left", () => {
    const m = new ClientQuotaManager("producer_byte_rate", { window: WINDOW, measure: "rate" });
    m.update(quotas([{ "client-id": "app" }, { producer_byte_rate: 1000 }]));
    expect(m.recordAndGetThrottleMs("u", "app", 20_000, 0)).toBe(10_000);
    m.update(quotas([{ "client-id": "app" }, { producer_byte_rate: 4000 }]));
    expect(m.recordAndGetThrottleMs("u", "app", 0, 0)).toBe(0);
    m.update(new Map());
    expect(m.enabled).toBe(false);
    expect(m.sensorCount).toBe(0);
  });

  it("caps the request_percentage throttle at one window", () => {
    const m = new ClientQuotaManager("request_percentage", {
      window: WINDOW,
      measure: "rate",
      throttleMsMax: 1000,
    });
    m.update(quotas([{ user: null }, { request_percentage: 10 }]));
    expect(m.recordAndGetThrottleMs("u", "c", 1000, 0)).toBe(1000);
  });

  it("refuses strict controller mutations once the bucket is below zero", () => {
    const m = new ClientQuotaManager("controller_mutation_rate", { window: WINDOW, measure: "token-bucket" });
    m.update(quotas([{ user: null }, { controller_mutation_rate: 1 }]));
    // Burst: 11 tokens; the request that takes it below zero still passes (Kafka's strict quota).
    expect(m.tryAcquire("u", "c", 20, 0)).toBeUndefined();
    expect(m.tryAcquire("u", "c", 1, 0)).toBe(9000);
    expect(m.tryAcquire("u", "c", 1, 9000)).toBeUndefined();
  });

  it("drops sensors idle for an hour and keeps at most sensorsMax", () => {
    const m = new ClientQuotaManager("producer_byte_rate", {
      window: WINDOW,
      measure: "rate",
      sensorsMax: 100,
    });
    m.update(quotas([{ "client-id": null }, { producer_byte_rate: 1e9 }]));
    for (let i = 0; i < 250; i++) m.recordAndGetThrottleMs("u", `client-${i}`, 1, 0);
    expect(m.sensorCount).toBeLessThanOrEqual(100);
    m.recordAndGetThrottleMs("u", "late", 1, SENSOR_EXPIRATION_MS + 1);
    expect(m.sensorCount).toBe(1);
  });
});
