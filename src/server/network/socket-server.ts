/**
 * Binds the broker's listeners and owns every client connection. One TCP server per listener;
 * the security protocol of each listener picks how a connection is set up: PLAINTEXT sockets go
 * straight to the frame pipeline, SSL sockets are wrapped in a TLS server socket first (the
 * handshake runs before any frame is read), SASL connections get a SaslSession and the SASL gate
 * in front of the dispatcher (sasl/session.ts). PLAINTEXT listeners do no extra work.
 * `max.connections` is enforced across listeners: a connection beyond it is closed as soon as it
 * is accepted, with one log line.
 *
 * Concurrency: event-loop only. `stop()` stops accepting, lets every connection answer what it
 * has in flight, then resolves.
 */
import net from "node:net";
import tls from "node:tls";
import type { Logger } from "pino";
import { SYSTEM_CLOCK } from "../../clock.js";
import type { ListenerSpec } from "../../config/broker-config.js";
import type { SaslListenerSettings } from "../../config/sasl-settings.js";
import type { ListenerTlsSettings } from "../../config/tls-settings.js";
import { KrillError } from "../../errors.js";
import { RateLimitedWarning } from "../../logging.js";
import type { ScramCredentialLookup } from "../sasl/scram.js";
import { SaslSession, saslGate } from "../sasl/session.js";
import { Connection, type ConnectionLimits, type FrameProcessor } from "./connection.js";
import { certificatePrincipal, createServerTls, type ServerTls } from "./tls-context.js";

export interface BoundListener {
  readonly spec: ListenerSpec;
  /** The actual port (differs from spec.port when that was 0). */
  readonly port: number;
  readonly host: string;
}

export interface SocketServerOptions {
  readonly listeners: readonly ListenerSpec[];
  /** TLS settings of the SSL and SASL_SSL listeners, by listener name. */
  readonly listenerTls?: ReadonlyMap<string, ListenerTlsSettings>;
  /** SASL settings of the SASL_PLAINTEXT and SASL_SSL listeners, by listener name. */
  readonly listenerSasl?: ReadonlyMap<string, SaslListenerSettings>;
  /** SCRAM credentials, read from the current metadata image at each authentication. */
  readonly scramCredentials?: ScramCredentialLookup;
  readonly limits: ConnectionLimits;
  /** Read per accepted connection: max.connections can change at run time. */
  readonly connectionsMax: () => number;
  readonly processor: FrameProcessor;
  readonly logger: Logger;
  /** Open connections of one listener, after each change. */
  readonly onConnectionCountChange?: (listener: string, count: number) => void;
  readonly onBytes?: (direction: "in" | "out", bytes: number) => void;
  /** Warnings caused by clients, rate-limited over all connections (default: one per server). */
  readonly clientWarnings?: RateLimitedWarning;
}

export class SocketServer {
  readonly #options: SocketServerOptions;
  readonly #servers: net.Server[] = [];
  readonly #connections = new Set<Connection>();
  /** TLS connections accepted and still in their handshake, by remote address:port. */
  readonly #handshaking = new Map<string, net.Socket>();
  #nextConnectionId = 1;
  #bound: BoundListener[] = [];
  #stopping = false;

  readonly #clientWarnings: RateLimitedWarning;
  /** The processor of SASL listeners: the gate of sasl/session.ts in front of the dispatcher. */
  readonly #saslProcessor: FrameProcessor;
  /** Open connections per listener name (bounded by the configured listeners). */
  readonly #perListener = new Map<string, number>();

  constructor(options: SocketServerOptions) {
    this.#options = options;
    this.#clientWarnings = options.clientWarnings ?? new RateLimitedWarning(SYSTEM_CLOCK);
    this.#saslProcessor = saslGate(options.processor);
  }

  get boundListeners(): readonly BoundListener[] {
    return this.#bound;
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  async start(): Promise<readonly BoundListener[]> {
    for (const spec of this.#options.listeners) {
      let serverTls: ServerTls | undefined;
      let sasl: SaslListenerSettings | undefined;
      const protocol = spec.securityProtocol;
      if (protocol === "SSL" || protocol === "SASL_SSL") {
        const settings = this.#options.listenerTls?.get(spec.name);
        if (settings === undefined) {
          throw new KrillError(
            "CONFIG_INVALID",
            `listener ${spec.name} uses ${protocol} and has no TLS settings`,
          );
        }
        // Reads the key and trust stores now: a bad one stops start-up before anything is bound.
        serverTls = createServerTls(settings);
      }
      if (protocol === "SASL_PLAINTEXT" || protocol === "SASL_SSL") {
        sasl = this.#options.listenerSasl?.get(spec.name);
        if (sasl === undefined) {
          throw new KrillError(
            "CONFIG_INVALID",
            `listener ${spec.name} uses ${protocol} and has no SASL settings`,
          );
        }
      } else if (protocol !== "PLAINTEXT" && protocol !== "SSL") {
        throw new KrillError(
          "UNSUPPORTED",
          `listener ${spec.name}: ${spec.securityProtocol} is not supported`,
        );
      }
      const tlsServer = serverTls?.createServer({
        handshakeTimeoutMs: this.#options.limits.idleMs > 0 ? this.#options.limits.idleMs : 120_000,
        onSecure: (socket) => {
          this.#handshaking.delete(`${socket.remoteAddress}:${socket.remotePort}`);
          this.#open(spec, socket, sasl);
        },
        onFailure: (err, socket) => {
          const remote = `${socket.remoteAddress}:${socket.remotePort}`;
          this.#handshaking.delete(remote);
          // Kafka logs a failed handshake as a failed authentication, at info level.
          this.#options.logger.info(
            { listener: spec.name, remote, reason: err.message },
            "failed authentication (TLS handshake failed)",
          );
        },
      });
      // allowHalfOpen lets a client that shuts down its side still receive the answers in flight.
      const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) =>
        this.#accept(spec, socket, tlsServer, sasl),
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

  #accept(
    spec: ListenerSpec,
    socket: net.Socket,
    tlsServer: tls.Server | undefined,
    sasl: SaslListenerSettings | undefined,
  ): void {
    const logger = this.#options.logger;
    if (this.#stopping) {
      socket.destroy();
      return;
    }
    const connectionsMax = this.#options.connectionsMax();
    if (this.#connections.size + this.#handshaking.size >= connectionsMax) {
      this.#clientWarnings.warn(
        logger,
        "max.connections",
        { remote: `${socket.remoteAddress}:${socket.remotePort}`, max: connectionsMax },
        "refusing connection: max.connections reached",
      );
      socket.destroy();
      return;
    }
    if (tlsServer === undefined) {
      this.#open(spec, socket, sasl);
      return;
    }
    // Counted against max.connections from accept, as Kafka counts a connection in handshake.
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.#handshaking.set(remote, socket);
    socket.once("close", () => this.#handshaking.delete(remote));
    tlsServer.emit("connection", socket);
  }

  #countListener(listener: string, delta: number): void {
    const count = (this.#perListener.get(listener) ?? 0) + delta;
    this.#perListener.set(listener, count);
    this.#options.onConnectionCountChange?.(listener, count);
  }

  #open(spec: ListenerSpec, socket: net.Socket, sasl: SaslListenerSettings | undefined): void {
    const logger = this.#options.logger;
    if (this.#stopping) {
      socket.destroy();
      return;
    }
    const id = this.#nextConnectionId++;
    const lookup = this.#options.scramCredentials ?? (() => undefined);
    const connection = new Connection(
      id,
      spec.name,
      socket,
      sasl === undefined ? this.#options.processor : this.#saslProcessor,
      this.#options.limits,
      logger,
      this.#clientWarnings,
      sasl === undefined ? undefined : new SaslSession(sasl, lookup),
      socket instanceof tls.TLSSocket ? certificatePrincipal(socket) : undefined,
    );
    const onBytes = this.#options.onBytes;
    if (onBytes) {
      connection.onBytesIn = (n) => onBytes("in", n);
      connection.onBytesOut = (n) => onBytes("out", n);
    }
    this.#connections.add(connection);
    this.#countListener(spec.name, 1);
    void connection.closed.then(() => {
      this.#connections.delete(connection);
      this.#countListener(spec.name, -1);
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
    for (const s of this.#handshaking.values()) s.destroy();
    await Promise.all(closing);
  }
}
