/**
 * KrillContainer: a Krill broker in a container for tests, shaped like @testcontainers/kafka's
 * KafkaContainer (`new KrillContainer(image).start()`, then `getBootstrapServers()` and `stop()`).
 *
 * The container shares the host's network namespace (`--network host`) and the broker binds
 * 127.0.0.1 only, so every byte stays on loopback and the address clients bootstrap from is the
 * address the broker advertises: no port mapping, no advertised-listener rewriting. The price is
 * that each container needs a free host port; one is picked at start unless `withPort` fixed it.
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

/** Config keys the container owns: the listener is derived from the port. */
const RESERVED_KEYS = new Set(["listeners", "advertised.listeners"]);

export class KrillContainer extends GenericContainer {
  #port: number | undefined;
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
      const args = [`listeners=PLAINTEXT://127.0.0.1:${port}`];
      for (const [key, value] of this.#overrides) args.push(`${key}=${value}`);
      this.withCommand(args.flatMap((arg) => ["--override", arg]));
      try {
        return new StartedKrillContainer(await super.start(), port);
      } catch (err) {
        // Another process may take an auto-picked port before the broker binds it; the broker
        // then exits before its start-up line and the log wait reports the stream's end. Other
        // failures (no image, no runtime, a slow start) and a fixed port are not retried.
        const exitedEarly = err instanceof Error && /Log stream ended/.test(err.message);
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
