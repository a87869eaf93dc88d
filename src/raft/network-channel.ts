/**
 * NetworkRaftChannel: the core's `RaftChannel` on real sockets (Kafka's KafkaNetworkChannel), and
 * the `QuorumEndpoint` the controller listener hands inbound quorum requests to.
 *
 * Outbound: one `NodeClient` per voter (endpoints from `controller.quorum.voters`), opened when
 * first needed. `send` returns at once; the answer (mapped by wire.ts) reaches the core through
 * `handleResponse`, a failure (refused, dropped, timed out, undecodable) through
 * `handleSendFailure`, each later as its own event (a promise callback), never inside `send`;
 * a failure says whether the peer closed or refused the connection (its process is gone) rather
 * than a timeout or an undecodable answer.
 * The core allows one request in flight per destination and times it out itself; a late outcome
 * of a request it gave up on is ignored there.
 *
 * Inbound: `handleInbound` gives the request to the core (`handleRequest`) under a fresh id and
 * resolves when the core answers with `respond`, which may be at once or later (a parked Fetch).
 * Waiting requests are bounded (`inboundMax`) and expire after the request timeout, so a core
 * that never answers (closed, restarted) does not keep them.
 *
 * Concurrency: event-loop only; the core's entry points are never called re-entrantly from here.
 */
import type { Logger } from "pino";
import { isKrillError, KrillError } from "../errors.js";
import type { ApiDescriptor } from "../protocol/generated/apis.js";
import { ConnectionClosedError, NodeClient, type NodeClientOptions } from "../server/network/node-client.js";
import type { VoterEndpoint } from "./config.js";
import type { QuorumEndpoint } from "./quorum-endpoint.js";
import type { RaftChannel, RaftRequest, RaftResponse } from "./types.js";
import { fromWireResponse, RAFT_APIS, type RaftEndpoints, toWireRequest } from "./wire.js";

/** The core's entry points the channel calls (RaftClient's). */
export interface RaftCore {
  handleRequest(sourceId: number, correlationId: number, request: RaftRequest): void;
  handleResponse(sourceId: number, correlationId: number, response: RaftResponse): void;
  handleSendFailure(destinationId: number, correlationId: number, peerClosed?: boolean): void;
  readonly leaderId: number;
  readonly epoch: number;
}

export interface NetworkRaftChannelOptions {
  readonly nodeId: number;
  /** controller.quorum.voters */
  readonly voters: readonly VoterEndpoint[];
  /** The first of controller.listener.names: the listener the voters' endpoints are on. */
  readonly listenerName: string;
  /** controller.quorum.request.timeout.ms: outbound requests and inbound answers. */
  readonly requestTimeoutMs: number;
  readonly logger: Logger;
  /** Inbound requests waiting for the core's answer (default 10,000, the core's parked-fetch bound). */
  readonly inboundMax?: number;
  /** Settings of the outbound clients (tests shorten the reconnect backoff). */
  readonly client?: Partial<
    Pick<NodeClientOptions, "reconnectBackoffMs" | "reconnectBackoffMaxMs" | "inFlightMax">
  >;
}

const INBOUND_MAX_DEFAULT = 10_000;

interface PendingInbound {
  readonly resolve: (response: RaftResponse) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class NetworkRaftChannel implements RaftChannel, QuorumEndpoint {
  readonly endpoints: RaftEndpoints;
  readonly #options: NetworkRaftChannelOptions;
  readonly #clients = new Map<number, NodeClient>();
  readonly #inbound = new Map<number, PendingInbound>();
  readonly #inboundMax: number;
  #core: RaftCore | null = null;
  #nextInboundId = 1;
  #closed = false;

  constructor(options: NetworkRaftChannelOptions) {
    this.#options = options;
    this.#inboundMax = options.inboundMax ?? INBOUND_MAX_DEFAULT;
    this.endpoints = new Map(
      options.voters.map((v) => [v.id, { name: options.listenerName, host: v.host, port: v.port }]),
    );
  }

  /** Connects the core (built with this channel); inbound requests are refused until then. */
  attach(core: RaftCore): void {
    this.#core = core;
  }

  get nodeId(): number {
    return this.#options.nodeId;
  }

  get leaderId(): number {
    return this.#core?.leaderId ?? -1;
  }

  get epoch(): number {
    return this.#core?.epoch ?? -1;
  }

  // ---- outbound ------------------------------------------------------------------------------

  send(destinationId: number, correlationId: number, request: RaftRequest): void {
    if (this.#closed) return;
    const client = this.#client(destinationId);
    if (client === null) {
      this.#options.logger.warn({ destinationId, api: request.api }, "no endpoint for quorum node");
      queueMicrotask(() => this.#core?.handleSendFailure(destinationId, correlationId));
      return;
    }
    const api = RAFT_APIS[request.api];
    client
      .request(api as never, (version: number) => toWireRequest(request, version, this.endpoints) as never, {
        timeoutMs: this.#options.requestTimeoutMs,
      })
      .then(
        (body) => {
          let response: RaftResponse;
          try {
            response = fromWireResponse(request.api, body);
          } catch (err) {
            this.#options.logger.warn({ err, destinationId, api: request.api }, "undecodable quorum answer");
            this.#failed(destinationId, correlationId, false);
            return;
          }
          if (!this.#closed) this.#core?.handleResponse(destinationId, correlationId, response);
        },
        (err: unknown) => {
          const level = isKrillError(err, "NETWORK_EXCEPTION") ? "debug" : "info";
          this.#options.logger[level](
            { destinationId, api: request.api, err: err instanceof Error ? err.message : String(err) },
            "quorum request failed",
          );
          this.#failed(destinationId, correlationId, err instanceof ConnectionClosedError);
        },
      );
  }

  #failed(destinationId: number, correlationId: number, peerClosed: boolean): void {
    if (!this.#closed) this.#core?.handleSendFailure(destinationId, correlationId, peerClosed);
  }

  #client(nodeId: number): NodeClient | null {
    let client = this.#clients.get(nodeId);
    if (client !== undefined) return client;
    const endpoint = this.endpoints.get(nodeId);
    if (endpoint === undefined) return null;
    client = new NodeClient({
      endpoint: { host: endpoint.host, port: endpoint.port },
      clientId: `raft-client-${this.#options.nodeId}`,
      logger: this.#options.logger.child({ quorumPeer: nodeId }),
      connectTimeoutMs: this.#options.requestTimeoutMs,
      requestTimeoutMs: this.#options.requestTimeoutMs,
      ...this.#options.client,
    });
    this.#clients.set(nodeId, client);
    return client;
  }

  requestLeader<Req, Res>(api: ApiDescriptor<Req, Res>, body: Req, version: number): Promise<Res> {
    const leaderId = this.leaderId;
    const client = leaderId >= 0 && leaderId !== this.nodeId && !this.#closed ? this.#client(leaderId) : null;
    if (client === null) {
      return Promise.reject(
        new KrillError("NETWORK_EXCEPTION", `no other node is known as the quorum leader (${leaderId})`),
      );
    }
    return client.request(api, body, { version, timeoutMs: this.#options.requestTimeoutMs });
  }

  // ---- inbound -------------------------------------------------------------------------------

  handleInbound(sourceId: number, request: RaftRequest): Promise<RaftResponse> {
    return new Promise<RaftResponse>((resolve, reject) => {
      const core = this.#core;
      if (this.#closed || core === null) {
        reject(new KrillError("NETWORK_EXCEPTION", "this node's quorum member is not running"));
        return;
      }
      if (this.#inbound.size >= this.#inboundMax) {
        reject(
          new KrillError(
            "REQUEST_QUEUE_FULL",
            `${this.#inbound.size} quorum requests already wait for answers`,
          ),
        );
        return;
      }
      const id = this.#nextInboundId;
      this.#nextInboundId = id === Number.MAX_SAFE_INTEGER ? 1 : id + 1;
      const timer = setTimeout(() => {
        if (this.#inbound.delete(id)) {
          reject(
            new KrillError(
              "REQUEST_TIMED_OUT",
              `no answer to ${request.api} within ${this.#options.requestTimeoutMs} ms`,
            ),
          );
        }
      }, this.#options.requestTimeoutMs);
      timer.unref();
      this.#inbound.set(id, { resolve, reject, timer });
      core.handleRequest(sourceId, id, request);
    });
  }

  respond(_destinationId: number, correlationId: number, response: RaftResponse): void {
    const pending = this.#inbound.get(correlationId);
    if (pending === undefined) return; // expired, or the channel closed
    this.#inbound.delete(correlationId);
    clearTimeout(pending.timer);
    pending.resolve(response);
  }

  /** Waiting inbound requests (for tests and metrics). */
  get inboundWaiting(): number {
    return this.#inbound.size;
  }

  /** Closes the outbound connections and fails the inbound requests still waiting. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
    for (const pending of this.#inbound.values()) {
      clearTimeout(pending.timer);
      pending.reject(new KrillError("NETWORK_EXCEPTION", "this node's quorum member is closing"));
    }
    this.#inbound.clear();
  }
}
