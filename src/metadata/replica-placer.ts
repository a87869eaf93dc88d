/**
 * Kafka's StripedReplicaPlacer: where the replicas of new partitions go.
 *
 * Brokers are grouped by rack (`broker.rack`; brokers without one form one rack). Each partition
 * takes its leader (first replica) from the next rack in turn, from that rack's unfenced brokers,
 * and its other replicas from the following racks, one per rack while racks last, preferring
 * unfenced brokers within a rack. Starting offsets are drawn from the injected `Random`, and once
 * as many partitions as unfenced brokers are placed the lists are shuffled, so leaders and
 * followers spread evenly over brokers and racks. Brokers in controlled shutdown are not usable.
 *
 * Errors are Kafka's (InvalidReplicationFactorException messages): a replication factor of 0 or
 * less, more replicas than registered brokers, or no unfenced broker at all.
 */
import { type Random, randomInt } from "../random.js";

export interface UsableBroker {
  readonly id: number;
  readonly rack: string | null;
  readonly fenced: boolean;
}

export class InvalidReplicationFactorError extends Error {}

function nextInt(random: Random, bound: number): number {
  return Math.min(bound - 1, randomInt(random, bound));
}

function shuffle<T>(items: T[], random: Random): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = nextInt(random, i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}

class BrokerList {
  readonly brokers: number[] = [];
  #index = 0;
  #offset = 0;
  #epoch = 0;

  initialize(random: Random): void {
    if (this.brokers.length === 0) return;
    this.brokers.sort((a, b) => a - b);
    this.#offset = nextInt(random, this.brokers.length);
  }

  /** The next broker of this iteration epoch, or -1 when every one was handed out. */
  next(epoch: number): number {
    const n = this.brokers.length;
    if (n === 0) return -1;
    if (this.#epoch !== epoch) {
      this.#epoch = epoch;
      this.#index = 0;
      this.#offset = (this.#offset + 1) % n;
    }
    if (this.#index >= n) return -1;
    const broker = this.brokers[(this.#index + this.#offset) % n]!;
    this.#index++;
    return broker;
  }
}

class Rack {
  readonly fenced = new BrokerList();
  readonly unfenced = new BrokerList();

  next(epoch: number): number {
    const result = this.unfenced.next(epoch);
    return result >= 0 ? result : this.fenced.next(epoch);
  }
}

class RackList {
  readonly #random: Random;
  readonly #racks = new Map<string | null, Rack>();
  readonly #rackNames: (string | null)[] = [];
  readonly numTotalBrokers: number;
  readonly numUnfencedBrokers: number;
  #epoch = 0;
  #offset: number;

  constructor(random: Random, brokers: readonly UsableBroker[]) {
    this.#random = random;
    let total = 0;
    let unfenced = 0;
    for (const b of brokers) {
      let rack = this.#racks.get(b.rack);
      if (rack === undefined) {
        rack = new Rack();
        this.#racks.set(b.rack, rack);
        this.#rackNames.push(b.rack);
      }
      if (b.fenced) rack.fenced.brokers.push(b.id);
      else {
        rack.unfenced.brokers.push(b.id);
        unfenced++;
      }
      total++;
    }
    for (const rack of this.#racks.values()) {
      rack.fenced.initialize(random);
      rack.unfenced.initialize(random);
    }
    // Kafka's OptionalStringComparator: no rack first, then by name.
    this.#rackNames.sort((a, b) => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1));
    this.numTotalBrokers = total;
    this.numUnfencedBrokers = unfenced;
    this.#offset = this.#rackNames.length === 0 ? 0 : nextInt(random, this.#rackNames.length);
  }

  place(replicationFactor: number): number[] {
    // After as many placements as unfenced brokers, shuffle so assignments do not repeat.
    if (this.#epoch === this.numUnfencedBrokers && this.numUnfencedBrokers > 1) {
      shuffle(this.#rackNames, this.#random);
      for (const rack of this.#racks.values()) {
        shuffle(rack.fenced.brokers, this.#random);
        shuffle(rack.unfenced.brokers, this.#random);
      }
      this.#epoch = 0;
    }
    if (this.#offset === this.#rackNames.length) this.#offset = 0;
    const names = this.#rackNames;
    const brokers: number[] = [];
    // The leader: an unfenced broker, from the first rack at or after the offset that has one.
    let firstRackIndex = this.#offset;
    for (;;) {
      const result = this.#racks.get(names[firstRackIndex]!)!.unfenced.next(this.#epoch);
      if (result >= 0) {
        brokers.push(result);
        break;
      }
      firstRackIndex = (firstRackIndex + 1) % names.length;
    }
    // Followers: one per rack in turn, skipping the leader's rack on the first pass.
    let rackIndex = this.#offset;
    for (let replica = 1; replica < replicationFactor; replica++) {
      let result = -1;
      do {
        if (rackIndex === firstRackIndex) firstRackIndex = -1;
        else result = this.#racks.get(names[rackIndex]!)!.next(this.#epoch);
        rackIndex = (rackIndex + 1) % names.length;
      } while (result < 0);
      brokers.push(result);
    }
    this.#epoch++;
    this.#offset++;
    return brokers;
  }
}

/**
 * Replica lists for `numPartitions` new partitions of `replicationFactor` replicas over `brokers`
 * (the registered brokers not in controlled shutdown). Throws InvalidReplicationFactorError.
 */
export function placeReplicas(
  brokers: readonly UsableBroker[],
  numPartitions: number,
  replicationFactor: number,
  random: Random,
): number[][] {
  if (replicationFactor <= 0) {
    throw new InvalidReplicationFactorError(
      `Invalid replication factor ${replicationFactor}: the replication factor must be positive.`,
    );
  }
  const racks = new RackList(random, brokers);
  if (racks.numUnfencedBrokers === 0)
    throw new InvalidReplicationFactorError("All brokers are currently fenced.");
  if (replicationFactor > racks.numTotalBrokers) {
    throw new InvalidReplicationFactorError(
      `The target replication factor of ${replicationFactor} cannot be reached because only ${racks.numTotalBrokers} broker(s) are registered.`,
    );
  }
  const out: number[][] = [];
  for (let p = 0; p < numPartitions; p++) out.push(racks.place(replicationFactor));
  return out;
}
