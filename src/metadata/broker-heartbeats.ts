/**
 * The active controller's view of broker liveness (Kafka's BrokerHeartbeatManager): when each
 * registered broker last heartbeat, how far it has replayed the metadata log, and where its
 * controlled shutdown began. This is soft state, kept only on the active controller. Whether a
 * broker is fenced or in controlled shutdown is the image's (committed records), not this state's.
 *
 * A controller that becomes active (`activate`) has heard from nobody yet. Kafka starts every
 * session afresh then, so a broker that died with the previous controller's node is fenced only a
 * whole session timeout after the election. Krill gives each broker registered before the
 * activation `broker.heartbeat.interval.ms` to make first contact instead (a live broker
 * heartbeats at least that often, and at once when it learns of a new quorum leader); one that
 * does not is stale. Once heard from, the usual session timeout applies. A broker whose node the
 * metadata quorum saw refuse or close a connection (its process is gone: it was the previous
 * controller, killed) is stale at once (`peerGone`).
 *
 * Time comes from the injected `Clock`: a session expires `broker.session.timeout.ms` after the
 * last contact, and whoever drives the controller (a timer in the broker, a test) asks for stale
 * brokers after moving time. A session also ends at once when the connection that carried the
 * broker's last heartbeat closes before another heartbeat arrives (a killed process's sockets are
 * closed by its kernel): see docs/replication.md, "Fast failover".
 */
import type { Clock } from "../clock.js";
import type { MetadataImage } from "./image.js";

/** Kafka's BrokerControlState. */
export type BrokerControlState = "fenced" | "unfenced" | "controlled-shutdown" | "shutdown-now";

interface Session {
  lastContactMs: number;
  /** The connection its last heartbeat came on (undefined: in process, or not known). */
  connection: object | undefined;
  /** That connection closed and no heartbeat came since: the session has ended. */
  connectionLost: boolean;
  /** Carried over an activation and not heard from since: stale after the first-contact window. */
  awaitingFirstContact: boolean;
  metadataOffset: number;
  /** Offset of the batch that began its controlled shutdown; -1 if none. */
  controlledShutdownOffset: number;
}

export interface HeartbeatInput {
  readonly wantFence: boolean;
  readonly wantShutDown: boolean;
  readonly currentMetadataOffset: number;
}

export class BrokerHeartbeatManager {
  readonly #clock: Clock;
  readonly #sessionTimeoutMs: () => number;
  readonly #firstContactMs: () => number;
  readonly #sessions = new Map<number, Session>();
  /** When this controller last became active; sessions it has not seen start from there. */
  #activatedAtMs: number | undefined;

  /**
   * `firstContactMs`: how long a broker registered before an activation has to heartbeat the new
   * controller (default: the session timeout, as Kafka).
   */
  constructor(clock: Clock, sessionTimeoutMs: () => number, firstContactMs: () => number = sessionTimeoutMs) {
    this.#clock = clock;
    this.#sessionTimeoutMs = sessionTimeoutMs;
    this.#firstContactMs = firstContactMs;
  }

  #session(brokerId: number): Session {
    let s = this.#sessions.get(brokerId);
    if (s === undefined) {
      // A broker this controller has not heard from since it became active.
      s = this.#fresh();
      if (this.#activatedAtMs !== undefined) {
        s.lastContactMs = this.#activatedAtMs;
        s.awaitingFirstContact = true;
      }
      this.#sessions.set(brokerId, s);
    }
    return s;
  }

  /** A new registration (a new incarnation, or the first): the session starts now. */
  register(brokerId: number): void {
    this.#sessions.set(brokerId, this.#fresh());
  }

  #fresh(): Session {
    return {
      lastContactMs: this.#clock.nowMs(),
      connection: undefined,
      connectionLost: false,
      awaitingFirstContact: false,
      metadataOffset: -1,
      controlledShutdownOffset: -1,
    };
  }

  remove(brokerId: number): void {
    this.#sessions.delete(brokerId);
  }

  /** This controller became active: every session is forgotten and starts from now. */
  activate(): void {
    this.#sessions.clear();
    this.#activatedAtMs = this.#clock.nowMs();
  }

  /** Records a heartbeat; a broker that ends up fenced leaves controlled shutdown. */
  touch(brokerId: number, fenced: boolean, metadataOffset: number): void {
    const s = this.#session(brokerId);
    s.lastContactMs = this.#clock.nowMs();
    s.connectionLost = false;
    s.awaitingFirstContact = false;
    s.metadataOffset = metadataOffset;
    if (fenced) s.controlledShutdownOffset = -1;
  }

  /**
   * Notes the connection a heartbeat of `brokerId` just came on; true when it is not the one
   * noted before (the caller then watches it for `connectionClosed`).
   */
  noteConnection(brokerId: number, connection: object): boolean {
    const s = this.#session(brokerId);
    if (s.connection === connection) return false;
    s.connection = connection;
    return true;
  }

  /**
   * `connection` closed. If it carried the broker's last heartbeat, its session ends now (the
   * broker is stale until it heartbeats again); true in that case.
   */
  connectionClosed(brokerId: number, connection: object): boolean {
    const s = this.#sessions.get(brokerId);
    if (s === undefined || s.connection !== connection) return false;
    s.connection = undefined;
    s.connectionLost = true;
    return true;
  }

  /**
   * The metadata quorum saw the controller listener of node `brokerId` refuse or close a
   * connection (RaftClient.unreachableVoters): in combined mode the broker of that id is the same
   * process, so if it has not made first contact with this controller since the activation, its
   * session ends now instead of after the first-contact window; true in that case. A broker
   * heard from since the activation keeps its session (its own heartbeat connection is watched).
   */
  peerGone(brokerId: number): boolean {
    const s = this.#session(brokerId);
    if (!s.awaitingFirstContact || s.connectionLost) return false;
    s.connectionLost = true;
    return true;
  }

  /**
   * Whether `brokerId` heartbeat within the session timeout as of `asOfMs` (default now; a
   * fenced broker has no session).
   */
  hasValidSession(image: MetadataImage, brokerId: number, asOfMs = this.#clock.nowMs()): boolean {
    const b = image.brokers.get(brokerId);
    if (b === undefined || b.fenced) return false;
    return this.#expiresAtMs(this.#session(brokerId)) >= asOfMs;
  }

  /** The last moment a session is valid (-infinity once its connection was lost). */
  #expiresAtMs(s: Session): number {
    if (s.connectionLost) return Number.NEGATIVE_INFINITY;
    const window = s.awaitingFirstContact
      ? Math.min(this.#firstContactMs(), this.#sessionTimeoutMs())
      : this.#sessionTimeoutMs();
    return s.lastContactMs + window;
  }

  /**
   * Unfenced brokers whose session had expired at `asOfMs`, the longest silent first (Kafka
   * fences one at a time). The caller passes the time the check was asked for, not the time it
   * runs: a check that waited behind a long controller operation must not count that wait, during
   * which heartbeats were queued too, against the brokers.
   */
  staleBrokers(image: MetadataImage, asOfMs = this.#clock.nowMs()): number[] {
    const stale: { id: number; last: number }[] = [];
    for (const b of image.brokers.values()) {
      if (b.fenced) continue;
      if (!this.hasValidSession(image, b.brokerId, asOfMs)) {
        stale.push({ id: b.brokerId, last: this.#session(b.brokerId).lastContactMs });
      }
    }
    return stale.sort((a, b) => a.last - b.last || a.id - b.id).map((s) => s.id);
  }

  /** When the next session can expire (ms on the clock), or undefined with no unfenced broker. */
  nextCheckMs(image: MetadataImage): number | undefined {
    let next: number | undefined;
    for (const b of image.brokers.values()) {
      if (b.fenced) continue;
      const at = this.#expiresAtMs(this.#session(b.brokerId));
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  /** Kafka's currentBrokerState. */
  currentState(image: MetadataImage, brokerId: number): BrokerControlState {
    const b = image.brokers.get(brokerId);
    if (b === undefined || b.fenced) return "fenced";
    if (this.#session(brokerId).controlledShutdownOffset >= 0 || b.inControlledShutdown)
      return "controlled-shutdown";
    return "unfenced";
  }

  /** The first offset at which the broker began its controlled shutdown (kept if already set). */
  setControlledShutdownOffset(brokerId: number, offset: number): void {
    const s = this.#session(brokerId);
    if (s.controlledShutdownOffset < 0) s.controlledShutdownOffset = offset;
  }

  /** The lowest metadata offset replayed by an active broker (unfenced, not shutting down). */
  lowestActiveOffset(image: MetadataImage): number {
    let lowest = Number.MAX_SAFE_INTEGER;
    for (const b of image.brokers.values()) {
      if (b.fenced || b.inControlledShutdown) continue;
      const s = this.#session(b.brokerId);
      if (s.controlledShutdownOffset >= 0) continue;
      lowest = Math.min(lowest, s.metadataOffset);
    }
    return lowest;
  }

  /**
   * Kafka's calculateNextBrokerState: where a heartbeat moves the broker. `registrationOffset`
   * is the offset of its RegisterBrokerRecord; it is unfenced once it has replayed that far.
   */
  nextState(
    image: MetadataImage,
    brokerId: number,
    request: HeartbeatInput,
    registrationOffset: number,
    hasLeaderships: () => boolean,
  ): { current: BrokerControlState; next: BrokerControlState } {
    const current = this.currentState(image, brokerId);
    const to = (next: BrokerControlState) => ({ current, next });
    switch (current) {
      case "fenced":
        if (request.wantShutDown) return to("shutdown-now");
        if (!request.wantFence && request.currentMetadataOffset >= registrationOffset) return to("unfenced");
        return to("fenced");
      case "unfenced":
        if (request.wantFence) return to(request.wantShutDown ? "shutdown-now" : "fenced");
        if (request.wantShutDown) return to(hasLeaderships() ? "controlled-shutdown" : "shutdown-now");
        return to("unfenced");
      case "controlled-shutdown": {
        if (hasLeaderships()) return to("controlled-shutdown");
        const shutdownOffset = this.#session(brokerId).controlledShutdownOffset;
        // Every active broker has seen the leadership moves before this one goes.
        return to(shutdownOffset <= this.lowestActiveOffset(image) ? "shutdown-now" : "controlled-shutdown");
      }
      default:
        return to("shutdown-now");
    }
  }
}
