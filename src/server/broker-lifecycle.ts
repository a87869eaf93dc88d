/**
 * The broker's side of its registration with the controller (Kafka's BrokerLifecycleManager):
 * register (fenced), heartbeat until the controller unfences it (it has replayed the metadata log
 * up to its registration), then heartbeat every `broker.heartbeat.interval.ms` so its session
 * stays alive; at stop, a controlled shutdown (heartbeats with WantShutDown until the controller
 * has moved its leaderships away and says ShouldShutDown).
 *
 * Everything goes through the controller channel, so the same code serves a combined node (the
 * controller in this process answers at once, so a single node is unfenced during start-up) and a
 * broker whose controller is elsewhere. A heartbeat answered STALE_BROKER_EPOCH (the controller no
 * longer knows this registration) registers again with the same incarnation.
 */
import type { Logger } from "pino";
import { type Clock, SYSTEM_CLOCK } from "../clock.js";
import type { BrokerConfig } from "../config/broker-config.js";
import type {
  BrokerHeartbeatReply,
  BrokerRegistrationRequest,
  ControllerChannel,
} from "../metadata/controller-channel.js";
import { ErrorCode, errorCodeName, isRetriableErrorCode } from "../protocol/generated/error-codes.js";

export type BrokerLifecycleState =
  | "not-running"
  | "starting"
  | "recovery"
  | "running"
  | "pending-controlled-shutdown"
  | "shutting-down";

export interface BrokerLifecycleOptions {
  readonly channel: ControllerChannel;
  readonly config: () => BrokerConfig;
  readonly logger: Logger;
  /** The highest metadata offset this broker has applied (its published image). */
  readonly metadataOffset: () => number;
  /** For the controlled shutdown's no-answer bound; default the system clock. */
  readonly clock?: Clock;
}

/** Retry delay after a failed heartbeat, and between start-up catch-up heartbeats. */
const RETRY_MS = 100;
/** Retry delay while the controller cannot take the registration. */
const REGISTRATION_RETRY_MS = 500;

/** The controller could not be reached or cannot answer now (NOT_CONTROLLER, a timeout). */
class RetriableRegistrationError extends Error {}

export class BrokerLifecycleManager {
  readonly #options: BrokerLifecycleOptions;
  #registration: BrokerRegistrationRequest | undefined;
  #brokerEpoch = -1n;
  #state: BrokerLifecycleState = "not-running";
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #inFlight: Promise<unknown> = Promise.resolve();

  constructor(options: BrokerLifecycleOptions) {
    this.#options = options;
  }

  get state(): BrokerLifecycleState {
    return this.#state;
  }

  /** The epoch the controller gave this registration; -1 before it. */
  get brokerEpoch(): bigint {
    return this.#brokerEpoch;
  }

  /**
   * Registers and heartbeats until unfenced, then keeps heartbeating in the background. Rejects
   * when the controller refuses the registration (another cluster, unsupported features) or when
   * `timeoutMs` passes first.
   */
  async start(registration: BrokerRegistrationRequest, timeoutMs: number): Promise<void> {
    this.#registration = registration;
    this.#state = "starting";
    // The active controller may not be elected yet or be unreachable: retry while that lasts.
    for (let attempt = 1; ; attempt++) {
      if (this.#closed) throw new Error("broker stopped while registering");
      try {
        await this.#register();
        break;
      } catch (err) {
        if (
          !(err instanceof RetriableRegistrationError) ||
          (attempt - 1) * REGISTRATION_RETRY_MS >= timeoutMs
        )
          throw err;
        if (attempt === 1 || attempt % 20 === 0) {
          this.#options.logger.info(
            { attempt, err: err.message },
            "broker registration not accepted yet; retrying",
          );
        }
        await new Promise((resolve) => setTimeout(resolve, REGISTRATION_RETRY_MS));
      }
    }
    this.#state = "recovery";
    // Bounded by attempts, not by reading a clock: each failed attempt waits RETRY_MS.
    for (let attempt = 0; ; attempt++) {
      const reply = await this.#heartbeat(false);
      if (reply !== undefined && reply.errorCode === ErrorCode.NONE && !reply.isFenced) break;
      if (this.#closed) throw new Error("broker stopped while waiting to be unfenced");
      if (attempt * RETRY_MS >= timeoutMs) {
        throw new Error(
          `the controller did not unfence broker ${registration.brokerId} within ${timeoutMs} ms`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
    this.#state = "running";
    this.#options.logger.info({ brokerEpoch: this.#brokerEpoch }, "broker registered and unfenced");
    this.#schedule(this.#options.config().int("broker.heartbeat.interval.ms"));
  }

  /** Throws RetriableRegistrationError when the controller could not be reached or answer now. */
  async #register(): Promise<void> {
    let reply: Awaited<ReturnType<ControllerChannel["registerBroker"]>>;
    try {
      reply = await this.#options.channel.registerBroker(this.#registration!);
    } catch (err) {
      throw new RetriableRegistrationError((err as Error).message, { cause: err });
    }
    if (reply.errorCode !== ErrorCode.NONE) {
      const message = `broker registration refused: ${errorCodeName(reply.errorCode)}: ${reply.errorMessage ?? ""}`;
      if (isRetriableErrorCode(reply.errorCode)) throw new RetriableRegistrationError(message);
      throw new Error(message);
    }
    this.#brokerEpoch = reply.brokerEpoch;
  }

  /** One heartbeat; undefined if it could not be sent (logged). */
  async #heartbeat(wantShutDown: boolean): Promise<BrokerHeartbeatReply | undefined> {
    const run = async () => {
      try {
        const reply = await this.#options.channel.brokerHeartbeat({
          brokerId: this.#registration!.brokerId,
          brokerEpoch: this.#brokerEpoch,
          currentMetadataOffset: BigInt(this.#options.metadataOffset()),
          wantFence: false,
          wantShutDown,
        });
        if (reply.errorCode === ErrorCode.STALE_BROKER_EPOCH && !this.#closed) {
          this.#options.logger.warn({ message: reply.errorMessage }, "stale broker epoch: registering again");
          await this.#register();
        } else if (reply.errorCode !== ErrorCode.NONE) {
          this.#options.logger.warn(
            { error: errorCodeName(reply.errorCode), message: reply.errorMessage },
            "broker heartbeat failed",
          );
        }
        return reply;
      } catch (err) {
        this.#options.logger.warn({ err }, "broker heartbeat failed");
        return undefined;
      }
    };
    // One heartbeat at a time, in order.
    const result = this.#inFlight.then(run);
    this.#inFlight = result;
    return result;
  }

  /**
   * Heartbeats now instead of at the next interval: the quorum has a new leader, whose controller
   * has not heard from this broker yet and gives it only a heartbeat interval to do so
   * (broker-heartbeats.ts).
   */
  heartbeatSoon(): void {
    if (this.#state === "running") this.#schedule(0);
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      void this.#heartbeat(false).then((reply) => {
        const ok = reply !== undefined && reply.errorCode === ErrorCode.NONE;
        if (this.#state === "running") {
          this.#schedule(ok ? this.#options.config().int("broker.heartbeat.interval.ms") : RETRY_MS);
        }
      });
    }, delayMs);
    this.#timer.unref();
  }

  /**
   * Kafka's controlled shutdown: heartbeats with WantShutDown until the controller says
   * ShouldShutDown (leaderships moved and seen by every active broker) or `timeoutMs` passes.
   * It also gives up once no controller has answered for `broker.session.timeout.ms`: a live
   * controller has fenced this broker by then, which moves its leaderships as the shutdown would,
   * and without a quorum there is nobody to move them. Resolves true when the controller agreed.
   */
  async controlledShutdown(timeoutMs: number): Promise<boolean> {
    if (this.#state !== "running") return false;
    this.#state = "pending-controlled-shutdown";
    clearTimeout(this.#timer);
    const clock = this.#options.clock ?? SYSTEM_CLOCK;
    const silenceMaxMs = this.#options.config().int("broker.session.timeout.ms");
    const startMs = clock.nowMs();
    let answeredAtMs = startMs;
    for (let attempt = 0; ; attempt++) {
      const reply = await this.#heartbeat(true);
      if (reply?.errorCode === ErrorCode.NONE && reply.shouldShutDown) {
        this.#state = "shutting-down";
        return true;
      }
      if (reply !== undefined) answeredAtMs = clock.nowMs();
      const now = clock.nowMs();
      // Bounded by attempts too, in case `clock` is not the wall clock.
      const late = attempt * RETRY_MS >= timeoutMs || now - startMs >= timeoutMs;
      if (late || now - answeredAtMs >= silenceMaxMs) {
        this.#options.logger.warn("controlled shutdown did not complete in time; stopping anyway");
        this.#state = "shutting-down";
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }

  /** Stops heartbeating (the controller fences this broker once its session times out). */
  close(): void {
    this.#closed = true;
    this.#state = "not-running";
    clearTimeout(this.#timer);
  }
}
