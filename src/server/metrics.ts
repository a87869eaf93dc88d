/**
 * Prometheus metrics for one broker, on its own registry so several brokers in one process (tests)
 * do not collide. Served over HTTP at `metrics.host:metrics.port/metrics` when metrics.port > 0.
 * prom-client is only loaded when the endpoint is enabled (it is a sixth of an idle broker's
 * memory); otherwise every metric is a no-op with the same shape, so callers never check.
 *
 * Names map to Kafka's JMX metrics and Redpanda's (the table is in docs/operations.md; the Grafana
 * dashboard in docs/grafana/krill.json uses them). Label values come only from bounded sets: API
 * names and served versions (never a client's raw api key or version), listener names, topics and
 * partitions of the metadata image (per-partition series stop at PARTITION_SERIES_MAX partitions),
 * log directories, and group ids of committed offsets (consumer lag; bounded by
 * CONSUMER_LAG_SERIES_MAX and CONSUMER_GROUP_SERIES_MAX). Client ids never become labels.
 */
import { statfsSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { BrokerHealth } from "./health.js";

type Labels = Record<string, string>;

export interface MetricCounter {
  inc(labels: Labels, value?: number): void;
  remove(labels: Labels): void;
}

export interface MetricGauge {
  set(value: number): void;
}

export interface MetricLabelledGauge {
  set(labels: Labels, value: number): void;
}

export interface MetricHistogram {
  observe(labels: Labels, value: number): void;
}

/** One partition replica hosted here, as the scrape reads it. */
export interface PartitionStats {
  readonly topic: string;
  readonly partition: number;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  readonly highWatermark: number;
  readonly sizeBytes: number;
  readonly isLeader: boolean;
  /** Leader whose ISR is smaller than its replica set (Kafka's UnderReplicated). */
  readonly underReplicated: boolean;
}

/** Partitions beyond which per-partition series are not exported (topic-level ones still are). */
export const PARTITION_SERIES_MAX = 10_000;

/** Committed offsets beyond which per-partition consumer group series are not exported. */
export const CONSUMER_LAG_SERIES_MAX = 10_000;
/** Groups with per-group lag series at most (the most lagging ones). */
export const CONSUMER_GROUP_SERIES_MAX = 1_000;

/** One committed offset of a group coordinated here. */
export interface CommittedOffsetStats {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export interface ConsumerLagRow extends CommittedOffsetStats {
  /** High watermark minus the committed offset (never below 0); undefined when not led here. */
  readonly lag: number | undefined;
}

export interface ConsumerLagSeries {
  /** Per committed offset; null when there are more than `partitionSeriesMax`. */
  readonly partitions: readonly ConsumerLagRow[] | null;
  /** Per group with a known lag: the `groupSeriesMax` most lagging (sum), then by name. */
  readonly groups: readonly { readonly group: string; readonly lagSum: number; readonly lagMax: number }[];
  /** Groups holding committed offsets here. */
  readonly groupCount: number;
}

/**
 * Consumer group lag as kafka-consumer-groups --describe computes it (LOG-END-OFFSET, the high
 * watermark a read_uncommitted ListOffsets answers, minus CURRENT-OFFSET), for the committed
 * offsets of the groups coordinated here and the partitions led here (a follower's high watermark
 * trails the leader's, so only the leader's figure is exported). Cardinality is bounded: group ids
 * come from committed offsets (durable, like topics; a group that only joins adds nothing), the
 * per-partition series stop at `partitionSeriesMax` rows and the per-group ones at
 * `groupSeriesMax` groups.
 */
export function consumerLagSeries(
  offsets: Iterable<CommittedOffsetStats>,
  partitions: Iterable<PartitionStats>,
  partitionSeriesMax = CONSUMER_LAG_SERIES_MAX,
  groupSeriesMax = CONSUMER_GROUP_SERIES_MAX,
): ConsumerLagSeries {
  const highWatermarks = new Map<string, number>();
  for (const p of partitions)
    if (p.isLeader) highWatermarks.set(`${p.topic}\u0000${p.partition}`, p.highWatermark);
  const rows: ConsumerLagRow[] = [];
  const byGroup = new Map<string, { lagSum: number; lagMax: number }>();
  const groupsSeen = new Set<string>();
  for (const o of offsets) {
    groupsSeen.add(o.group);
    const hw = highWatermarks.get(`${o.topic}\u0000${o.partition}`);
    const lag = hw === undefined ? undefined : Math.max(0, hw - o.offset);
    rows.push({ ...o, lag });
    if (lag === undefined) continue;
    const g = byGroup.get(o.group);
    if (g === undefined) byGroup.set(o.group, { lagSum: lag, lagMax: lag });
    else {
      g.lagSum += lag;
      g.lagMax = Math.max(g.lagMax, lag);
    }
  }
  const groups = [...byGroup]
    .map(([group, g]) => ({ group, ...g }))
    .sort((a, b) => b.lagSum - a.lagSum || (a.group < b.group ? -1 : a.group > b.group ? 1 : 0))
    .slice(0, groupSeriesMax);
  return { partitions: rows.length > partitionSeriesMax ? null : rows, groups, groupCount: groupsSeen.size };
}

const NO_COUNTER: MetricCounter = { inc: () => {}, remove: () => {} };
const NO_GAUGE: MetricGauge = { set: () => {} };
const NO_LABELLED_GAUGE: MetricLabelledGauge = { set: () => {} };
const NO_HISTOGRAM: MetricHistogram = { observe: () => {} };

export class BrokerMetrics {
  readonly requests: MetricCounter;
  readonly requestLatency: MetricHistogram;
  /** Open connections per listener. */
  readonly connections: MetricLabelledGauge;
  readonly networkBytes: MetricCounter;
  /** Record bytes per topic: "in" from Produce, "out" from Fetch. */
  readonly topicBytes: MetricCounter;
  /** Records appended per topic by Produce (Kafka's MessagesInPerSec). */
  readonly topicMessagesIn: MetricCounter;
  readonly partitions: MetricGauge;
  /** The partitions hosted here, read when /metrics is scraped; set by the broker. */
  partitionSource: (() => Iterable<PartitionStats>) | undefined;
  /** Partitions of the image without a leader, read when /metrics is scraped. */
  offlinePartitionsSource: (() => number) | undefined;
  /** Requests waiting in the produce (acks=all) and fetch (min.bytes) purgatories. */
  purgatorySource: (() => { produce: number; fetch: number }) | undefined;
  /** The log directories, whose free and total bytes are read when /metrics is scraped. */
  logDirsSource: (() => readonly string[]) | undefined;
  /** Response bytes built and not yet taken by clients, read when /metrics is scraped. */
  queuedResponseBytesSource: (() => number) | undefined;
  /** Committed offsets of the groups coordinated here, read when /metrics is scraped. */
  groupOffsetsSource: (() => Iterable<CommittedOffsetStats>) | undefined;
  readonly #registry: Registry | undefined;
  #server: Server | undefined;
  /** Forgets the partitions read by the previous scrape. */
  #beginScrape: () => void = () => {};

  private constructor(
    registry: Registry | undefined,
    metrics: Pick<
      BrokerMetrics,
      | "requests"
      | "requestLatency"
      | "connections"
      | "networkBytes"
      | "topicBytes"
      | "topicMessagesIn"
      | "partitions"
    >,
  ) {
    this.#registry = registry;
    this.requests = metrics.requests;
    this.requestLatency = metrics.requestLatency;
    this.connections = metrics.connections;
    this.networkBytes = metrics.networkBytes;
    this.topicBytes = metrics.topicBytes;
    this.topicMessagesIn = metrics.topicMessagesIn;
    this.partitions = metrics.partitions;
  }

  /** Metrics that record nothing (the endpoint is disabled). */
  static disabled(): BrokerMetrics {
    return new BrokerMetrics(undefined, {
      requests: NO_COUNTER,
      requestLatency: NO_HISTOGRAM,
      connections: NO_LABELLED_GAUGE,
      networkBytes: NO_COUNTER,
      topicBytes: NO_COUNTER,
      topicMessagesIn: NO_COUNTER,
      partitions: NO_GAUGE,
    });
  }

  /** Real metrics on a fresh registry. */
  static async enabled(): Promise<BrokerMetrics> {
    const { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } = await import("prom-client");
    const registry = new Registry();
    // Process and runtime metrics: CPU, memory, GC pauses (krill_nodejs_gc_duration_seconds) and
    // event-loop delay (krill_nodejs_eventloop_lag_*_seconds).
    collectDefaultMetrics({ register: registry, prefix: "krill_" });
    const registers = [registry];
    let self: BrokerMetrics | undefined;
    /** The hosted partitions, read once per scrape (serve() clears it before each) by the first gauge. */
    let scraped: PartitionStats[] | undefined;
    const partitionsNow = (): PartitionStats[] => {
      scraped ??= [...(self?.partitionSource?.() ?? [])];
      return scraped;
    };
    const perPartition = (name: string, help: string, value: (p: PartitionStats) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ["topic", "partition"],
        registers,
        collect() {
          this.reset();
          const partitions = partitionsNow();
          if (partitions.length > PARTITION_SERIES_MAX) return;
          for (const p of partitions) this.set({ topic: p.topic, partition: String(p.partition) }, value(p));
        },
      });
    perPartition(
      "krill_partition_log_end_offset",
      "Log end offset per partition (Kafka: kafka.log:type=Log,name=LogEndOffset).",
      (p) => p.logEndOffset,
    );
    perPartition(
      "krill_partition_log_start_offset",
      "Log start offset per partition (Kafka: kafka.log:type=Log,name=LogStartOffset).",
      (p) => p.logStartOffset,
    );
    perPartition(
      "krill_partition_high_watermark",
      "High watermark per partition (Redpanda: vectorized_cluster_partition_high_watermark).",
      (p) => p.highWatermark,
    );
    perPartition(
      "krill_partition_size_bytes",
      "Bytes on disk per partition (Kafka: kafka.log:type=Log,name=Size).",
      (p) => p.sizeBytes,
    );
    new Gauge({
      name: "krill_log_size_bytes",
      help: "Bytes stored on disk per topic (the sum of its partitions' Size).",
      labelNames: ["topic"],
      registers,
      collect() {
        this.reset();
        for (const p of partitionsNow()) this.inc({ topic: p.topic }, p.sizeBytes);
      },
    });
    new Gauge({
      name: "krill_leader_partitions",
      help: "Partitions this broker leads (Kafka: ReplicaManager LeaderCount).",
      registers,
      collect() {
        this.set(partitionsNow().filter((p) => p.isLeader).length);
      },
    });
    new Gauge({
      name: "krill_under_replicated_partitions",
      help: "Partitions led here whose ISR is smaller than their replica set (Kafka: ReplicaManager UnderReplicatedPartitions).",
      registers,
      collect() {
        this.set(partitionsNow().filter((p) => p.underReplicated).length);
      },
    });
    new Gauge({
      name: "krill_offline_partitions",
      help: "Partitions without a leader (Kafka: KafkaController OfflinePartitionsCount).",
      registers,
      collect() {
        this.set(self?.offlinePartitionsSource?.() ?? 0);
      },
    });
    new Gauge({
      name: "krill_purgatory_size",
      help: "Requests waiting in a purgatory: Produce for acks=all, Fetch for min.bytes (Kafka: DelayedOperationPurgatory PurgatorySize).",
      labelNames: ["operation"],
      registers,
      collect() {
        const sizes = self?.purgatorySource?.() ?? { produce: 0, fetch: 0 };
        this.set({ operation: "Produce" }, sizes.produce);
        this.set({ operation: "Fetch" }, sizes.fetch);
      },
    });
    const diskGauge = (
      name: string,
      help: string,
      bytes: (s: { bavail: number; blocks: number; bsize: number }) => number,
    ) =>
      new Gauge({
        name,
        help,
        labelNames: ["dir"],
        registers,
        collect() {
          this.reset();
          for (const dir of self?.logDirsSource?.() ?? []) {
            try {
              this.set({ dir }, bytes(statfsSync(dir)));
            } catch {
              // A directory that cannot be read has no figure; the log's own errors report it.
            }
          }
        },
      });
    diskGauge(
      "krill_log_dir_free_bytes",
      "Bytes available to the broker in each log directory's file system (Redpanda: storage_disk_free_bytes; Kafka: DescribeLogDirs usableBytes).",
      (s) => s.bavail * s.bsize,
    );
    diskGauge(
      "krill_log_dir_total_bytes",
      "Size of each log directory's file system (Redpanda: storage_disk_total_bytes; Kafka: DescribeLogDirs totalBytes).",
      (s) => s.blocks * s.bsize,
    );
    /** Consumer group lag, computed once per scrape (serve() clears it before each). */
    let lagScraped: ConsumerLagSeries | undefined;
    const lagNow = (): ConsumerLagSeries => {
      lagScraped ??= consumerLagSeries(self?.groupOffsetsSource?.() ?? [], partitionsNow());
      return lagScraped;
    };
    const perCommittedOffset = (
      name: string,
      help: string,
      value: (r: ConsumerLagRow) => number | undefined,
    ) =>
      new Gauge({
        name,
        help,
        labelNames: ["group", "topic", "partition"],
        registers,
        collect() {
          this.reset();
          for (const r of lagNow().partitions ?? []) {
            const v = value(r);
            if (v !== undefined)
              this.set({ group: r.group, topic: r.topic, partition: String(r.partition) }, v);
          }
        },
      });
    perCommittedOffset(
      "krill_consumer_group_committed_offset",
      "Committed offset per group and partition, for groups coordinated here (Redpanda: redpanda_kafka_consumer_group_committed_offset; Kafka: kafka-consumer-groups CURRENT-OFFSET).",
      (r) => r.offset,
    );
    perCommittedOffset(
      "krill_consumer_group_lag",
      "High watermark minus committed offset per group and partition led here (Kafka: kafka-consumer-groups LAG; kafka-lag-exporter: kafka_consumergroup_group_lag).",
      (r) => r.lag,
    );
    const perGroup = (
      name: string,
      help: string,
      value: (g: ConsumerLagSeries["groups"][number]) => number,
    ) =>
      new Gauge({
        name,
        help,
        labelNames: ["group"],
        registers,
        collect() {
          this.reset();
          for (const g of lagNow().groups) this.set({ group: g.group }, value(g));
        },
      });
    perGroup(
      "krill_consumer_group_lag_sum",
      "Sum of a group's lag over the partitions led here (Redpanda: redpanda_kafka_consumer_group_lag_sum).",
      (g) => g.lagSum,
    );
    perGroup(
      "krill_consumer_group_lag_max",
      "Largest lag of a group over the partitions led here (Redpanda: redpanda_kafka_consumer_group_lag_max).",
      (g) => g.lagMax,
    );
    new Gauge({
      name: "krill_consumer_groups",
      help: "Groups holding committed offsets on this coordinator (Kafka: GroupMetadataManager NumGroups).",
      registers,
      collect() {
        this.set(lagNow().groupCount);
      },
    });
    new Gauge({
      name: "krill_queued_response_bytes",
      help: "Bytes of responses built and not yet taken by clients, over all connections (bound: krill.queued.max.response.bytes.total).",
      registers,
      collect() {
        this.set(self?.queuedResponseBytesSource?.() ?? 0);
      },
    });
    self = new BrokerMetrics(registry, {
      requests: new Counter({
        name: "krill_requests_total",
        help: "Requests handled, by API, version and outcome (ok, error, closed) (Kafka: RequestMetrics RequestsPerSec{request,version}).",
        labelNames: ["api", "version", "outcome"],
        registers,
      }),
      requestLatency: new Histogram({
        name: "krill_request_latency_seconds",
        help: "Time from a request's arrival to its response being ready, by API (Kafka: RequestMetrics TotalTimeMs).",
        labelNames: ["api"],
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers,
      }),
      connections: new Gauge({
        name: "krill_connections",
        help: "Open client connections per listener (Kafka: socket-server-metrics connection-count{listener}).",
        labelNames: ["listener"],
        registers,
      }),
      networkBytes: new Counter({
        name: "krill_network_bytes_total",
        help: "Bytes read from and written to client sockets.",
        labelNames: ["direction"],
        registers,
      }),
      topicBytes: new Counter({
        name: "krill_topic_bytes_total",
        help: "Record bytes produced to (in) and fetched from (out) each topic (Kafka: BrokerTopicMetrics BytesInPerSec/BytesOutPerSec).",
        labelNames: ["topic", "direction"],
        registers,
      }),
      topicMessagesIn: new Counter({
        name: "krill_topic_messages_in_total",
        help: "Records appended to each topic by Produce (Kafka: BrokerTopicMetrics MessagesInPerSec).",
        labelNames: ["topic"],
        registers,
      }),
      partitions: new Gauge({
        name: "krill_partitions",
        help: "Partitions in the metadata image (Kafka: ReplicaManager PartitionCount).",
        registers,
      }),
    });
    self.#beginScrape = () => {
      scraped = undefined;
      lagScraped = undefined;
    };
    return self;
  }

  /**
   * One answered or refused request. `version` is the request's version when the API serves it,
   * else undefined (exported as "unsupported"), so a client cannot add label values at will.
   */
  onRequest(
    apiName: string,
    version: number | undefined,
    latencyMs: number,
    outcome: "ok" | "error" | "closed",
  ): void {
    this.requests.inc({
      api: apiName,
      version: version === undefined ? "unsupported" : String(version),
      outcome,
    });
    this.requestLatency.observe({ api: apiName }, latencyMs / 1000);
  }

  /**
   * Starts the HTTP endpoint: /metrics (Prometheus), /health (200 while the process answers) and
   * /ready (200 when `health` reports ready, else 503; the body is the report as JSON). Resolves
   * with the bound port.
   */
  async serve(host: string, port: number, logger: Logger, health?: BrokerHealth): Promise<number> {
    const registry = this.#registry;
    if (registry === undefined) throw new Error("assertion: serve() on disabled metrics");
    // Loaded here, not at the top: importing node:http costs ~55 ms of start-up CPU and ~6 MiB of
    // resident memory (it pulls in undici), which a broker without the endpoint never needs.
    const { createServer } = await import("node:http");
    const server = createServer((req, res) => {
      const url = (req.url ?? "/").split("?")[0];
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: "GET, HEAD" }).end();
        return;
      }
      if (url === "/health" || url === "/healthz") {
        res.writeHead(200, { "content-type": "application/json" }).end('{"status":"up"}\n');
        return;
      }
      if ((url === "/ready" || url === "/readyz") && health !== undefined) {
        const report = health.report();
        res
          .writeHead(report.ready ? 200 : 503, { "content-type": "application/json" })
          .end(`${JSON.stringify(report)}\n`);
        return;
      }
      if (url !== "/metrics" && url !== "/") {
        res.writeHead(404).end();
        return;
      }
      this.#beginScrape();
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { "content-type": registry.contentType }).end(text);
        },
        (err: unknown) => {
          logger.error({ err }, "metrics collection failed");
          res.writeHead(500).end();
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: host === "" ? undefined : host, port }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.#server = server;
    const bound = (server.address() as AddressInfo).port;
    logger.info({ host, port: bound }, "metrics endpoint listening");
    return bound;
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.#server = undefined;
  }
}
