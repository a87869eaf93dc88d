/**
 * Kafka's quota measurements (org.apache.kafka.common.metrics), reproduced to the millisecond so
 * a client throttled by Krill sees the throttle times Kafka would give it:
 *
 * - `SampledRate` is Kafka's Rate over a WindowedSum: `samples` windows of `windowMs` each (the
 *   broker's quota.window.num = 11 and quota.window.size.seconds = 1). A value is added to the
 *   current window; a window older than samples * windowMs since its last event is reset before
 *   measuring; the rate is the sum over the windows divided by the elapsed time since the oldest
 *   window began, counted as at least samples - 1 whole windows (Rate.windowSize), per second.
 * - `TokenBucket` is Kafka's TokenBucket (controller_mutation_rate, KIP-599): tokens refill at
 *   the quota per second up to a burst of samples * window seconds * quota, a mutation takes its
 *   count, and the bucket may go negative.
 *
 * Both read time only from the `nowMs` passed in (the broker's injected clock).
 */

interface Sample {
  value: number;
  eventCount: number;
  startMs: number;
  lastEventMs: number;
}

export interface WindowConfig {
  /** quota.window.num */
  readonly samples: number;
  /** quota.window.size.seconds, in ms */
  readonly windowMs: number;
}

export class SampledRate {
  readonly #config: WindowConfig;
  /** Kafka keeps one window more than configured, for a window overlapping the oldest edge. */
  readonly #samples: Sample[] = [];
  #current = 0;

  constructor(config: WindowConfig) {
    this.#config = config;
  }

  record(value: number, nowMs: number): void {
    let sample = this.#currentSample(nowMs);
    if (nowMs - sample.startMs >= this.#config.windowMs) sample = this.#advance(nowMs);
    sample.value += value;
    sample.eventCount += 1;
    sample.lastEventMs = nowMs;
  }

  /** Values per second over the sampled windows (Kafka's Rate.measure). */
  measure(nowMs: number): number {
    this.#purgeObsolete(nowMs);
    let total = 0;
    for (const s of this.#samples) total += s.value;
    return total / (this.windowSizeMs(nowMs) / 1000);
  }

  /** Kafka's Rate.windowSize: the time the rate is computed over, in ms (at least 1). */
  windowSizeMs(nowMs: number): number {
    this.#purgeObsolete(nowMs);
    let oldest = this.#currentSample(nowMs);
    for (const s of this.#samples) if (s.startMs < oldest.startMs) oldest = s;
    let elapsedMs = nowMs - oldest.startMs;
    const fullWindows = Math.floor(elapsedMs / this.#config.windowMs);
    const minFullWindows = this.#config.samples - 1;
    if (fullWindows < minFullWindows) elapsedMs += (minFullWindows - fullWindows) * this.#config.windowMs;
    return Math.max(elapsedMs, 1);
  }

  /** The last time a value was recorded (for expiring idle sensors). */
  get lastRecordMs(): number {
    return this.#samples[this.#current]?.lastEventMs ?? 0;
  }

  #currentSample(nowMs: number): Sample {
    if (this.#samples.length === 0) this.#samples.push(newSample(nowMs));
    return this.#samples[this.#current]!;
  }

  #advance(nowMs: number): Sample {
    const maxSamples = this.#config.samples + 1;
    this.#current = (this.#current + 1) % maxSamples;
    if (this.#current >= this.#samples.length) {
      const sample = newSample(nowMs);
      this.#samples.push(sample);
      return sample;
    }
    const sample = this.#samples[this.#current]!;
    reset(sample, nowMs);
    return sample;
  }

  #purgeObsolete(nowMs: number): void {
    const expireAgeMs = this.#config.samples * this.#config.windowMs;
    for (const s of this.#samples) if (nowMs - s.lastEventMs >= expireAgeMs) reset(s, nowMs);
  }
}

function newSample(nowMs: number): Sample {
  return { value: 0, eventCount: 0, startMs: nowMs, lastEventMs: nowMs };
}

function reset(s: Sample, nowMs: number): void {
  s.value = 0;
  s.eventCount = 0;
  s.startMs = nowMs;
  s.lastEventMs = nowMs;
}

/**
 * Kafka's QuotaUtils.throttleTime: the delay that brings the observed rate back to the bound if
 * nothing more is recorded, X = (O - T) / T * W; 0 when the rate is within the bound.
 */
export function rateThrottleMs(rate: SampledRate, boundPerSecond: number, nowMs: number): number {
  const observed = rate.measure(nowMs);
  if (observed <= boundPerSecond) return 0;
  return Math.round(((observed - boundPerSecond) / boundPerSecond) * rate.windowSizeMs(nowMs));
}

export class TokenBucket {
  #tokens = 0;
  // Kafka starts at time 0, so a new bucket is full on a real clock; -Infinity makes it full on any clock.
  #lastUpdateMs = Number.NEGATIVE_INFINITY;
  #lastRecordMs = 0;

  /** Tokens left after refilling to `nowMs` (negative once over the quota). */
  measure(config: WindowConfig, quotaPerSecond: number, nowMs: number): number {
    this.#refill(config, quotaPerSecond, nowMs);
    return this.#tokens;
  }

  record(config: WindowConfig, quotaPerSecond: number, value: number, nowMs: number): void {
    this.#refill(config, quotaPerSecond, nowMs);
    this.#tokens = Math.min(burst(config, quotaPerSecond), this.#tokens - value);
    this.#lastRecordMs = nowMs;
  }

  get lastRecordMs(): number {
    return this.#lastRecordMs;
  }

  #refill(config: WindowConfig, quotaPerSecond: number, nowMs: number): void {
    this.#tokens = Math.min(
      burst(config, quotaPerSecond),
      this.#tokens + (quotaPerSecond * (nowMs - this.#lastUpdateMs)) / 1000,
    );
    this.#lastUpdateMs = nowMs;
  }
}

function burst(config: WindowConfig, quotaPerSecond: number): number {
  return config.samples * (config.windowMs / 1000) * quotaPerSecond;
}
