/**
 * Prometheus metrics for one broker, on its own registry so several brokers in one process (tests)
 * do not collide. Served over HTTP at `metrics.host:metrics.port/metrics` when metrics.port > 0.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export class BrokerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<"api" | "outcome">;
  readonly requestLatency: Histogram<"api">;
  readonly connections: Gauge;
  readonly networkBytes: Counter<"direction">;
  readonly topicBytes: Counter<"topic" | "direction">;
  readonly partitions: Gauge;
  readonly logSizeBytes: Gauge<"topic">;
  /** Bytes per partition log, read when /metrics is scraped; set by the broker. */
  logSizeSource: (() => Iterable<{ topic: string; bytes: number }>) | undefined;
  #server: http.Server | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "krill_" });
    this.requests = new Counter({
      name: "krill_requests_total",
      help: "Requests handled, by API and outcome (ok, error, closed).",
      labelNames: ["api", "outcome"],
      registers: [this.registry],
    });
    this.requestLatency = new Histogram({
      name: "krill_request_latency_seconds",
      help: "Time from a request's arrival to its response being ready, by API.",
      labelNames: ["api"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
    this.connections = new Gauge({
      name: "krill_connections",
      help: "Open client connections.",
      registers: [this.registry],
    });
    this.networkBytes = new Counter({
      name: "krill_network_bytes_total",
      help: "Bytes read from and written to client sockets.",
      labelNames: ["direction"],
      registers: [this.registry],
    });
    this.topicBytes = new Counter({
      name: "krill_topic_bytes_total",
      help: "Record bytes produced to (in) and fetched from (out) each topic.",
      labelNames: ["topic", "direction"],
      registers: [this.registry],
    });
    this.partitions = new Gauge({
      name: "krill_partitions",
      help: "Partitions in the metadata image.",
      registers: [this.registry],
    });
    const metrics = this;
    this.logSizeBytes = new Gauge({
      name: "krill_log_size_bytes",
      help: "Bytes stored on disk per topic.",
      labelNames: ["topic"],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { topic, bytes } of metrics.logSizeSource?.() ?? []) this.inc({ topic }, bytes);
      },
    });
  }

  onRequest(apiName: string, latencyMs: number, outcome: "ok" | "error" | "closed"): void {
    this.requests.inc({ api: apiName, outcome });
    this.requestLatency.observe({ api: apiName }, latencyMs / 1000);
  }

  /** Starts the /metrics endpoint; resolves with the bound port. */
  async serve(host: string, port: number, logger: Logger): Promise<number> {
    const server = http.createServer((req, res) => {
      if (req.method !== "GET" || (req.url !== "/metrics" && req.url !== "/")) {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (text) => {
          res.writeHead(200, { "content-type": this.registry.contentType }).end(text);
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
