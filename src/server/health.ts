/**
 * What `/health` and `/ready` on the metrics port answer, as container orchestrators probe them
 * (Kubernetes liveness and readiness probes, `podman healthcheck`): liveness is "the process
 * answers HTTP", readiness is "clients can be served now".
 *
 * Ready means: the metadata log is loaded, every partition log is loaded (recovered after an
 * unclean shutdown), the broker is registered and its listeners accept, and the coordinators
 * whose topics exist (`__consumer_offsets`, `__transaction_state`) have loaded them, since until
 * then their requests are answered COORDINATOR_LOAD_IN_PROGRESS. A coordinator whose topic does
 * not exist yet has nothing to load. While stopping, the broker is not ready. Once the node is
 * part of a cluster, "registered" will mean registered with the quorum and unfenced.
 *
 * Concurrency: single-threaded; the broker sets the fields as start-up advances, the HTTP
 * handler reads them.
 */

export type BrokerPhase = "starting" | "serving" | "stopping";

/** A coordinator's state as the probe reports it. */
export type CoordinatorState = "loaded" | "loading" | "no topic yet";

export interface ReadinessReport {
  readonly ready: boolean;
  readonly phase: BrokerPhase;
  readonly metadataLoaded: boolean;
  readonly logsLoaded: boolean;
  readonly registered: boolean;
  readonly groupCoordinator: CoordinatorState;
  readonly transactionCoordinator: CoordinatorState;
}

export class BrokerHealth {
  phase: BrokerPhase = "starting";
  metadataLoaded = false;
  logsLoaded = false;
  registered = false;
  /** Set once the coordinators exist. */
  coordinators: (() => { groups: CoordinatorState; transactions: CoordinatorState }) | undefined;

  report(): ReadinessReport {
    const c = this.coordinators?.() ?? { groups: "loading", transactions: "loading" };
    const coordinatorsReady = c.groups !== "loading" && c.transactions !== "loading";
    return {
      ready:
        this.phase === "serving" &&
        this.metadataLoaded &&
        this.logsLoaded &&
        this.registered &&
        coordinatorsReady,
      phase: this.phase,
      metadataLoaded: this.metadataLoaded,
      logsLoaded: this.logsLoaded,
      registered: this.registered,
      groupCoordinator: c.groups,
      transactionCoordinator: c.transactions,
    };
  }
}
