/**
 * How a replica fetcher reaches a partition leader (Kafka's LeaderEndPoint): a replica Fetch, and
 * ListOffsets for the earliest and latest offsets after OFFSET_OUT_OF_RANGE. `RemoteLeaderEndpoint`
 * sends them over the wire with a node-to-node client (`RequestSender`, which NodeClient
 * implements); a simulation passes an endpoint that calls the leader's fetch path in process.
 *
 * Concurrency: every call returns a promise; the fetcher has at most one Fetch in flight.
 */
import { type ApiDescriptor, FETCH_API, LIST_OFFSETS_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { FetchRequest } from "../../protocol/generated/fetch-request.js";
import type { FetchResponse } from "../../protocol/generated/fetch-response.js";

/** The Fetch version replica fetchers send: v17, with ReplicaState (KIP-903) and topic ids. */
export const REPLICA_FETCH_VERSION = 17;
/** ListOffsets v7 (served by every Kafka 4 and Krill broker; -1/-2 are all a follower asks). */
const LIST_OFFSETS_VERSION = 7;

export type OffsetAnswer = { offset: number; leaderEpoch: number } | { errorCode: number };

export interface LeaderEndpoint {
  /** One replica Fetch (built by the fetcher) to the leader. Rejects when nothing came back. */
  fetch(request: FetchRequest): Promise<FetchResponse>;
  /** The leader's log start offset for a partition (ListOffsets -2 as a replica). */
  fetchEarliestOffset(
    topic: string,
    partition: number,
    currentLeaderEpoch: number,
    replicaId: number,
  ): Promise<OffsetAnswer>;
  /** The leader's log end offset for a partition (ListOffsets -1 as a replica). */
  fetchLatestOffset(
    topic: string,
    partition: number,
    currentLeaderEpoch: number,
    replicaId: number,
  ): Promise<OffsetAnswer>;
  close(): void;
}

/** A node-to-node Kafka client (src/server/network/node-client.ts's NodeClient has this shape). */
export interface RequestSender {
  request<Req, Res>(
    api: ApiDescriptor<Req, Res>,
    body: Req,
    options?: { readonly version?: number; readonly timeoutMs?: number },
  ): Promise<Res>;
  close(): void;
}

export class RemoteLeaderEndpoint implements LeaderEndpoint {
  readonly #sender: RequestSender;
  readonly #requestTimeoutMs: number;

  constructor(sender: RequestSender, requestTimeoutMs: number) {
    this.#sender = sender;
    this.#requestTimeoutMs = requestTimeoutMs;
  }

  fetch(request: FetchRequest): Promise<FetchResponse> {
    // The request's own wait counts against the deadline.
    return this.#sender.request(FETCH_API, request, {
      version: REPLICA_FETCH_VERSION,
      timeoutMs: this.#requestTimeoutMs + request.maxWaitMs,
    });
  }

  fetchEarliestOffset(
    topic: string,
    partition: number,
    epoch: number,
    replicaId: number,
  ): Promise<OffsetAnswer> {
    return this.#listOffsets(topic, partition, epoch, replicaId, -2n);
  }

  fetchLatestOffset(
    topic: string,
    partition: number,
    epoch: number,
    replicaId: number,
  ): Promise<OffsetAnswer> {
    return this.#listOffsets(topic, partition, epoch, replicaId, -1n);
  }

  async #listOffsets(
    topic: string,
    partition: number,
    currentLeaderEpoch: number,
    replicaId: number,
    timestamp: bigint,
  ): Promise<OffsetAnswer> {
    const response = await this.#sender.request(
      LIST_OFFSETS_API,
      {
        replicaId,
        isolationLevel: 0,
        timeoutMs: this.#requestTimeoutMs,
        topics: [{ name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch, timestamp }] }],
      },
      { version: LIST_OFFSETS_VERSION, timeoutMs: this.#requestTimeoutMs },
    );
    const p = response.topics[0]?.partitions[0];
    if (p === undefined) return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR };
    if (p.errorCode !== ErrorCode.NONE) return { errorCode: p.errorCode };
    return { offset: Number(p.offset), leaderEpoch: p.leaderEpoch };
  }

  close(): void {
    this.#sender.close();
  }
}
