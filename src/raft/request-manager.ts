/**
 * Outbound requests of one RaftClient (Kafka's RequestManager): at most one request in flight
 * per destination, a request timeout, and a retry backoff after a failure or a timeout. A
 * response counts only if it answers the request in flight (same correlation id): after reset()
 * (every state change) late answers to earlier requests are ignored. Single-threaded.
 */
import type { RaftChannel, RaftRequest } from "./types.js";

export interface InflightRequest {
  readonly correlationId: number;
  readonly api: RaftRequest["api"];
  readonly sentMs: number;
  /** For Vote: whether it was a pre-vote (the response does not say). */
  readonly preVote: boolean;
}

export class RequestManager {
  private readonly inflight = new Map<number, InflightRequest>();
  private readonly backoffUntilMs = new Map<number, number>();
  private nextCorrelationId = 1;

  constructor(
    private readonly channel: RaftChannel,
    private readonly requestTimeoutMs: number,
    private readonly retryBackoffMs: number,
  ) {}

  isReady(destinationId: number, nowMs: number): boolean {
    return !this.inflight.has(destinationId) && (this.backoffUntilMs.get(destinationId) ?? 0) <= nowMs;
  }

  isBackingOff(destinationId: number, nowMs: number): boolean {
    return (this.backoffUntilMs.get(destinationId) ?? 0) > nowMs;
  }

  hasInflight(destinationId: number): boolean {
    return this.inflight.has(destinationId);
  }

  send(destinationId: number, request: RaftRequest, nowMs: number): void {
    const correlationId = this.nextCorrelationId++;
    this.inflight.set(destinationId, {
      correlationId,
      api: request.api,
      sentMs: nowMs,
      preVote: request.api === "Vote" && request.preVote,
    });
    this.channel.send(destinationId, correlationId, request);
  }

  /** The request a response answers, removed from the in-flight set; null for a stale response. */
  takeInflight(sourceId: number, correlationId: number): InflightRequest | null {
    const entry = this.inflight.get(sourceId);
    if (entry === undefined || entry.correlationId !== correlationId) return null;
    this.inflight.delete(sourceId);
    return entry;
  }

  /** The destination failed (connection refused or reset, an error answer): back off before retrying. */
  backoff(destinationId: number, nowMs: number): void {
    this.inflight.delete(destinationId);
    this.backoffUntilMs.set(destinationId, nowMs + this.retryBackoffMs);
  }

  /** Times out requests older than the request timeout (the destination then backs off). */
  expire(nowMs: number): void {
    for (const [destinationId, entry] of this.inflight) {
      if (entry.sentMs + this.requestTimeoutMs <= nowMs) this.backoff(destinationId, nowMs);
    }
    for (const [destinationId, until] of this.backoffUntilMs) {
      if (until <= nowMs) this.backoffUntilMs.delete(destinationId);
    }
  }

  /** The ms until a request times out or a backoff ends (when a poll may have work to do). */
  nextDeadlineMs(nowMs: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const entry of this.inflight.values())
      next = Math.min(next, entry.sentMs + this.requestTimeoutMs - nowMs);
    for (const until of this.backoffUntilMs.values()) if (until > nowMs) next = Math.min(next, until - nowMs);
    return next;
  }

  reset(): void {
    this.inflight.clear();
    this.backoffUntilMs.clear();
  }
}
