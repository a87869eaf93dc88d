/**
 * KrillContainer: a Krill broker in a container for tests, shaped like @testcontainers/kafka's
 * KafkaContainer (`new KrillContainer(image).start()`, then `getBootstrapServers()` and `stop()`).
 *
 * By default the container shares the host's network namespace (`--network host`) and the broker
 * binds 127.0.0.1 only, so every byte stays on loopback and the address clients bootstrap from is
 * the address the broker advertises: no port mapping. The price is that each container needs a
 * free host port; one is picked at start unless `withPort` fixed it.
 *
 * `withBridgeNetwork()` runs it as Apache Kafka's image is run where host networking is not
 * available (Docker Desktop, rootless runtimes, CI services): on the runtime's default network,
 * the broker listening on the container's port 9092, published on the host's 127.0.0.1 at the
 * picked port, and advertising that host address through KAFKA_ADVERTISED_LISTENERS (the image's
 * entrypoint reads KAFKA_* variables as Kafka's image does).
 */
import { createServer } from "node:net";
import { AbstractStartedContainer, GenericContainer, type StartedTestContainer, Wait } from "testcontainers";

/** The image container/build-image.sh builds; KRILL_IMAGE overrides it. */
export const DEFAULT_KRILL_IMAGE = "localhost/krill:dev";

/** The line the broker logs once every listener is bound and requests are served. */
const STARTED_LOG_LINE = /"msg":"broker started"/;

const DEFAULT_STARTUP_TIMEOUT_MS = 60_000;
/** Attempts when the picked port is taken between picking and binding (auto-picked ports only). */
const PORT_ATTEMPTS = 3;

/** The broker's port inside the container in the bridge-network mode. */
const CONTAINER_PORT = 9092;

/** Config keys the container owns: the listener is derived from the port. */
const RESERVED_KEYS = new Set(["listeners", "advertised.listeners"]);

export class KrillContainer extends GenericContainer {
  #port: number | undefined;
  #bridge = false;
  readonly #overrides = new Map<string, string>();

  constructor(image: string = process.env.KRILL_IMAGE ?? DEFAULT_KRILL_IMAGE) {
    super(image);
    this.withNetworkMode("host")
      .withWaitStrategy(Wait.forLogMessage(STARTED_LOG_LINE))
      .withStartupTimeout(DEFAULT_STARTUP_TIMEOUT_MS);
  }

  /** Fixes the loopback port the broker listens on (default: a free port picked at start). */
  withPort(port: number): this {
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new RangeError(`KrillContainer port must be an integer in 1..65535, got ${port}`);
    }
    this.#port = port;
    return this;
  }

  /**
   * Runs on the runtime's default (bridge) network instead of the host's: port 9092 of the
   * container is published on the host's 127.0.0.1 at the picked (or `withPort`) port, which the
   * broker advertises.
   */
  withBridgeNetwork(): this {
    this.#bridge = true;
    this.withNetworkMode("bridge");
    return this;
  }

  /**
   * Sets a broker configuration key (Kafka's names, e.g. `num.partitions`), passed to the broker
   * as `--override key=value`. The listener keys are the container's own (see `withPort`).
   */
  withBrokerConfig(key: string, value: string | number | boolean): this {
    const name = key.trim();
    if (name === "" || name.includes("=") || /\s/.test(name)) {
      throw new RangeError(
        `KrillContainer config key must be a non-empty name without '=' or spaces: "${key}"`,
      );
    }
    if (RESERVED_KEYS.has(name)) {
      throw new RangeError(`KrillContainer sets ${name} itself from the port; use withPort instead`);
    }
    this.#overrides.set(name, String(value));
    return this;
  }

  override async start(): Promise<StartedKrillContainer> {
    const fixed = this.#port;
    for (let attempt = 1; ; attempt++) {
      const port = fixed ?? (await freeLoopbackPort());
      const args: string[] = [];
      if (this.#bridge) {
        // A retry publishes another host port in place of the one that was taken.
        this.exposedPorts = [];
        this.withExposedPorts({ container: CONTAINER_PORT, host: port }).withEnvironment({
          KAFKA_LISTENERS: `PLAINTEXT://:${CONTAINER_PORT}`,
          KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${port}`,
        });
      } else {
        args.push(
          `listeners=PLAINTEXT://127.0.0.1:${port}`,
          `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
        );
      }
      for (const [key, value] of this.#overrides) args.push(`${key}=${value}`);
      this.withCommand(args.flatMap((arg) => ["--override", arg]));
      try {
        return new StartedKrillContainer(await super.start(), port);
      } catch (err) {
        // Another process may take an auto-picked port before the broker binds it; the broker
        // then exits before its start-up line and the log wait reports the stream's end. Other
        // failures (no image, no runtime, a slow start) and a fixed port are not retried.
        // In the bridge mode the runtime itself refuses a host port that is taken.
        const exitedEarly =
          err instanceof Error &&
          /Log stream ended|address already in use|port is already allocated/.test(err.message);
        if (fixed !== undefined || !exitedEarly || attempt >= PORT_ATTEMPTS) throw err;
      }
    }
  }
}

export class StartedKrillContainer extends AbstractStartedContainer {
  readonly #port: number;

  constructor(started: StartedTestContainer, port: number) {
    super(started);
    this.#port = port;
  }

  /** `127.0.0.1:PORT`, for a client's bootstrap servers. */
  getBootstrapServers(): string {
    return `127.0.0.1:${this.#port}`;
  }

  /** The loopback port the broker listens on. */
  getPort(): number {
    return this.#port;
  }
}

/** Asks the kernel for a free loopback port (released before the broker binds it). */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === "object") resolve(address.port);
        else reject(new Error("could not determine a free loopback port"));
      });
    });
  });
}
