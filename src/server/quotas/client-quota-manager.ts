/**
 * Kafka's ClientQuotaManager for one quota key (producer_byte_rate, consumer_byte_rate,
 * request_percentage or controller_mutation_rate), with its DefaultQuotaCallback: which quota
 * applies to a request's (user, client id), and the sensor its usage is measured on.
 *
 * Quotas come from the metadata image (ClientQuotaRecords, src/metadata/client-quotas.ts) through
 * `update`. The quota of a (user, client id) is the first set, in Kafka's order:
 * user+client id, user+default client id, default user+client id, default user+default client id
 * (when user+client-id quotas exist); user, default user (user quotas); client id, default client
 * id (client-id quotas). Usage is measured per metric tags, as Kafka's sensors: when only one
 * kind of quota exists the tags are that kind's (so every client id of a user shares the user's
 * sensor); when several kinds exist the tags follow the same search (ClientQuotaManager's
 * quotaMetricTags). A client with no quota is never measured.
 *
 * Bounds: a sensor idle for an hour is dropped, as Kafka expires its sensors
 * (InactiveSensorExpirationTimeSeconds); at most `sensorsMax` sensors are kept, and a new one past
 * that bound first drops the idle ones, then the oldest (which resets that client's measurement:
 * only reachable with that many distinct users and client ids active within the hour).
 *
 * Concurrency: event loop only; every method runs to completion.
 */
import type { ClientQuotaEntry } from "../../metadata/client-quotas.js";
import { QUOTA_ENTITY_CLIENT_ID, QUOTA_ENTITY_USER } from "../../metadata/client-quotas.js";
import { rateThrottleMs, SampledRate, TokenBucket, type WindowConfig } from "./sampled-rate.js";

/** Kafka's ClientQuotaManager.InactiveSensorExpirationTimeSeconds. */
export const SENSOR_EXPIRATION_MS = 3_600_000;
/** Sensors kept per quota key at most. */
export const SENSORS_MAX = 20_000;
/** How often idle sensors are looked for (when a sensor is created). */
const SWEEP_INTERVAL_MS = 60_000;

/** Kafka's QuotaTypes bits. */
const CLIENT_ID_QUOTAS = 1;
const USER_QUOTAS = 2;
const USER_CLIENT_ID_QUOTAS = 4;

/** An entity component: absent (undefined), the default (null) or a name. */
type Part = string | null | undefined;

function entityId(user: Part, clientId: Part): string {
  return JSON.stringify([user === undefined ? false : user, clientId === undefined ? false : clientId]);
}

interface Sensor {
  readonly userTag: string;
  readonly clientTag: string;
  readonly rate: SampledRate | undefined;
  readonly bucket: TokenBucket | undefined;
  /** The quota of these tags, as of `epoch`; undefined: none. */
  bound: number | undefined;
  epoch: number;
}

export interface QuotaManagerOptions {
  readonly window: WindowConfig;
  /** "rate": Kafka's Rate (byte rates, request time); "token-bucket": controller mutations. */
  readonly measure: "rate" | "token-bucket";
  /** Upper bound of a throttle time (request_percentage: one window, as Kafka's). */
  readonly throttleMsMax?: number;
  readonly sensorsMax?: number;
}

export class ClientQuotaManager {
  readonly key: string;
  readonly #options: QuotaManagerOptions;
  readonly #sensorsMax: number;
  /** entityId -> quota, for this key only. */
  #overridden = new Map<string, number>();
  #typesEnabled = 0;
  #epoch = 0;
  readonly #sensors = new Map<string, Sensor>();
  #lastSweepMs = Number.NEGATIVE_INFINITY;

  constructor(key: string, options: QuotaManagerOptions) {
    this.key = key;
    this.#options = options;
    this.#sensorsMax = options.sensorsMax ?? SENSORS_MAX;
  }

  /** Whether any quota of this key exists: when not, nothing is measured (Kafka's quotasEnabled). */
  get enabled(): boolean {
    return this.#typesEnabled !== 0;
  }

  get sensorCount(): number {
    return this.#sensors.size;
  }

  /** Takes the quotas of this key from the image's client quotas. */
  update(quotas: ReadonlyMap<string, ClientQuotaEntry>): void {
    const overridden = new Map<string, number>();
    let types = 0;
    for (const q of quotas.values()) {
      const value = q.values.get(this.key);
      if (value === undefined) continue;
      const user = q.entity.has(QUOTA_ENTITY_USER) ? q.entity.get(QUOTA_ENTITY_USER) : undefined;
      const clientId = q.entity.has(QUOTA_ENTITY_CLIENT_ID)
        ? q.entity.get(QUOTA_ENTITY_CLIENT_ID)
        : undefined;
      if (user === undefined && clientId === undefined) continue; // an ip entity: not this manager's
      overridden.set(entityId(user, clientId), value);
      if (user !== undefined) types |= clientId !== undefined ? USER_CLIENT_ID_QUOTAS : USER_QUOTAS;
      else types |= CLIENT_ID_QUOTAS;
    }
    this.#overridden = overridden;
    this.#typesEnabled = types;
    this.#epoch++;
    if (types === 0) this.#sensors.clear();
  }

  /** The quota that applies to (user, clientId), or undefined (Kafka's quota().bound). */
  quota(user: string, clientId: string): number | undefined {
    const [userTag, clientTag] = this.#metricTags(user, clientId);
    return this.#quotaLimit(userTag, clientTag);
  }

  /**
   * Records `value` for (user, clientId) at `nowMs` and returns the throttle time Kafka would give
   * (0 within the quota; Kafka's recordAndGetThrottleTimeMs). Byte rates and request time record
   * first and then check (a permissive quota).
   */
  recordAndGetThrottleMs(user: string, clientId: string, value: number, nowMs: number): number {
    if (!this.enabled) return 0;
    const sensor = this.#sensor(user, clientId, nowMs);
    if (sensor.bound === undefined) return 0;
    if (sensor.bucket !== undefined) {
      // Kafka's PermissiveControllerMutationQuota: recorded whatever the bucket holds, throttled
      // for the time the bucket needs to refill to zero.
      sensor.bucket.record(this.#options.window, sensor.bound, value, nowMs);
      const tokens = sensor.bucket.measure(this.#options.window, sensor.bound, nowMs);
      return tokens < 0 ? Math.round((-tokens / sensor.bound) * 1000) : 0;
    }
    const rate = sensor.rate!;
    rate.record(value, nowMs);
    const throttleMs = rateThrottleMs(rate, sensor.bound, nowMs);
    return Math.min(throttleMs, this.#options.throttleMsMax ?? throttleMs);
  }

  /**
   * Controller mutations under a strict quota (CreateTopics v6+, CreatePartitions v3+,
   * DeleteTopics v5+): undefined when `permits` may proceed (and are recorded), else the throttle
   * time in ms (Kafka's StrictControllerMutationQuota: refused while the bucket is below zero).
   */
  tryAcquire(user: string, clientId: string, permits: number, nowMs: number): number | undefined {
    if (!this.enabled) return undefined;
    const sensor = this.#sensor(user, clientId, nowMs);
    if (sensor.bound === undefined || sensor.bucket === undefined) return undefined;
    const tokens = sensor.bucket.measure(this.#options.window, sensor.bound, nowMs);
    if (tokens < 0) return Math.round((-tokens / sensor.bound) * 1000);
    sensor.bucket.record(this.#options.window, sensor.bound, permits, nowMs);
    return undefined;
  }

  /** Removes a recorded value (a throttled Fetch answered empty; Kafka's unrecordQuotaSensor). */
  unrecord(user: string, clientId: string, value: number, nowMs: number): void {
    if (!this.enabled) return;
    this.#sensor(user, clientId, nowMs).rate?.record(-value, nowMs);
  }

  /**
   * The most this client may take in one quota window (Kafka's getMaxValueInQuotaWindow:
   * quota * (samples - 1) * window seconds), or Infinity without a quota: a Fetch is capped to
   * it so that one response cannot exceed a whole window's worth.
   */
  maxValueInQuotaWindow(user: string, clientId: string): number {
    if (!this.enabled) return Number.POSITIVE_INFINITY;
    const q = this.quota(user, clientId);
    if (q === undefined) return Number.POSITIVE_INFINITY;
    const { samples, windowMs } = this.#options.window;
    return q * (samples - 1) * (windowMs / 1000);
  }

  #sensor(user: string, clientId: string, nowMs: number): Sensor {
    const [userTag, clientTag] = this.#metricTags(user, clientId);
    const name = `${userTag}\u0000${clientTag}`;
    let sensor = this.#sensors.get(name);
    if (sensor === undefined) {
      this.#makeRoom(nowMs);
      sensor = {
        userTag,
        clientTag,
        rate: this.#options.measure === "rate" ? new SampledRate(this.#options.window) : undefined,
        bucket: this.#options.measure === "token-bucket" ? new TokenBucket() : undefined,
        bound: undefined,
        epoch: -1,
      };
      this.#sensors.set(name, sensor);
    }
    if (sensor.epoch !== this.#epoch) {
      sensor.bound = this.#quotaLimit(userTag, clientTag);
      sensor.epoch = this.#epoch;
    }
    return sensor;
  }

  #makeRoom(nowMs: number): void {
    const full = this.#sensors.size >= this.#sensorsMax;
    if (!full && nowMs - this.#lastSweepMs < SWEEP_INTERVAL_MS) return;
    this.#lastSweepMs = nowMs;
    for (const [name, s] of this.#sensors) {
      const lastMs = s.rate?.lastRecordMs ?? s.bucket?.lastRecordMs ?? 0;
      if (nowMs - lastMs >= SENSOR_EXPIRATION_MS) this.#sensors.delete(name);
    }
    while (this.#sensors.size >= this.#sensorsMax) {
      const oldest = this.#sensors.keys().next().value as string;
      this.#sensors.delete(oldest);
    }
  }

  /** Kafka's DefaultQuotaCallback.quotaMetricTags: the (user, client-id) tags of the sensor. */
  #metricTags(user: string, clientId: string): readonly [string, string] {
    switch (this.#typesEnabled) {
      case 0:
      case CLIENT_ID_QUOTAS:
        return ["", clientId];
      case USER_QUOTAS:
        return [user, ""];
      case USER_CLIENT_ID_QUOTAS:
        return [user, clientId];
    }
    const has = (u: Part, c: Part) => this.#overridden.has(entityId(u, c));
    if (has(user, clientId) || has(user, null)) return [user, clientId];
    if (has(user, undefined)) return [user, ""];
    if (has(null, clientId) || has(null, null)) return [user, clientId];
    if (has(null, undefined)) return [user, ""];
    return ["", clientId];
  }

  /** Kafka's DefaultQuotaCallback.quotaLimit for a sensor's tags. */
  #quotaLimit(userTag: string, clientTag: string): number | undefined {
    const get = (u: Part, c: Part) => this.#overridden.get(entityId(u, c));
    if (userTag !== "" && clientTag !== "") {
      return get(userTag, clientTag) ?? get(userTag, null) ?? get(null, clientTag) ?? get(null, null);
    }
    if (userTag !== "") return get(userTag, undefined) ?? get(null, undefined);
    if (clientTag !== "") return get(undefined, clientTag) ?? get(undefined, null);
    return undefined;
  }
}
