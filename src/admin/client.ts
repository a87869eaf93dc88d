/**
 * AdminClient: what the `krill` admin commands (src/admin/main.ts) use to talk to a cluster, Kafka's
 * or Krill's alike, over the plain Kafka protocol. It is a thin layer over NodeClient (the one
 * outbound Kafka-protocol client, src/server/network/node-client.ts) and the generated codecs:
 *
 * - The bootstrap list (`host:port,...`) is tried in order until one answers Metadata; later
 *   requests that any broker can serve go to that one, as Kafka's AdminClient sends them to the
 *   least loaded node (every broker forwards admin writes to the active controller, KIP-590).
 * - Requests for one broker (ListGroups, ListOffsets to a leader, a group's coordinator) go to the
 *   endpoint the last Metadata or FindCoordinator named; one NodeClient per endpoint, reused.
 * - Retriable answers (a coordinator loading or moving, a leader not yet elected) are retried by
 *   the commands through `retrying`, up to the command's deadline; nothing retries forever.
 *
 * TLS and SASL come from `--command-config` (src/admin/security.ts): every connection is opened
 * through its hook; a TLS or SASL failure ends the command at once (it is not retried).
 *
 * Concurrency: one command at a time uses an AdminClient; requests may be in flight together.
 */
import pino from "pino";
import { SYSTEM_CLOCK } from "../clock.js";
import { isKrillError, KrillError } from "../errors.js";
import { type ApiDescriptor, FIND_COORDINATOR_API, METADATA_API } from "../protocol/generated/apis.js";
import { errorCodeInfo, errorCodeName, isRetriableErrorCode } from "../protocol/generated/error-codes.js";
import { defaultMetadataRequest, type MetadataRequest } from "../protocol/generated/metadata-request.js";
import type { MetadataResponse } from "../protocol/generated/metadata-response.js";
import { ZERO_UUID } from "../protocol/primitives/uuid.js";
import { NodeClient, type NodeEndpoint } from "../server/network/node-client.js";
import { type ClientSecurity, connector } from "./security.js";

export interface AdminClientOptions {
  /** Deadline of each request (Kafka's request.timeout.ms; the tools' --timeout). */
  readonly requestTimeoutMs?: number;
  readonly clientId?: string;
  /** TLS/SASL (`--command-config`); PLAINTEXT when absent. */
  readonly security?: ClientSecurity;
  /** The properties `security` was read from (ssl.endpoint.identification.algorithm). */
  readonly securityProps?: ReadonlyMap<string, string>;
}

/** A Kafka error code in an answer, as the tools report it: the name and Kafka's message. */
export class KafkaResponseError extends Error {
  readonly errorCode: number;
  constructor(errorCode: number, message: string | null | undefined, context: string) {
    const info = errorCodeInfo(errorCode);
    const detail = message ?? info?.message ?? "";
    super(`${context}: ${errorCodeName(errorCode)}${detail === "" ? "" : ` (${detail})`}`);
    this.name = "KafkaResponseError";
    this.errorCode = errorCode;
  }
}

/** Throws KafkaResponseError when `errorCode` is not NONE. */
export function check(errorCode: number, message: string | null | undefined, context: string): void {
  if (errorCode !== 0) throw new KafkaResponseError(errorCode, message, context);
}

export function parseEndpoint(text: string): NodeEndpoint {
  const s = text.trim();
  const colon = s.lastIndexOf(":");
  const host = colon > 0 ? s.slice(0, colon).replace(/^\[(.*)\]$/, "$1") : "";
  const port = colon > 0 ? Number(s.slice(colon + 1)) : Number.NaN;
  if (host === "" || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new KrillError("CONFIG_INVALID", `"${text}" is not a host:port address`);
  }
  return { host, port };
}

const SILENT = pino({ level: "silent" });
const REQUEST_TIMEOUT_MS_DEFAULT = 30_000;
/** Pause between attempts of a retried request (Kafka's retry.backoff.ms is 100). */
const RETRY_BACKOFF_MS = 200;

export class AdminClient {
  readonly #bootstrap: readonly NodeEndpoint[];
  readonly #options: AdminClientOptions;
  readonly #clients = new Map<string, NodeClient>();
  #home: NodeEndpoint | null = null;
  #brokers = new Map<number, NodeEndpoint>();
  /** A TLS or SASL failure seen on any connection: reported in place of the network error. */
  #authFailure: KrillError | null = null;
  readonly #connect: ReturnType<typeof connector>;

  constructor(bootstrap: string, options: AdminClientOptions = {}) {
    this.#bootstrap = bootstrap
      .split(",")
      .filter((s) => s.trim() !== "")
      .map(parseEndpoint);
    if (this.#bootstrap.length === 0) throw new KrillError("CONFIG_INVALID", "no bootstrap server given");
    this.#options = options;
    this.#connect =
      options.security === undefined
        ? undefined
        : connector(options.security, options.securityProps ?? new Map(), this.#clientId, (err) => {
            this.#authFailure ??= err;
          });
  }

  get #clientId(): string {
    return this.#options.clientId ?? this.#options.security?.clientId ?? "krill-admin";
  }

  /** `promise`, with a connection's TLS or SASL failure reported in place of the network error it caused. */
  async #guard<T>(promise: Promise<T>): Promise<T> {
    try {
      return await promise;
    } catch (err) {
      if (
        this.#authFailure !== null &&
        (isKrillError(err, "NETWORK_EXCEPTION") || isKrillError(err, "REQUEST_TIMED_OUT"))
      )
        throw this.#authFailure;
      throw err;
    }
  }

  get requestTimeoutMs(): number {
    return this.#options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS_DEFAULT;
  }

  /** The endpoint of each broker the last Metadata named. */
  get brokers(): ReadonlyMap<number, NodeEndpoint> {
    return this.#brokers;
  }

  /** A request any broker answers, sent to the bootstrap server that answered first. */
  async any<Req, Res>(api: ApiDescriptor<Req, Res>, body: Req | ((version: number) => Req)): Promise<Res> {
    if (this.#home === null) await this.metadata([]);
    return this.#guard(this.#client(this.#home!).request(api, body, { timeoutMs: this.requestTimeoutMs }));
  }

  /** A request to one endpoint (a coordinator, a leader, a broker by id through `broker`). */
  to<Req, Res>(
    api: ApiDescriptor<Req, Res>,
    endpoint: NodeEndpoint,
    body: Req | ((version: number) => Req),
  ): Promise<Res> {
    return this.#guard(this.#client(endpoint).request(api, body, { timeoutMs: this.requestTimeoutMs }));
  }

  /** The endpoint of broker `nodeId` (Metadata is asked again when it is not known yet). */
  async broker(nodeId: number): Promise<NodeEndpoint> {
    if (!this.#brokers.has(nodeId)) await this.metadata([]);
    const endpoint = this.#brokers.get(nodeId);
    if (endpoint === undefined)
      throw new KrillError("STATE", `broker ${nodeId} is not in the cluster's metadata`);
    return endpoint;
  }

  /**
   * Metadata for `topics` (null: every topic; []: brokers only), creating a topic only when
   * `autoCreate` (a producer's request: the broker decides, auto.create.topics.enable). The first
   * call walks the bootstrap list until one server answers.
   */
  async metadata(topics: readonly string[] | null, autoCreate = false): Promise<MetadataResponse> {
    const body = (version: number): MetadataRequest => ({
      ...defaultMetadataRequest(),
      topics:
        topics === null ? (version >= 1 ? null : []) : topics.map((name) => ({ name, topicId: ZERO_UUID })),
      allowAutoTopicCreation: version < 4 || autoCreate,
    });
    const candidates = this.#home === null ? this.#bootstrap : [this.#home];
    let lastError: unknown;
    for (const endpoint of candidates) {
      try {
        const res = await this.#client(endpoint).request(METADATA_API, body, {
          timeoutMs: this.requestTimeoutMs,
        });
        this.#home = endpoint;
        this.#brokers = new Map(res.brokers.map((b) => [b.nodeId, { host: b.host, port: b.port }]));
        return res;
      } catch (err) {
        if (this.#authFailure !== null) throw this.#authFailure;
        lastError = err;
      }
    }
    const tried = candidates.map((e) => `${e.host}:${e.port}`).join(", ");
    throw new KrillError(
      "NETWORK_EXCEPTION",
      `no broker answered at ${tried}: ${lastError instanceof Error ? lastError.message : String(lastError)}`,
      { cause: lastError },
    );
  }

  /** The coordinator of a group (keyType 0) or transactional id (1), as FindCoordinator names it. */
  async coordinatorNode(key: string, keyType = 0): Promise<NodeEndpoint & { readonly nodeId: number }> {
    const res = await this.any(FIND_COORDINATOR_API, (version) => ({
      key: version < 4 ? key : "",
      keyType,
      coordinatorKeys: version >= 4 ? [key] : [],
    }));
    const c = res.coordinators[0];
    if (c !== undefined) {
      check(c.errorCode, c.errorMessage, `FindCoordinator for ${key}`);
      return { host: c.host, port: c.port, nodeId: c.nodeId };
    }
    check(res.errorCode, res.errorMessage, `FindCoordinator for ${key}`);
    return { host: res.host, port: res.port, nodeId: res.nodeId };
  }

  /**
   * Runs `attempt` until it succeeds, fails with a non-retriable error, or `deadlineMs` (from now,
   * the request timeout by default) passes. Retriable: Kafka's retriable error codes in answers
   * (KafkaResponseError) and a connection that failed or timed out, unless `final` says the error
   * is the answer (a topic that does not exist, for a command that will not wait for it).
   */
  async retrying<T>(
    attempt: () => Promise<T>,
    deadlineMs = this.requestTimeoutMs,
    final: (err: unknown) => boolean = () => false,
  ): Promise<T> {
    const until = SYSTEM_CLOCK.nowMs() + deadlineMs;
    for (;;) {
      try {
        return await attempt();
      } catch (err) {
        const retriable =
          (err instanceof KafkaResponseError && isRetriableErrorCode(err.errorCode)) ||
          isKrillError(err, "NETWORK_EXCEPTION") ||
          isKrillError(err, "REQUEST_TIMED_OUT");
        if (!retriable || final(err) || SYSTEM_CLOCK.nowMs() + RETRY_BACKOFF_MS >= until) throw err;
        await new Promise((resolve) => setTimeout(resolve, RETRY_BACKOFF_MS));
      }
    }
  }

  close(): void {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }

  #client(endpoint: NodeEndpoint): NodeClient {
    const key = `${endpoint.host}:${endpoint.port}`;
    let client = this.#clients.get(key);
    if (client === undefined) {
      client = new NodeClient({
        endpoint,
        clientId: this.#clientId,
        ...(this.#connect !== undefined ? { connect: this.#connect } : {}),
        logger: SILENT,
        requestTimeoutMs: this.requestTimeoutMs,
        connectTimeoutMs: Math.min(this.requestTimeoutMs, 10_000),
      });
      this.#clients.set(key, client);
    }
    return client;
  }
}
