/**
 * Binds the broker's listeners and owns every client connection. One TCP server per listener;
 * the security protocol of each listener picks how a connection is set up (PLAINTEXT only today;
 * SSL and SASL would wrap or precede the frame pipeline here without touching dispatch).
 * `max.connections` is enforced across listeners: a connection beyond it is closed as soon as it
 * is accepted, with one log line.
 *
 * Concurrency: event-loop only. `stop()` stops accepting, lets every connection answer what it
 * has in flight, then resolves.
 */
import net from "node:net";
import type { Logger } from "pino";
import { SYSTEM_CLOCK } from "../../clock.js";
import type { ListenerSpec } from "../../config/broker-config.js";
import { KrillError } from "../../errors.js";
import { RateLimitedWarning } from "../../logging.js";
import { Connection, type ConnectionLimits, type FrameProcessor } from "./connection.js";

export interface BoundListener {
  readonly spec: ListenerSpec;
  /** The actual port (differs from spec.port when that was 0). */
  readonly port: number;
  readonly host: string;
}

export interface SocketServerOptions {
  readonly listeners: readonly ListenerSpec[];
  readonly limits: ConnectionLimits;
  /** Read per accepted connection: max.connections can change at run time. */
  readonly connectionsMax: () => number;
  readonly processor: FrameProcessor;
  readonly logger: Logger;
  readonly onConnectionCountChange?: (count: number) => void;
  readonly onBytes?: (direction: "in" | "out", bytes: number) => void;
  /** Warnings caused by clients, rate-limited over all connections (default: one per server). */
  readonly clientWarnings?: RateLimitedWarning;
}

export class SocketServer {
  readonly #options: SocketServerOptions;
  readonly #servers: net.Server[] = [];
  readonly #connections = new Set<Connection>();
  #nextConnectionId = 1;
  #bound: BoundListener[] = [];
  #stopping = false;

  readonly #clientWarnings: RateLimitedWarning;

  constructor(options: SocketServerOptions) {
    this.#options = options;
    this.#clientWarnings = options.clientWarnings ?? new RateLimitedWarning(SYSTEM_CLOCK);
  }

  get boundListeners(): readonly BoundListener[] {
    return this.#bound;
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  async start(): Promise<readonly BoundListener[]> {
    for (const spec of this.#options.listeners) {
      if (spec.securityProtocol !== "PLAINTEXT") {
        throw new KrillError(
          "UNSUPPORTED",
          `listener ${spec.name}: ${spec.securityProtocol} is not supported`,
        );
      }
      // allowHalfOpen lets a client that shuts down its side still receive the answers in flight.
      const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) =>
        this.#accept(spec, socket),
      );
      const host = spec.host === "" ? undefined : spec.host;
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => {
          reject(
            new KrillError(
              "UNSUPPORTED",
              `cannot bind listener ${spec.name} on ${spec.host}:${spec.port}: ${err.message}`,
              { cause: err },
            ),
          );
        };
        server.once("error", onError);
        server.listen({ port: spec.port, host }, () => {
          server.off("error", onError);
          resolve();
        });
      });
      server.on("error", (err) => this.#options.logger.error({ err, listener: spec.name }, "listener error"));
      this.#servers.push(server);
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : spec.port;
      this.#bound.push({ spec, port, host: spec.host });
      this.#options.logger.info({ listener: spec.name, host: spec.host || "*", port }, "listening");
    }
    return this.#bound;
  }

  #accept(spec: ListenerSpec, socket: net.Socket): void {
    const logger = this.#options.logger;
    if (this.#stopping) {
      socket.destroy();
      return;
    }
    const connectionsMax = this.#options.connectionsMax();
    if (this.#connections.size >= connectionsMax) {
      this.#clientWarnings.warn(
        logger,
        "max.connections",
        { remote: `${socket.remoteAddress}:${socket.remotePort}`, max: connectionsMax },
        "refusing connection: max.connections reached",
      );
      socket.destroy();
      return;
    }
    const id = this.#nextConnectionId++;
    const connection = new Connection(
      id,
      spec.name,
      socket,
      this.#options.processor,
      this.#options.limits,
      logger,
      this.#clientWarnings,
    );
    const onBytes = this.#options.onBytes;
    if (onBytes) {
      connection.onBytesIn = (n) => onBytes("in", n);
      connection.onBytesOut = (n) => onBytes("out", n);
    }
    this.#connections.add(connection);
    this.#options.onConnectionCountChange?.(this.#connections.size);
    void connection.closed.then(() => {
      this.#connections.delete(connection);
      this.#options.onConnectionCountChange?.(this.#connections.size);
    });
  }

  /**
   * Stops accepting, lets connections finish their in-flight requests (up to `graceMs`), then
   * destroys whatever is left.
   */
  async stop(graceMs = 5_000): Promise<void> {
    this.#stopping = true;
    const closing = this.#servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    const drained = Promise.all([...this.#connections].map((c) => c.closeGracefully()));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([drained, timedOut]);
    clearTimeout(timer);
    for (const c of this.#connections) c.destroy();
    await Promise.all(closing);
  }
}
