/**
 * One client connection: frames in, responses out, strictly in request order.
 *
 * Requests are pipelined: every complete frame is handed to the processor at once, in arrival
 * order, and may complete in any order; responses are written in request order as the head of the
 * queue completes. The processor decides per API whether a request must wait for the earlier ones
 * (`waitForEarlier`) or may run alongside them. Reading pauses while too many requests are in flight
 * or too many response bytes wait in the socket, and resumes when both fall back below the bounds,
 * so one client cannot make the broker buffer without limit. Responses go out as chunk lists in one
 * corked burst (Node turns that into a writev), so stored log bytes reach the socket uncopied.
 *
 * Concurrency: all state is touched from the event loop only; a request's completion never runs
 * in the middle of another's synchronous section.
 */
import type { Socket } from "node:net";
import type { Logger } from "pino";
import { isKrillError } from "../../errors.js";
import { isLentReadBuffer, releaseReadBuffer } from "../../log/read-buffer-pool.js";
import { FrameDecoder } from "./frame-decoder.js";

/** What the processor decided for one request. */
export type RequestOutcome =
  | { readonly kind: "respond"; readonly chunks: readonly Buffer[] }
  /** acks=0 produce: the client expects nothing back. */
  | { readonly kind: "none" }
  /** Undecodable input: drop the connection after earlier responses are written. */
  | { readonly kind: "close"; readonly reason: string };

export interface ConnectionInfo {
  readonly id: number;
  readonly listenerName: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Logger carrying the connection id and remote address. */
  readonly logger: Logger;
}

export interface FrameProcessor {
  /**
   * Handles one request frame. Called synchronously in arrival order. `waitForEarlier` resolves
   * once every earlier request on this connection has completed.
   */
  process(
    frame: Buffer,
    connection: ConnectionInfo,
    waitForEarlier: () => Promise<void>,
  ): RequestOutcome | Promise<RequestOutcome>;
}

export interface ConnectionLimits {
  readonly frameBytesMax: number;
  readonly inFlightRequestsMax: number;
  readonly queuedResponseBytesMax: number;
  /** -1 disables the idle timeout. */
  readonly idleMs: number;
}

interface Pending {
  outcome: RequestOutcome | undefined;
  settled: Promise<void>;
}

export class Connection implements ConnectionInfo {
  readonly id: number;
  readonly listenerName: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly logger: Logger;
  readonly #socket: Socket;
  readonly #processor: FrameProcessor;
  readonly #limits: ConnectionLimits;
  readonly #decoder: FrameDecoder;
  readonly #queue: Pending[] = [];
  #tail: Promise<void> = Promise.resolve();
  #readPaused = false;
  #closing = false;
  #closed = false;
  #draining = false;
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;
  /** Observers for metrics; called with bytes read/written. */
  onBytesIn: (bytes: number) => void = () => {};
  onBytesOut: (bytes: number) => void = () => {};

  constructor(
    id: number,
    listenerName: string,
    socket: Socket,
    processor: FrameProcessor,
    limits: ConnectionLimits,
    logger: Logger,
  ) {
    this.id = id;
    this.listenerName = listenerName;
    this.#socket = socket;
    this.#processor = processor;
    this.#limits = limits;
    this.remoteAddress = socket.remoteAddress ?? "unknown";
    this.remotePort = socket.remotePort ?? 0;
    this.logger = logger.child({ conn: id, remote: `${this.remoteAddress}:${this.remotePort}` });
    this.#decoder = new FrameDecoder(limits.frameBytesMax);
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("drain", () => this.#maybeResume());
    socket.on("error", (err) => this.logger.debug({ err }, "socket error"));
    socket.on("close", () => this.#onClose());
    socket.on("end", () => {
      // The client half-closed: answer what is in flight, then finish.
      this.closeGracefully();
    });
    if (limits.idleMs >= 0) {
      socket.setTimeout(limits.idleMs, () => {
        if (this.#queue.length > 0) return;
        this.logger.info({ idleMs: limits.idleMs }, "closing idle connection (connections.max.idle.ms)");
        socket.destroy();
      });
    }
  }

  get inFlightRequests(): number {
    return this.#queue.length;
  }

  #onData(chunk: Buffer): void {
    this.onBytesIn(chunk.length);
    if (this.#closing) return;
    this.#decoder.push(chunk);
    this.#pump();
  }

  /** Takes frames off the decoder while the in-flight and queued-bytes bounds allow. */
  #pump(): void {
    while (!this.#closing && !this.#overLimit()) {
      let frame: Buffer | undefined;
      try {
        frame = this.#decoder.next();
      } catch (err) {
        const reason = isKrillError(err) ? err.message : String(err);
        this.logger.warn({ reason }, "closing connection: bad frame");
        this.#socket.destroy();
        return;
      }
      if (frame === undefined) break;
      this.#dispatch(frame);
    }
    if (this.#overLimit()) this.#pauseReading();
  }

  #overLimit(): boolean {
    return (
      this.#queue.length >= this.#limits.inFlightRequestsMax ||
      this.#socket.writableLength >= this.#limits.queuedResponseBytesMax
    );
  }

  #pauseReading(): void {
    if (this.#readPaused) return;
    this.#readPaused = true;
    this.#socket.pause();
  }

  #maybeResume(): void {
    if (this.#closing || this.#overLimit()) return;
    // Frames already buffered go first; only then ask the socket for more.
    this.#pump();
    if (this.#readPaused && !this.#overLimit()) {
      this.#readPaused = false;
      this.#socket.resume();
    }
  }

  #dispatch(frame: Buffer): void {
    const earlier = this.#tail;
    const entry: Pending = { outcome: undefined, settled: Promise.resolve() };
    this.#queue.push(entry);
    let result: RequestOutcome | Promise<RequestOutcome>;
    try {
      result = this.#processor.process(frame, this, () => earlier);
    } catch (err) {
      result = { kind: "close", reason: `request handling failed: ${String(err)}` };
      this.logger.error({ err }, "request processor threw");
    }
    if (!(result instanceof Promise)) {
      entry.outcome = result;
      this.#tail = earlier;
      this.#flush();
      return;
    }
    entry.settled = result.then(
      (outcome) => {
        entry.outcome = outcome;
        this.#flush();
      },
      (err: unknown) => {
        this.logger.error({ err }, "request processor failed");
        entry.outcome = { kind: "close", reason: "request handling failed" };
        this.#flush();
      },
    );
    this.#tail = Promise.all([earlier, entry.settled]).then(() => {});
  }

  /** Writes every completed response at the head of the queue, in order. */
  #flush(): void {
    if (this.#closed) return;
    let corked = false;
    while (this.#queue.length > 0 && this.#queue[0]!.outcome !== undefined) {
      const outcome = this.#queue.shift()!.outcome!;
      if (outcome.kind === "close") {
        this.logger.warn({ reason: outcome.reason }, "closing connection");
        if (corked) this.#socket.uncork();
        this.#closing = true;
        this.#socket.end();
        this.#queue.length = 0;
        return;
      }
      if (outcome.kind === "respond") {
        if (!corked) {
          this.#socket.cork();
          corked = true;
        }
        let bytes = 0;
        let lent: Buffer[] | undefined;
        const last = outcome.chunks.length - 1;
        for (let i = 0; i <= last; i++) {
          const chunk = outcome.chunks[i]!;
          bytes += chunk.length;
          if (isLentReadBuffer(chunk)) {
            lent ??= [];
            lent.push(chunk);
          }
          // Writes complete in order, so once the last chunk is written (or failed: the socket
          // is done with every chunk) the response's pooled read buffers can be reused.
          if (i === last && lent !== undefined) this.#socket.write(chunk, releaseAll(lent));
          else this.#socket.write(chunk);
        }
        this.onBytesOut(bytes);
      }
    }
    if (corked) this.#socket.uncork();
    if (this.#draining && this.#queue.length === 0) {
      this.#socket.end();
      return;
    }
    this.#maybeResume();
  }

  /** Stops reading new requests, answers those in flight, then ends the connection. */
  closeGracefully(): Promise<void> {
    if (!this.#closed) {
      this.#closing = true;
      this.#draining = true;
      this.#socket.pause();
      if (this.#queue.length === 0) this.#socket.end();
    }
    return this.closed;
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #onClose(): void {
    this.#closed = true;
    this.#closing = true;
    this.#queue.length = 0;
    this.#resolveClosed();
  }
}

function releaseAll(buffers: readonly Buffer[]): () => void {
  return () => {
    for (const b of buffers) releaseReadBuffer(b);
  };
}
