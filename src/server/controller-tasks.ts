/**
 * The active controller's periodic work, on timers (Kafka's QuorumController deferred events):
 * fence brokers whose session expired (checked every second; the session deadline itself is on
 * the controller's injected clock), and every `leader.imbalance.check.interval.seconds` the
 * elections (unclean ones for leaderless partitions of topics that allow them, preferred ones
 * when `auto.leader.rebalance.enable`). Tests call the controller methods directly instead.
 */
import type { Logger } from "pino";
import type { BrokerConfig } from "../config/broker-config.js";
import type { MetadataController } from "../metadata/controller.js";

const SESSION_CHECK_MS = 1000;

export class ControllerTasks {
  readonly #controller: MetadataController;
  readonly #config: () => BrokerConfig;
  readonly #logger: Logger;
  #sessionTimer: NodeJS.Timeout | undefined;
  #electionTimer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(controller: MetadataController, config: () => BrokerConfig, logger: Logger) {
    this.#controller = controller;
    this.#config = config;
    this.#logger = logger;
  }

  start(): void {
    this.#running = true;
    // One check at a time: while the controller is busy, checks do not pile up in its queue.
    let checking = false;
    this.#sessionTimer = setInterval(() => {
      if (checking) return;
      checking = true;
      this.#controller
        .fenceStaleBrokers()
        .catch((err: unknown) => {
          if (this.#running) this.#logger.warn({ err }, "fencing stale brokers failed");
        })
        .finally(() => {
          checking = false;
        });
    }, SESSION_CHECK_MS);
    this.#sessionTimer.unref();
    const electionMs = Math.max(1, this.#config().int("leader.imbalance.check.interval.seconds")) * 1000;
    this.#electionTimer = setInterval(() => {
      void this.#controller.runElections().catch((err: unknown) => {
        if (this.#running) this.#logger.warn({ err }, "periodic leader elections failed");
      });
    }, electionMs);
    this.#electionTimer.unref();
  }

  stop(): void {
    this.#running = false;
    clearInterval(this.#sessionTimer);
    clearInterval(this.#electionTimer);
  }
}
