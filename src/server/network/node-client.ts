/**
 * NodeClient: Krill's outbound Kafka-protocol client for node-to-node traffic (the quorum's Vote
 * and Fetch, forwarding to the active controller, replica fetchers), Kafka's NetworkClient for one
 * destination.
 *
 * - One connection, opened when the first request needs it. Its first request is ApiVersions (our
 *   highest version; on UNSUPPORTED_VERSION the answer is in v0 format and names the peer's range,
 *   and we retry with the highest both know, as NetworkClient does). Requests wait until the
 *   versions are known; each is then sent at `version` if given, else at the highest version both
 *   sides serve, and refused with UNSUPPORTED_VERSION when there is none.
 * - Request and response headers follow the descriptor (src/protocol/generated/apis.ts): header v2
 *   (tagged fields) for flexible versions, response header v1 likewise, ApiVersions always v0.
 *   Responses arrive in request order; a correlation id that is not the oldest in flight is a
 *   protocol error and drops the connection.
 * - At most `inFlightMax` requests are on the wire; more wait in a queue of at most `queuedMax`;
 *   one more is refused at once (REQUEST_QUEUE_FULL).
 * - Every request has a deadline (`timeoutMs`, else `requestTimeoutMs`) counted from the call, so
 *   it covers the wait in the queue. A request that times out on the wire drops the connection
 *   (its answer would come before any later one, so they are stuck behind it, which is why Kafka's
 *   NetworkClient disconnects too): the others in flight fail with NETWORK_EXCEPTION.
 * - A connection that fails or drops fails every request in flight and every queued request, and
 *   the next connection attempt waits for a backoff (reconnect.backoff.ms 50 doubling to
 *   reconnect.backoff.max.ms 1000, Kafka's defaults, without jitter); requests made during the
 *   backoff fail at once, as Kafka's InterBrokerSendThread fails requests to a node whose
 *   connection failed. A peer closing an idle connection (nothing in flight) is not a failure.
 * - The endpoint may be a function (the active controller moves): it is asked at each connection
 *   attempt, and when it names another endpoint while the connection is idle, the connection is
 *   replaced.
 * - Response frames larger than `responseBytesMax` drop the connection before they are buffered.
 *
 * Errors are `KrillError`s: NETWORK_EXCEPTION (connect failure, disconnect, closed client, no
 * endpoint; a `ConnectionClosedError` when the peer refused, reset or closed the connection), REQUEST_TIMED_OUT, UNSUPPORTED_VERSION, REQUEST_QUEUE_FULL, and DECODE_ERROR /
 * ENCODE_ERROR for a body that does not decode or encode (the connection stays up: frames are
 * self-delimiting).
 *
 * Concurrency: everything runs on the event loop; callbacks never run inside `request`, whose
 * promise settles later.
 */
import net from "node:net";
import type { Logger } from "pino";
import { isKrillError, KrillError, type KrillErrorCode } from "../../errors.js";
import { decodeApiVersionsResponse } from "../../protocol/generated/api-versions-response.js";
import { API_VERSIONS_API, type ApiDescriptor } from "../../protocol/generated/apis.js";
import { Reader } from "../../protocol/primitives/reader.js";
import { Writer } from "../../protocol/primitives/writer.js";
import { FrameDecoder } from "./frame-decoder.js";

export interface NodeEndpoint {
  readonly host: string;
  readonly port: number;
}

export interface NodeClientOptions {
  /** Where to connect; a function is asked at each connection attempt (null: none known now). */
  readonly endpoint: NodeEndpoint | (() => NodeEndpoint | null);
  readonly clientId: string;
  readonly logger: Logger;
  /** socket.connection.setup.timeout.ms (Kafka: 10 s). */
  readonly connectTimeoutMs?: number;
  /** request.timeout.ms (Kafka: 30 s); a request may give its own. */
  readonly requestTimeoutMs?: number;
  /** max.in.flight.requests.per.connection (Kafka: 5). */
  readonly inFlightMax?: number;
  /** Requests waiting for the connection or for a free in-flight slot. */
  readonly queuedMax?: number;
  /** Largest response frame accepted (Kafka's socket.request.max.bytes default, 100 MiB). */
  readonly responseBytesMax?: number;
  /** reconnect.backoff.ms and reconnect.backoff.max.ms (Kafka: 50 and 1000). */
  readonly reconnectBackoffMs?: number;
  readonly reconnectBackoffMaxMs?: number;
  /**
   * Opens the connection instead of a plain TCP connect (TLS, SASL: the admin client's
   * --command-config, src/admin/security.ts): the socket is used once `ready` resolves, and the
   * connection fails with its reason when `ready` rejects. Bytes read before `ready` are the
   * hook's; the connect timeout covers the whole of it.
   */
  readonly connect?: (endpoint: NodeEndpoint) => {
    readonly socket: net.Socket;
    readonly ready: Promise<void>;
  };
}

export interface NodeRequestOptions {
  readonly version?: number;
  readonly timeoutMs?: number;
}

const CONNECT_TIMEOUT_MS_DEFAULT = 10_000;
const REQUEST_TIMEOUT_MS_DEFAULT = 30_000;
const IN_FLIGHT_MAX_DEFAULT = 5;
const QUEUED_MAX_DEFAULT = 1_000;
const RESPONSE_BYTES_MAX_DEFAULT = 100 * 1024 * 1024;
const RECONNECT_BACKOFF_MS_DEFAULT = 50;
const RECONNECT_BACKOFF_MAX_MS_DEFAULT = 1_000;
const UNSUPPORTED_VERSION_CODE = 35;
/** Socket errors that mean the peer's kernel refused or reset the connection (nothing listens, or the process died). */
const PEER_CLOSED_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE"]);

/**
 * NETWORK_EXCEPTION because the peer closed, reset or refused the connection (Kafka's
 * `ClientResponse.wasDisconnected`), as opposed to a timeout of ours: the peer's process is gone
 * or its listener is closed, as when it was killed (its kernel closes its sockets at once). The
 * quorum uses the distinction (src/raft/client.ts, `handleSendFailure`).
 */
export class ConnectionClosedError extends KrillError {
  constructor(message: string) {
    super("NETWORK_EXCEPTION", message);
    this.name = "ConnectionClosedError";
  }
}

function networkError(message: string, peerClosed: boolean): KrillError {
  return peerClosed ? new ConnectionClosedError(message) : new KrillError("NETWORK_EXCEPTION", message);
}
const CLIENT_SOFTWARE_NAME = "krill";
const CLIENT_SOFTWARE_VERSION = "1.0";

interface VersionRange {
  readonly min: number;
  readonly max: number;
}

interface Call {
  readonly api: ApiDescriptor;
  readonly body: unknown;
  readonly requestedVersion: number | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
  timer: NodeJS.Timeout | null;
  state: "queued" | "inflight" | "done";
  version: number;
}

/** A request on the wire: a caller's, or the connection's own ApiVersions. */
interface InFlight {
  readonly correlationId: number;
  readonly call: Call | null;
  readonly version: number;
}

interface Link {
  readonly socket: net.Socket;
  readonly endpoint: NodeEndpoint;
  readonly decoder: FrameDecoder;
  readonly inflight: InFlight[];
  versions: Map<number, VersionRange> | null;
  connectTimer: NodeJS.Timeout | null;
  apiVersionsTimer: NodeJS.Timeout | null;
  closed: boolean;
}

export class NodeClient {
  readonly #options: NodeClientOptions;
  readonly #logger: Logger;
  readonly #connectTimeoutMs: number;
  readonly #requestTimeoutMs: number;
  readonly #inFlightMax: number;
  readonly #queuedMax: number;
  readonly #responseBytesMax: number;
  readonly #queue: Call[] = [];
  #link: Link | null = null;
  #nextCorrelationId = 0;
  /** Consecutive failed connections: the exponent of the reconnect backoff. */
  #failures = 0;
  #backoffTimer: NodeJS.Timeout | null = null;
  #lastFailure = "";
  /** Whether the last failed connection was refused or closed by the peer (ConnectionClosedError). */
  #lastFailurePeerClosed = false;
  #closed = false;

  constructor(options: NodeClientOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS_DEFAULT;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS_DEFAULT;
    this.#inFlightMax = Math.max(1, options.inFlightMax ?? IN_FLIGHT_MAX_DEFAULT);
    this.#queuedMax = Math.max(0, options.queuedMax ?? QUEUED_MAX_DEFAULT);
    this.#responseBytesMax = options.responseBytesMax ?? RESPONSE_BYTES_MAX_DEFAULT;
  }

  /** Whether a connection is up and its versions known. */
  get isReady(): boolean {
    return this.#link?.versions != null;
  }

  /** The version range the peer advertised for an API, or null (not connected yet, or not served). */
  peerVersions(apiKey: number): VersionRange | null {
    return this.#link?.versions?.get(apiKey) ?? null;
  }

  /**
   * One request with the generated descriptor; see the header for the version chosen and the
   * errors. The promise settles after this call returns. `body` may be a function of the version
   * chosen (as Kafka's AbstractRequest.Builder.build(version)), for messages whose fields move
   * between versions.
   */
  request<Req, Res>(
    api: ApiDescriptor<Req, Res>,
    body: Req | ((version: number) => Req),
    options: NodeRequestOptions = {},
  ): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      if (this.#closed) {
        reject(new KrillError("NETWORK_EXCEPTION", `${this.#describe()}: the client is closed`));
        return;
      }
      if (this.#queue.length >= this.#queuedMax) {
        reject(
          new KrillError(
            "REQUEST_QUEUE_FULL",
            `${this.#describe()}: ${this.#queue.length} requests already wait for the connection`,
          ),
        );
        return;
      }
      const call: Call = {
        api: api as ApiDescriptor,
        body,
        requestedVersion: options.version,
        resolve: resolve as (value: unknown) => void,
        reject,
        timer: null,
        state: "queued",
        version: -1,
      };
      const timeoutMs = options.timeoutMs ?? this.#requestTimeoutMs;
      call.timer = setTimeout(() => this.#onCallTimeout(call, timeoutMs), timeoutMs);
      call.timer.unref();
      this.#queue.push(call);
      this.#pump();
    });
  }

  /** Fails every pending request with NETWORK_EXCEPTION and closes the connection; later requests fail. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#backoffTimer !== null) clearTimeout(this.#backoffTimer);
    this.#backoffTimer = null;
    const link = this.#link;
    if (link !== null) this.#dropLink(link, "the client is closed", false);
    this.#failQueued("the client is closed");
  }

  // ---- sending -------------------------------------------------------------------------------

  #pump(): void {
    if (this.#closed || this.#queue.length === 0) return;
    let link = this.#link;
    if (link !== null && link.versions !== null && this.#endpointMoved(link)) {
      this.#logger.info(
        { from: `${link.endpoint.host}:${link.endpoint.port}` },
        "node endpoint moved: reconnecting",
      );
      this.#dropLink(link, "endpoint moved", false);
      link = null;
    }
    if (link === null) {
      if (this.#backoffTimer !== null) {
        this.#failQueued(
          `connection failed (${this.#lastFailure}); retrying after the reconnect backoff`,
          this.#lastFailurePeerClosed,
        );
        return;
      }
      this.#connect();
      return;
    }
    if (link.versions === null) return;
    while (this.#queue.length > 0 && this.#userInFlight(link) < this.#inFlightMax && !link.closed) {
      const call = this.#queue.shift()!;
      this.#send(link, call);
    }
  }

  #endpointMoved(link: Link): boolean {
    if (typeof this.#options.endpoint !== "function" || link.inflight.length > 0) return false;
    const now = this.#options.endpoint();
    return now === null || now.host !== link.endpoint.host || now.port !== link.endpoint.port;
  }

  #userInFlight(link: Link): number {
    let n = 0;
    for (const f of link.inflight) if (f.call !== null) n++;
    return n;
  }

  #send(link: Link, call: Call): void {
    const versions = link.versions!;
    const peer = versions.get(call.api.apiKey);
    const version = chooseVersion(call.api, peer, call.requestedVersion);
    if (typeof version === "string") {
      this.#settle(call, new KrillError("UNSUPPORTED_VERSION", `${this.#describe()}: ${version}`));
      return;
    }
    let chunks: Buffer[];
    const correlationId = this.#correlationId();
    try {
      const body =
        typeof call.body === "function" ? (call.body as (v: number) => unknown)(version) : call.body;
      chunks = frame(call.api, version, correlationId, this.#options.clientId, body);
    } catch (err) {
      this.#settle(call, asError(err, "ENCODE_ERROR", `${call.api.name} v${version} does not encode`));
      return;
    }
    call.state = "inflight";
    call.version = version;
    link.inflight.push({ correlationId, call, version });
    writeChunks(link.socket, chunks);
  }

  #correlationId(): number {
    const id = this.#nextCorrelationId;
    this.#nextCorrelationId = id === 0x7fffffff ? 0 : id + 1;
    return id;
  }

  // ---- the connection ------------------------------------------------------------------------

  #connect(): void {
    const configured = this.#options.endpoint;
    const endpoint = typeof configured === "function" ? configured() : configured;
    if (endpoint === null) {
      this.#failQueued("no endpoint is known for this node");
      return;
    }
    const custom = this.#options.connect?.(endpoint);
    const socket = custom?.socket ?? net.connect({ host: endpoint.host, port: endpoint.port });
    const link: Link = {
      socket,
      endpoint,
      decoder: new FrameDecoder(this.#responseBytesMax),
      inflight: [],
      versions: null,
      connectTimer: null,
      apiVersionsTimer: null,
      closed: false,
    };
    this.#link = link;
    socket.setNoDelay(true);
    link.connectTimer = setTimeout(
      () => this.#dropLink(link, `connect timed out after ${this.#connectTimeoutMs} ms`, true),
      this.#connectTimeoutMs,
    );
    link.connectTimer.unref();
    const onReady = () => {
      if (link.closed) return;
      if (link.connectTimer !== null) clearTimeout(link.connectTimer);
      link.connectTimer = null;
      socket.on("data", (chunk: Buffer) => this.#onData(link, chunk));
      this.#sendApiVersions(link, API_VERSIONS_API.maxVersion);
    };
    if (custom === undefined) socket.once("connect", onReady);
    else custom.ready.then(onReady, (err: unknown) => this.#dropLink(link, describeError(err), true));
    socket.on("error", (err: NodeJS.ErrnoException) =>
      this.#dropLink(link, err.message, true, PEER_CLOSED_CODES.has(err.code ?? "")),
    );
    socket.on("close", () => this.#dropLink(link, "connection closed by the peer", true, true));
  }

  #sendApiVersions(link: Link, version: number): void {
    const correlationId = this.#correlationId();
    const chunks = frame(API_VERSIONS_API as ApiDescriptor, version, correlationId, this.#options.clientId, {
      clientSoftwareName: CLIENT_SOFTWARE_NAME,
      clientSoftwareVersion: CLIENT_SOFTWARE_VERSION,
      clusterId: null,
      nodeId: -1,
    });
    link.inflight.push({ correlationId, call: null, version });
    if (link.apiVersionsTimer === null) {
      link.apiVersionsTimer = setTimeout(
        () => this.#dropLink(link, `no ApiVersions answer within ${this.#requestTimeoutMs} ms`, true),
        this.#requestTimeoutMs,
      );
      link.apiVersionsTimer.unref();
    }
    writeChunks(link.socket, chunks);
  }

  #onData(link: Link, chunk: Buffer): void {
    if (link.closed) return;
    link.decoder.push(chunk);
    for (;;) {
      let body: Buffer | undefined;
      try {
        body = link.decoder.next();
      } catch (err) {
        this.#dropLink(link, `bad response frame: ${describeError(err)}`, true);
        return;
      }
      if (body === undefined) break;
      this.#onFrame(link, body);
      if (link.closed) return;
    }
    this.#pump();
  }

  #onFrame(link: Link, body: Buffer): void {
    const head = link.inflight[0];
    const correlationId = body.length >= 4 ? body.readInt32BE(0) : -1;
    if (head === undefined || head.correlationId !== correlationId) {
      this.#dropLink(
        link,
        `response correlation id ${correlationId} does not match the oldest request (${head?.correlationId ?? "none"})`,
        true,
      );
      return;
    }
    link.inflight.shift();
    if (head.call === null) {
      this.#onApiVersions(link, head.version, body);
      return;
    }
    const call = head.call;
    if (call.state !== "inflight") return; // timed out already (the connection is going down)
    try {
      const api = call.api;
      const reader = new Reader(body, 4);
      if (api.responseHeaderVersion(head.version) >= 1) skipTaggedFields(reader);
      this.#settle(call, null, api.decodeResponse(reader, head.version));
    } catch (err) {
      this.#settle(
        call,
        asError(err, "DECODE_ERROR", `${call.api.name} v${head.version} response does not decode`),
      );
    }
  }

  #onApiVersions(link: Link, version: number, body: Buffer): void {
    try {
      // ApiVersions answers with response header v0; a version the peer does not know is answered
      // in v0 format with UNSUPPORTED_VERSION and the peer's ranges (KIP-511).
      const errorCode = body.length >= 6 ? body.readInt16BE(4) : -1;
      const decodeVersion = errorCode === UNSUPPORTED_VERSION_CODE ? 0 : version;
      const res = decodeApiVersionsResponse(new Reader(body, 4), decodeVersion);
      const ranges = new Map<number, VersionRange>();
      for (const k of res.apiKeys) ranges.set(k.apiKey, { min: k.minVersion, max: k.maxVersion });
      if (res.errorCode === UNSUPPORTED_VERSION_CODE && version > 0) {
        const theirs = ranges.get(API_VERSIONS_API.apiKey);
        const retry = Math.min(version - 1, theirs?.max ?? 0);
        this.#sendApiVersions(link, Math.max(0, retry));
        return;
      }
      if (res.errorCode !== 0) {
        this.#dropLink(link, `ApiVersions answered with error code ${res.errorCode}`, true);
        return;
      }
      if (link.apiVersionsTimer !== null) clearTimeout(link.apiVersionsTimer);
      link.apiVersionsTimer = null;
      link.versions = ranges;
      this.#failures = 0;
      this.#logger.debug(
        { endpoint: `${link.endpoint.host}:${link.endpoint.port}`, apis: ranges.size },
        "node connection ready",
      );
    } catch (err) {
      this.#dropLink(link, `ApiVersions response does not decode: ${describeError(err)}`, true);
    }
  }

  /**
   * Ends a connection once: fails what is in flight and, when the connection failed (rather than
   * being closed by us or idle-closed by the peer), everything queued, and starts the backoff.
   */
  #dropLink(link: Link, reason: string, failure: boolean, peerClosed = false): void {
    if (link.closed) return;
    link.closed = true;
    if (link.connectTimer !== null) clearTimeout(link.connectTimer);
    if (link.apiVersionsTimer !== null) clearTimeout(link.apiVersionsTimer);
    link.socket.destroy();
    if (this.#link === link) this.#link = null;
    const hadInFlight = link.inflight.some((f) => f.call !== null);
    const wasReady = link.versions !== null;
    for (const f of link.inflight.splice(0)) {
      if (f.call !== null && f.call.state === "inflight") {
        this.#settle(f.call, networkError(`${this.#describe(link.endpoint)}: ${reason}`, peerClosed));
      }
    }
    if (!failure || this.#closed) return;
    if (wasReady && !hadInFlight && this.#queue.length === 0) {
      // The peer closed an idle connection (connections.max.idle.ms): reconnect on the next request.
      this.#logger.debug({ reason }, "idle node connection closed");
      return;
    }
    this.#failures++;
    this.#lastFailure = reason;
    this.#lastFailurePeerClosed = peerClosed;
    const backoffMs = Math.min(
      (this.#options.reconnectBackoffMs ?? RECONNECT_BACKOFF_MS_DEFAULT) *
        2 ** Math.min(this.#failures - 1, 30),
      this.#options.reconnectBackoffMaxMs ?? RECONNECT_BACKOFF_MAX_MS_DEFAULT,
    );
    this.#logger.info(
      { endpoint: `${link.endpoint.host}:${link.endpoint.port}`, reason, backoffMs },
      "node connection failed",
    );
    if (this.#backoffTimer !== null) clearTimeout(this.#backoffTimer);
    this.#backoffTimer = setTimeout(() => {
      this.#backoffTimer = null;
      this.#pump();
    }, backoffMs);
    this.#backoffTimer.unref();
    this.#failQueued(reason, peerClosed);
  }

  // ---- completion ----------------------------------------------------------------------------

  #onCallTimeout(call: Call, timeoutMs: number): void {
    call.timer = null;
    if (call.state === "done") return;
    const err = new KrillError(
      "REQUEST_TIMED_OUT",
      `${this.#describe()}: ${call.api.name} got no answer within ${timeoutMs} ms`,
    );
    if (call.state === "queued") {
      const i = this.#queue.indexOf(call);
      if (i >= 0) this.#queue.splice(i, 1);
      this.#settle(call, err);
      return;
    }
    this.#settle(call, err);
    const link = this.#link;
    if (link?.inflight.some((f) => f.call === call)) {
      this.#dropLink(link, `${call.api.name} timed out after ${timeoutMs} ms`, true);
    }
  }

  #failQueued(reason: string, peerClosed = false): void {
    for (const call of this.#queue.splice(0)) {
      this.#settle(call, networkError(`${this.#describe()}: ${reason}`, peerClosed));
    }
  }

  #settle(call: Call, err: Error | null, value?: unknown): void {
    if (call.state === "done") return;
    call.state = "done";
    if (call.timer !== null) clearTimeout(call.timer);
    call.timer = null;
    if (err !== null) call.reject(err);
    else call.resolve(value);
  }

  #describe(endpoint?: NodeEndpoint): string {
    const e = endpoint ?? this.#link?.endpoint;
    if (e !== undefined) return `node ${e.host}:${e.port}`;
    const configured = this.#options.endpoint;
    return typeof configured === "function"
      ? "node (endpoint from lookup)"
      : `node ${configured.host}:${configured.port}`;
  }
}

/** The version to send, or why there is none. */
export function chooseVersion(
  api: ApiDescriptor,
  peer: VersionRange | undefined,
  requested: number | undefined,
): number | string {
  if (peer === undefined) return `the peer does not serve ${api.name}`;
  const min = Math.max(api.minVersion, peer.min);
  const max = Math.min(api.maxVersion, peer.max);
  if (requested !== undefined) {
    if (requested < min || requested > max) {
      return `${api.name} v${requested} is not served by both sides (ours ${api.minVersion}-${api.maxVersion}, the peer's ${peer.min}-${peer.max})`;
    }
    return requested;
  }
  if (max < min) {
    return `no version of ${api.name} is served by both sides (ours ${api.minVersion}-${api.maxVersion}, the peer's ${peer.min}-${peer.max})`;
  }
  return max;
}

/** Size prefix, request header (v1, or v2 with tagged fields), body. */
export function frame(
  api: ApiDescriptor,
  version: number,
  correlationId: number,
  clientId: string,
  body: unknown,
): Buffer[] {
  const w = new Writer(256);
  w.writeInt32(0); // the size, patched below
  w.writeInt16(api.apiKey);
  w.writeInt16(version);
  w.writeInt32(correlationId);
  w.writeNullableString(clientId);
  if (api.requestHeaderVersion(version) >= 2) w.writeUnsignedVarint(0);
  api.encodeRequest(w, body, version);
  const chunks = w.toChunks();
  let size = 0;
  for (const c of chunks) size += c.length;
  chunks[0]!.writeInt32BE(size - 4, 0);
  return chunks;
}

function writeChunks(socket: net.Socket, chunks: readonly Buffer[]): void {
  socket.cork();
  for (const c of chunks) socket.write(c);
  socket.uncork();
}

export function skipTaggedFields(reader: Reader): void {
  const count = reader.readUnsignedVarint("tagged field count");
  for (let i = 0; i < count; i++) {
    reader.readUnsignedVarint("tag");
    reader.readRawView(reader.readUnsignedVarint("tagged field size"), "tagged field");
  }
}

function asError(err: unknown, code: KrillErrorCode, message: string): KrillError {
  if (isKrillError(err)) return new KrillError(code, `${message}: ${err.message}`, { cause: err });
  return new KrillError(code, `${message}: ${String(err)}`, { cause: err });
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
