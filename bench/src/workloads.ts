// The workloads of the benchmark and the size of each run. Both brokers get exactly the same list;
// the full matrix is the 2 acks x 2 batch sizes x 2 codecs x 2 partition counts x 2
// producer counts, the quick list a representative handful of it.

export type Acks = "1" | "all";
export type Codec = "none" | "lz4";

export interface ProducerWorkload {
  id: string;
  acks: Acks;
  batchBytes: number;
  compression: Codec;
  partitions: number;
  producers: number;
}

export interface ConsumerWorkload {
  id: string;
  /** The producer workload whose topic (and record count) this one reads. */
  sourceId: string;
  consumers: number;
}

export interface RunSizes {
  mode: "quick" | "full";
  /** 1 KiB records per producer workload, split evenly over its producers. */
  producerRecords: number;
  producerTimeoutMs: number;
  consumerTimeoutMs: number;
  /** Idle time after which a member of a consumer group gives up (kafka-consumer-perf-test --timeout); it must cover the group join, which counts from the member's start. */
  consumerIdleMs: number;
  latencyDurationS: number;
  kafkajsRecords: number;
  diskScratchBytes: number;
  tcpDurationS: number;
  idleSettleMs: number;
  /**
   * Runs of each throughput workload (producer, consumer, kafkajs) per broker, one after the
   * other; the median one is reported, all of them are listed. A single run on a shared 2-core
   * machine moved Kafka's own figure by up to 2x from one minute to the next.
   */
  repeats: number;
  /**
   * Also run every producer workload against the null sink (bench/src/null-broker.ts), in the
   * same rotation: the load generators' own ceiling on this machine. `--no-ceiling` turns it off.
   */
  ceiling: boolean;
}

export const RECORD_BYTES = 1024;
export const LINGER_MS = 5;
/** Kafka's default segment size, set explicitly on every topic of both brokers. */
export const SEGMENT_BYTES = 1 << 30;

export const QUICK_SIZES: RunSizes = {
  mode: "quick",
  producerRecords: 150_000,
  producerTimeoutMs: 90_000,
  consumerTimeoutMs: 90_000,
  consumerIdleMs: 10_000,
  latencyDurationS: 5,
  kafkajsRecords: 50_000,
  diskScratchBytes: 512 << 20,
  tcpDurationS: 3,
  idleSettleMs: 5000,
  repeats: 3,
  ceiling: true,
};

export const FULL_SIZES: RunSizes = {
  mode: "full",
  producerRecords: 500_000,
  producerTimeoutMs: 180_000,
  consumerTimeoutMs: 180_000,
  consumerIdleMs: 10_000,
  latencyDurationS: 15,
  kafkajsRecords: 200_000,
  // 2 GiB: not `2048 << 20`, which overflows int32 to a negative size (a 1 MiB dd until 10:15).
  diskScratchBytes: 2 * 1024 * 1024 * 1024,
  tcpDurationS: 10,
  idleSettleMs: 10_000,
  repeats: 3,
  ceiling: true,
};

export function producerId(w: Omit<ProducerWorkload, "id">): string {
  const batch = w.batchBytes >= 1 << 20 ? `${w.batchBytes >> 20}m` : `${w.batchBytes >> 10}k`;
  return `acks${w.acks}-b${batch}-${w.compression}-p${w.partitions}-x${w.producers}`;
}

function producer(acks: Acks, batchBytes: number, compression: Codec, partitions: number, producers: number) {
  const w = { acks, batchBytes, compression, partitions, producers };
  return { id: producerId(w), ...w };
}

export function fullProducerWorkloads(): ProducerWorkload[] {
  const out: ProducerWorkload[] = [];
  for (const acks of ["1", "all"] as const)
    for (const batchBytes of [64 << 10, 1 << 20])
      for (const compression of ["none", "lz4"] as const)
        for (const partitions of [1, 8])
          for (const producers of [1, 4])
            out.push(producer(acks, batchBytes, compression, partitions, producers));
  return out;
}

export function quickProducerWorkloads(): ProducerWorkload[] {
  return [
    producer("1", 64 << 10, "none", 1, 1),
    producer("all", 1 << 20, "lz4", 8, 1),
    producer("1", 64 << 10, "none", 8, 4),
  ];
}

function consumer(source: ProducerWorkload, consumers: number): ConsumerWorkload {
  return { id: `${source.id}-c${consumers}`, sourceId: source.id, consumers };
}

export function consumerWorkloads(producers: ProducerWorkload[], mode: RunSizes["mode"]): ConsumerWorkload[] {
  // Read back what a single producer wrote with 64 KiB batches and acks=1 (both codecs in the full
  // run): one consumer on 1 and 8 partitions, and a group of 4 on 8 partitions.
  const sources = producers.filter((p) => p.acks === "1" && p.batchBytes === 64 << 10);
  const out: ConsumerWorkload[] = [];
  for (const s of sources) {
    if (mode === "full" && s.producers !== 1) continue;
    if (mode === "quick" && s.partitions === 8 && s.producers !== 4) continue;
    out.push(consumer(s, 1));
    if (s.partitions === 8) out.push(consumer(s, 4));
  }
  return out;
}

/** The workload whose 50% throughput is the fixed load of the latency runs. */
export function latencyBase(): ProducerWorkload {
  return producer("1", 64 << 10, "none", 1, 1);
}

export function topicFor(w: ProducerWorkload): string {
  return `bench-${w.id}`;
}
