/**
 * Prometheus metrics for one broker, on its own registry so several brokers in one process (tests)
 * do not collide. Served over HTTP at `metrics.host:metrics.port/metrics` when metrics.port > 0.
 * prom-client is only loaded when the endpoint is enabled (it is a sixth of an idle broker's
 * memory); otherwise every metric is a no-op with the same shape, so callers never check.
 */
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

export interface MetricHistogram {
  observe(labels: Labels, value: number): void;
}

const NO_COUNTER: MetricCounter = { inc: () => {}, remove: () => {} };
const NO_GAUGE: MetricGauge = { set: () => {} };
const NO_HISTOGRAM: MetricHistogram = { observe: () => {} };

export class BrokerMetrics {
  readonly requests: MetricCounter;
  readonly requestLatency: MetricHistogram;
  readonly connections: MetricGauge;
  readonly networkBytes: MetricCounter;
  /** Record bytes per topic: "in" from Produce, "out" from Fetch. */
  readonly topicBytes: MetricCounter;
  readonly partitions: MetricGauge;
  /** Bytes per partition log, read when /metrics is scraped; set by the broker. */
  logSizeSource: (() => Iterable<{ topic: string; bytes: number }>) | undefined;
  /** Response bytes built and not yet taken by clients, read when /metrics is scraped. */
  queuedResponseBytesSource: (() => number) | undefined;
  readonly #registry: Registry | undefined;
  #server: Server | undefined;

  private constructor(
    registry: Registry | undefined,
    metrics: Pick<
      BrokerMetrics,
      "requests" | "requestLatency" | "connections" | "networkBytes" | "topicBytes" | "partitions"
    >,
  ) {
    this.#registry = registry;
    this.requests = metrics.requests;
    this.requestLatency = metrics.requestLatency;
    this.connections = metrics.connections;
    this.networkBytes = metrics.networkBytes;
    this.topicBytes = metrics.topicBytes;
    this.partitions = metrics.partitions;
  }

  /** Metrics that record nothing (the endpoint is disabled). */
  static disabled(): BrokerMetrics {
    return new BrokerMetrics(undefined, {
      requests: NO_COUNTER,
      requestLatency: NO_HISTOGRAM,
      connections: NO_GAUGE,
      networkBytes: NO_COUNTER,
      topicBytes: NO_COUNTER,
      partitions: NO_GAUGE,
    });
  }

  /** Real metrics on a fresh registry. */
  static async enabled(): Promise<BrokerMetrics> {
    const { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } = await import("prom-client");
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: "krill_" });
    const registers = [registry];
    let self: BrokerMetrics | undefined;
    new Gauge({
      name: "krill_log_size_bytes",
      help: "Bytes stored on disk per topic.",
      labelNames: ["topic"],
      registers,
      collect() {
        this.reset();
        for (const { topic, bytes } of self?.logSizeSource?.() ?? []) this.inc({ topic }, bytes);
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
        help: "Requests handled, by API and outcome (ok, error, closed).",
        labelNames: ["api", "outcome"],
        registers,
      }),
      requestLatency: new Histogram({
        name: "krill_request_latency_seconds",
        help: "Time from a request's arrival to its response being ready, by API.",
        labelNames: ["api"],
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers,
      }),
      connections: new Gauge({ name: "krill_connections", help: "Open client connections.", registers }),
      networkBytes: new Counter({
        name: "krill_network_bytes_total",
        help: "Bytes read from and written to client sockets.",
        labelNames: ["direction"],
        registers,
      }),
      topicBytes: new Counter({
        name: "krill_topic_bytes_total",
        help: "Record bytes produced to (in) and fetched from (out) each topic.",
        labelNames: ["topic", "direction"],
        registers,
      }),
      partitions: new Gauge({
        name: "krill_partitions",
        help: "Partitions in the metadata image.",
        registers,
      }),
    });
    return self;
  }

  onRequest(apiName: string, latencyMs: number, outcome: "ok" | "error" | "closed"): void {
    this.requests.inc({ api: apiName, outcome });
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
