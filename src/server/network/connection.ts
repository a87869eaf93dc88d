/**
 * One client connection: frames in, responses out, strictly in request order.
 *
 * Requests are pipelined: every complete frame is handed to the processor at once, in arrival
 * order, and may complete in any order; responses are written in request order as the head of the
 * queue completes. The processor decides per API whether a request must wait for the earlier ones
 * (`waitForEarlier`) or may run alongside them. Responses go out as chunk lists in one corked
 * burst (Node turns that into a writev), so stored log bytes reach the socket uncopied.
 *
 * Memory: a client that pipelines requests and never reads the responses must not make the
 * broker hold responses without limit. The bytes of responses built and not yet taken by the
 * kernel are counted per connection (`queuedResponseBytesMax`) and over all connections
 * (ResponseMemory, `queued.max.response.bytes.total`), in two parts: written to the socket and
 * waiting for the client to read ("written"), and completed behind an earlier request still
 * running ("completed"). Two things follow from the counts:
 * - Reading pauses while too many requests are in flight, or either count is at its bound, and
 *   resumes when all are back below (requests already read still complete).
 * - A request starts (`waitForRoom`) only when its response has room: the oldest request not yet
 *   answered (the head) when the written bytes are below the bound, since what completed behind it
 *   cannot be written before it; any other when written plus completed bytes are below the bound,
 *   the total has room, and fewer than EXECUTING_MAX such requests run. So a Fetch pipelined
 *   behind thousands of unread ones does not read its megabyte from the log until the client has
 *   read what came before, and the head can always proceed once the client reads (no deadlock).
 *   A well-behaved client reads as it goes and never waits here.
 *
 * Quota throttling (KIP-219): a response that carries a throttle time (`throttleMs`, the
 * throttle_time_ms it tells the client) is written at once, and then the connection reads no new
 * request until that time has passed ("muted"), as Kafka's SocketServer mutes a throttled channel;
 * requests already read still complete. A later throttle while muted extends it.
 *
 * Concurrency: all state is touched from the event loop only; a request's completion never runs
 * in the middle of another's synchronous section.
 */
import type { Socket } from "node:net";
import type { Logger } from "pino";
import { SYSTEM_CLOCK } from "../../clock.js";
import { isKrillError } from "../../errors.js";
import { isLentReadBuffer, releaseReadBuffer } from "../../log/read-buffer-pool.js";
import { RateLimitedWarning } from "../../logging.js";
import type { SaslSession } from "../sasl/session.js";
import { FrameDecoder } from "./frame-decoder.js";
import { isLentFrameBuffer, releaseFrameBuffer } from "./frame-pool.js";
import { ResponseMemory } from "./response-memory.js";

/** Requests other than the head that may run at once on one connection (concurrent handlers). */
export const EXECUTING_MAX = 16;

/** What the processor decided for one request. */
export type RequestOutcome =
  /** `closeAfter`: end the connection once this response is written (a failed authentication). */
  | {
      readonly kind: "respond";
      readonly chunks: readonly Buffer[];
      readonly closeAfter?: boolean;
      /** Mute the connection this long once the response is written (a client quota's throttle). */
      readonly throttleMs?: number;
    }
  /** acks=0 produce: the client expects nothing back (a throttle still mutes the connection). */
  | { readonly kind: "none"; readonly throttleMs?: number }
  /** Undecodable input: drop the connection after earlier responses are written. */
  | { readonly kind: "close"; readonly reason: string };

export interface ConnectionInfo {
  readonly id: number;
  readonly listenerName: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Logger carrying the connection id and remote address. */
  readonly logger: Logger;
  /** SASL state, on SASL_PLAINTEXT and SASL_SSL listeners only (sasl/session.ts). */
  readonly sasl?: SaslSession;
  /** `User:<distinguished name>` of a verified TLS client certificate (tls-context.ts). */
  readonly tlsPrincipal?: string;
  /** Resolves once the connection has closed (a socket's; absent for in-process callers). */
  readonly closed?: Promise<void>;
}

export interface FrameProcessor {
  /**
   * Handles one request frame. Called synchronously in arrival order. `waitForEarlier` resolves
   * once every earlier request on this connection has completed. `waitForRoom` must be called
   * once before the request does its work (after `waitForEarlier`, for a request that waits for
   * it): undefined when its response has room now, else a promise resolved when it has.
   */
  process(
    frame: Buffer,
    connection: ConnectionInfo,
    waitForEarlier: () => Promise<void>,
    waitForRoom: () => Promise<void> | undefined,
  ): RequestOutcome | Promise<RequestOutcome>;
}

export interface ConnectionLimits {
  readonly frameBytesMax: number;
  readonly inFlightRequestsMax: number;
  /** Bytes of built responses the kernel has not taken yet, on one connection. */
  readonly queuedResponseBytesMax: number;
  /** The count over all connections, with its own bound; unbounded when absent. */
  readonly responseMemory?: ResponseMemory;
  /** -1 disables the idle timeout. */
  readonly idleMs: number;
  /**
   * API keys whose handlers keep none of the request frame's bytes once the request completes:
   * their frames that span socket reads are copied into pooled buffers (frame-pool.ts), handed
   * back at completion. Absent: none.
   */
  readonly pooledFrameApiKeys?: ReadonlySet<number>;
}

interface Pending {
  outcome: RequestOutcome | undefined;
  settled: Promise<void>;
  /** Passed waitForRoom and not completed yet. */
  started: boolean;
  /** Bytes of its response, counted from completion until the kernel takes them. */
  bytes: number;
  /** Its frame, when it is a pooled buffer to hand back at completion. */
  pooledFrame: Buffer | undefined;
}

export class Connection implements ConnectionInfo {
  readonly id: number;
  readonly listenerName: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly logger: Logger;
  readonly sasl: SaslSession | undefined;
  readonly tlsPrincipal: string | undefined;
  readonly #socket: Socket;
  readonly #processor: FrameProcessor;
  readonly #limits: ConnectionLimits;
  readonly #decoder: FrameDecoder;
  readonly #queue: Pending[] = [];
  #tail: Promise<void> = Promise.resolve();
  readonly #memory: ResponseMemory;
  readonly #clientWarnings: RateLimitedWarning;
  /** Response bytes written to the socket that the kernel has not taken (the client is slow). */
  #writtenBytes = 0;
  /** Response bytes completed and waiting for an earlier request to complete. */
  #completedBytes = 0;
  /** Requests past waitForRoom and not completed. */
  #executing = 0;
  readonly #roomWaiters: { entry: Pending; resolve: () => void }[] = [];
  readonly #onMemoryRoom = () => {
    this.#wakeRoomWaiters();
    this.#maybeResume();
  };
  #readPaused = false;
  /** Muted by a quota throttle until this time (performance.now() ms); see the module comment. */
  #mutedUntilMs = 0;
  #muteTimer: NodeJS.Timeout | undefined;
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
    clientWarnings: RateLimitedWarning = new RateLimitedWarning(SYSTEM_CLOCK),
    sasl?: SaslSession,
    tlsPrincipal?: string,
  ) {
    this.#clientWarnings = clientWarnings;
    this.id = id;
    this.sasl = sasl;
    this.tlsPrincipal = tlsPrincipal;
    this.listenerName = listenerName;
    this.#socket = socket;
    this.#processor = processor;
    this.#limits = limits;
    this.#memory = limits.responseMemory ?? new ResponseMemory(0);
    this.remoteAddress = socket.remoteAddress ?? "unknown";
    this.remotePort = socket.remotePort ?? 0;
    this.logger = logger.child({ conn: id, remote: `${this.remoteAddress}:${this.remotePort}` });
    const pooledKeys = limits.pooledFrameApiKeys;
    this.#decoder = new FrameDecoder(
      limits.frameBytesMax,
      pooledKeys === undefined || pooledKeys.size === 0 ? undefined : (apiKey) => pooledKeys.has(apiKey),
    );
    if (sasl !== undefined) {
      // Until authenticated, frames are bounded as Kafka bounds them (sasl.server.max.receive.size).
      this.#decoder.setFrameBytesMax(
        Math.min(limits.frameBytesMax, sasl.settings.maxReceiveBytes),
        "sasl.server.max.receive.size before authentication",
      );
      sasl.onAuthenticated = () =>
        this.#decoder.setFrameBytesMax(limits.frameBytesMax, "socket.request.max.bytes");
    }
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

  /** Bytes of this connection's responses built and not yet taken by the kernel. */
  get queuedResponseBytes(): number {
    return this.#writtenBytes + this.#completedBytes;
  }

  /**
   * A warning caused by what the client sent, rate-limited per message and client address over
   * the whole server, so a client looping on a bad request cannot flood the log.
   */
  #warnClient(message: string, reason: string): void {
    this.#clientWarnings.warn(this.logger, `${message}|${this.remoteAddress}`, { reason }, message);
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
        this.#warnClient("closing connection: bad frame", reason);
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
      this.#muteTimer !== undefined ||
      this.#queue.length >= this.#limits.inFlightRequestsMax ||
      this.queuedResponseBytes >= this.#limits.queuedResponseBytesMax ||
      this.#memory.full
    );
  }

  #pauseReading(): void {
    if (this.#memory.full) this.#memory.waitForRoom(this.#onMemoryRoom);
    if (this.#readPaused) return;
    this.#readPaused = true;
    this.#socket.pause();
  }

  #maybeResume(): void {
    if (this.#closing) return;
    if (this.#overLimit()) {
      if (this.#memory.full) this.#memory.waitForRoom(this.#onMemoryRoom);
      return;
    }
    // Frames already buffered go first; only then ask the socket for more.
    this.#pump();
    if (this.#readPaused && !this.#overLimit()) {
      this.#readPaused = false;
      this.#socket.resume();
    }
  }

  #dispatch(frame: Buffer): void {
    const earlier = this.#tail;
    const entry: Pending = {
      outcome: undefined,
      settled: Promise.resolve(),
      started: false,
      bytes: 0,
      pooledFrame: isLentFrameBuffer(frame) ? frame : undefined,
    };
    this.#queue.push(entry);
    let result: RequestOutcome | Promise<RequestOutcome>;
    try {
      result = this.#processor.process(
        frame,
        this,
        () => earlier,
        () => this.#waitForRoom(entry),
      );
    } catch (err) {
      result = { kind: "close", reason: `request handling failed: ${String(err)}` };
      this.logger.error({ err }, "request processor threw");
    }
    if (!(result instanceof Promise)) {
      this.#complete(entry, result);
      this.#tail = earlier;
      return;
    }
    entry.settled = result.then(
      (outcome) => this.#complete(entry, outcome),
      (err: unknown) => {
        this.logger.error({ err }, "request processor failed");
        this.#complete(entry, { kind: "close", reason: "request handling failed" });
      },
    );
    this.#tail = Promise.all([earlier, entry.settled]).then(() => {});
  }

  #waitForRoom(entry: Pending): Promise<void> | undefined {
    if (this.#closed) return undefined;
    if ((this.#roomWaiters.length === 0 || entry === this.#queue[0]) && this.#hasRoom(entry)) {
      entry.started = true;
      this.#executing++;
      return undefined;
    }
    if (this.#memory.full) this.#memory.waitForRoom(this.#onMemoryRoom);
    return new Promise((resolve) => this.#roomWaiters.push({ entry, resolve }));
  }

  #hasRoom(entry: Pending): boolean {
    const bytesMax = this.#limits.queuedResponseBytesMax;
    // The head's response is written first: only what the client has not read yet stands before it.
    if (entry === this.#queue[0]) return this.#writtenBytes < bytesMax;
    return (
      this.#writtenBytes + this.#completedBytes < bytesMax &&
      !this.#memory.full &&
      this.#executing < EXECUTING_MAX
    );
  }

  #wakeRoomWaiters(): void {
    if (this.#roomWaiters.length === 0) return;
    for (let i = 0; i < this.#roomWaiters.length; ) {
      const waiter = this.#roomWaiters[i]!;
      if (this.#closed || !this.#hasRoom(waiter.entry)) {
        i++;
        continue;
      }
      this.#roomWaiters.splice(i, 1);
      waiter.entry.started = true;
      this.#executing++;
      waiter.resolve();
    }
    if (this.#roomWaiters.length > 0 && this.#memory.full) this.#memory.waitForRoom(this.#onMemoryRoom);
  }

  #complete(entry: Pending, outcome: RequestOutcome): void {
    entry.outcome = outcome;
    // The request is done with its frame (pooledFrameApiKeys names only APIs that keep none of it).
    if (entry.pooledFrame !== undefined) {
      releaseFrameBuffer(entry.pooledFrame);
      entry.pooledFrame = undefined;
    }
    if (entry.started) {
      entry.started = false;
      this.#executing--;
    }
    if (this.#closed) return;
    if (outcome.kind === "respond") {
      let bytes = 0;
      for (const chunk of outcome.chunks) bytes += chunk.length;
      entry.bytes = bytes;
      this.#completedBytes += bytes;
      this.#memory.add(bytes);
    }
    this.#flush();
  }

  /** The kernel took a response's last chunk (or the socket failed): its bytes are no longer held. */
  #written(bytes: number, lent: Buffer[] | undefined): void {
    if (lent !== undefined) for (const b of lent) releaseReadBuffer(b);
    if (this.#closed) return; // #onClose released everything still counted.
    this.#writtenBytes -= bytes;
    this.#memory.release(bytes);
    this.#wakeRoomWaiters();
    this.#maybeResume();
  }

  /** Writes every completed response at the head of the queue, in order. */
  #flush(): void {
    if (this.#closed) return;
    let corked = false;
    while (this.#queue.length > 0 && this.#queue[0]!.outcome !== undefined) {
      const entry = this.#queue.shift()!;
      const outcome = entry.outcome!;
      if (outcome.kind === "close") {
        this.#warnClient("closing connection", outcome.reason);
        if (corked) this.#socket.uncork();
        this.#closing = true;
        this.#socket.end();
        this.#queue.length = 0;
        return;
      }
      if (outcome.throttleMs !== undefined && outcome.throttleMs > 0) this.#mute(outcome.throttleMs);
      if (outcome.kind === "respond") {
        if (!corked) {
          this.#socket.cork();
          corked = true;
        }
        const bytes = entry.bytes;
        this.#completedBytes -= bytes;
        this.#writtenBytes += bytes;
        let lent: Buffer[] | undefined;
        const last = outcome.chunks.length - 1;
        for (let i = 0; i < last; i++) {
          const chunk = outcome.chunks[i]!;
          if (isLentReadBuffer(chunk)) {
            lent ??= [];
            lent.push(chunk);
          }
          this.#socket.write(chunk);
        }
        // Writes complete in order, so once the last chunk is written (or failed: the socket is
        // done with every chunk) the response's bytes are released and its pooled read buffers
        // can be reused.
        const lastChunk = outcome.chunks[last] ?? Buffer.alloc(0);
        if (isLentReadBuffer(lastChunk)) {
          lent ??= [];
          lent.push(lastChunk);
        }
        this.#socket.write(lastChunk, () => this.#written(bytes, lent));
        this.onBytesOut(bytes);
        if (outcome.closeAfter === true) {
          this.logger.info("closing connection after a failed authentication");
          this.#socket.uncork();
          this.#closing = true;
          this.#socket.end();
          this.#queue.length = 0;
          return;
        }
      }
    }
    if (corked) this.#socket.uncork();
    if (this.#draining && this.#queue.length === 0) {
      this.#socket.end();
      return;
    }
    this.#wakeRoomWaiters();
    this.#maybeResume();
  }

  /** Reads no new request for `throttleMs` (a quota throttle), or until an earlier mute ends. */
  #mute(throttleMs: number): void {
    const untilMs = performance.now() + throttleMs;
    if (this.#muteTimer !== undefined) {
      if (untilMs <= this.#mutedUntilMs) return;
      clearTimeout(this.#muteTimer);
    }
    this.#mutedUntilMs = untilMs;
    this.#muteTimer = setTimeout(() => {
      this.#muteTimer = undefined;
      this.#maybeResume();
    }, throttleMs);
    this.#pauseReading();
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
    // Requests waiting for room never run; nothing will read their answers.
    this.#roomWaiters.length = 0;
    if (this.#muteTimer !== undefined) clearTimeout(this.#muteTimer);
    this.#muteTimer = undefined;
    this.#memory.forget(this.#onMemoryRoom);
    this.#memory.release(this.#writtenBytes + this.#completedBytes);
    this.#writtenBytes = 0;
    this.#completedBytes = 0;
    this.#resolveClosed();
  }
}
