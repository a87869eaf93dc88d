/**
 * The broker's client quotas: one ClientQuotaManager per quota key, as Kafka's QuotaFactory
 * builds them (produce, fetch, request, controller mutation), following the client quotas of the
 * metadata image, so every node enforces the quotas the controller committed. What each request
 * records and how the connection is throttled is in the handlers and the dispatcher
 * (docs/security.md#quotas).
 */
import type { BrokerConfig } from "../../config/broker-config.js";
import {
  type ClientQuotaEntry,
  CONSUMER_BYTE_RATE,
  CONTROLLER_MUTATION_RATE,
  PRODUCER_BYTE_RATE,
  REQUEST_PERCENTAGE,
} from "../../metadata/client-quotas.js";
import { connectionPrincipal } from "../auth.js";
import type { ConnectionInfo } from "../network/connection.js";
import { ClientQuotaManager } from "./client-quota-manager.js";

export class BrokerQuotas {
  /** producer_byte_rate: Produce request bytes. */
  readonly produce: ClientQuotaManager;
  /** consumer_byte_rate: Fetch response bytes (consumers only). */
  readonly fetch: ClientQuotaManager;
  /** request_percentage: request handling time, as a percentage of one thread per window. */
  readonly request: ClientQuotaManager;
  /** controller_mutation_rate: partitions created or deleted per second. */
  readonly controllerMutation: ClientQuotaManager;
  #quotas: ReadonlyMap<string, ClientQuotaEntry> | undefined;

  constructor(config: BrokerConfig) {
    const window = {
      samples: config.int("quota.window.num"),
      windowMs: config.int("quota.window.size.seconds") * 1000,
    };
    const controllerWindow = {
      samples: config.int("controller.quota.window.num"),
      windowMs: config.int("controller.quota.window.size.seconds") * 1000,
    };
    this.produce = new ClientQuotaManager(PRODUCER_BYTE_RATE, { window, measure: "rate" });
    this.fetch = new ClientQuotaManager(CONSUMER_BYTE_RATE, { window, measure: "rate" });
    // Kafka's ClientRequestQuotaManager bounds a throttle to one window.
    this.request = new ClientQuotaManager(REQUEST_PERCENTAGE, {
      window,
      measure: "rate",
      throttleMsMax: window.windowMs,
    });
    this.controllerMutation = new ClientQuotaManager(CONTROLLER_MUTATION_RATE, {
      window: controllerWindow,
      measure: "token-bucket",
    });
  }

  /** Follows the image's client quotas (a no-op when they did not change). */
  update(quotas: ReadonlyMap<string, ClientQuotaEntry>): void {
    if (quotas === this.#quotas) return;
    this.#quotas = quotas;
    for (const m of [this.produce, this.fetch, this.request, this.controllerMutation]) m.update(quotas);
  }
}

/** The quota user of a connection: its principal's name (`alice` for `User:alice`, `ANONYMOUS`). */
export function quotaUser(connection: ConnectionInfo): string {
  const principal = connectionPrincipal(connection);
  const colon = principal.indexOf(":");
  return colon < 0 ? principal : principal.slice(colon + 1);
}
