import { createConnection } from "node:net";
import { GenericContainer, type StartedTestContainer } from "testcontainers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { KrillContainer } from "../src/index.js";

/** What `GenericContainer.start` saw on each call: the command and the network mode. */
interface Attempt {
  cmd: string[];
  networkMode: string | undefined;
  env: string[];
  portBindings: unknown;
}

/** Replaces the runtime call with `outcomes`, one per attempt: an Error to throw, else success. */
function stubStart(outcomes: (Error | undefined)[]): Attempt[] {
  const attempts: Attempt[] = [];
  vi.spyOn(GenericContainer.prototype, "start").mockImplementation(async function (this: GenericContainer) {
    const self = this as unknown as {
      createOpts: { Cmd?: string[] };
      networkMode?: string;
      environment: Record<string, string>;
      hostConfig: { PortBindings?: unknown };
    };
    attempts.push({
      cmd: [...(self.createOpts.Cmd ?? [])],
      networkMode: self.networkMode,
      env: Object.entries(self.environment).map(([k, v]) => `${k}=${v}`),
      portBindings: structuredClone(self.hostConfig.PortBindings),
    });
    const outcome = outcomes[attempts.length - 1];
    if (outcome !== undefined) throw outcome;
    return {} as StartedTestContainer;
  });
  return attempts;
}

function listenerPort(cmd: string[]): number {
  const listener = cmd.find((arg) => arg.startsWith("listeners="));
  const match = /^listeners=PLAINTEXT:\/\/127\.0\.0\.1:(\d+)$/.exec(listener ?? "");
  if (match === null) throw new Error(`no loopback listener in ${JSON.stringify(cmd)}`);
  return Number(match[1]);
}

const EXITED_EARLY = new Error('Log stream ended and message "/"msg":"broker started"/" was not received');

describe("KrillContainer", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("runs on the host network with a loopback listener on a free port and the given configs", async () => {
    const attempts = stubStart([undefined]);
    const started = await new KrillContainer("krill:test")
      .withBrokerConfig("num.partitions", 3)
      .withBrokerConfig(" auto.create.topics.enable ", false)
      .start();
    expect(attempts).toHaveLength(1);
    const { cmd, networkMode } = attempts[0]!;
    expect(networkMode).toBe("host");
    const port = listenerPort(cmd);
    expect(port).toBeGreaterThan(0);
    expect(cmd).toEqual([
      "--override",
      `listeners=PLAINTEXT://127.0.0.1:${port}`,
      "--override",
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      "--override",
      "num.partitions=3",
      "--override",
      "auto.create.topics.enable=false",
    ]);
    expect(started.getPort()).toBe(port);
    expect(started.getBootstrapServers()).toBe(`127.0.0.1:${port}`);
  });

  it("on a bridge network publishes 9092 at the picked host port and advertises it through KAFKA_* variables", async () => {
    const attempts = stubStart([new Error("listen tcp :1: bind: address already in use"), undefined]);
    const started = await new KrillContainer("krill:test")
      .withBridgeNetwork()
      .withBrokerConfig("num.partitions", 2)
      .start();
    expect(attempts).toHaveLength(2);
    const { cmd, networkMode, env, portBindings } = attempts[1]!;
    const port = started.getPort();
    expect(networkMode).toBe("bridge");
    expect(cmd).toEqual(["--override", "num.partitions=2"]);
    expect(env).toEqual(
      expect.arrayContaining([
        "KAFKA_LISTENERS=PLAINTEXT://:9092",
        `KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://127.0.0.1:${port}`,
      ]),
    );
    expect(portBindings).toEqual({ "9092/tcp": [{ HostPort: String(port) }] });
    expect(started.getBootstrapServers()).toBe(`127.0.0.1:${port}`);
  });

  it("uses a fixed port as given", async () => {
    const attempts = stubStart([undefined]);
    const started = await new KrillContainer("krill:test").withPort(19_092).start();
    expect(listenerPort(attempts[0]!.cmd)).toBe(19_092);
    expect(started.getBootstrapServers()).toBe("127.0.0.1:19092");
  });

  it("retries with a new port when the broker exited before starting, at most three times", async () => {
    const retried = stubStart([EXITED_EARLY, undefined]);
    const started = await new KrillContainer("krill:test").start();
    expect(retried).toHaveLength(2);
    expect(started.getPort()).toBe(listenerPort(retried[1]!.cmd));
    vi.restoreAllMocks();

    const exhausted = stubStart([EXITED_EARLY, EXITED_EARLY, EXITED_EARLY, undefined]);
    await expect(new KrillContainer("krill:test").start()).rejects.toBe(EXITED_EARLY);
    expect(exhausted).toHaveLength(3);
  });

  it("does not retry a fixed port or any other failure", async () => {
    const fixed = stubStart([EXITED_EARLY, undefined]);
    await expect(new KrillContainer("krill:test").withPort(19_092).start()).rejects.toBe(EXITED_EARLY);
    expect(fixed).toHaveLength(1);
    vi.restoreAllMocks();

    const missingImage = new Error("(HTTP code 404) no such image");
    const other = stubStart([missingImage, undefined]);
    await expect(new KrillContainer("krill:test").start()).rejects.toBe(missingImage);
    expect(other).toHaveLength(1);
  });

  it("refuses ports out of range and config keys it owns or cannot pass", () => {
    const container = new KrillContainer("krill:test");
    for (const port of [0, -1, 65_536, 1.5, Number.NaN]) {
      expect(() => container.withPort(port)).toThrow(RangeError);
    }
    for (const key of ["listeners", "advertised.listeners", "", " ", "a=b", "a b"]) {
      expect(() => container.withBrokerConfig(key, "x")).toThrow(RangeError);
    }
  });
});

/** Whether a TCP connection to 127.0.0.1:port succeeds. */
function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

// A real container: needs a Docker API (DOCKER_HOST, e.g. podman's, see docs/container.md) and the
// image (container/build-image.sh). Skipped otherwise.
describe.skipIf(process.env.DOCKER_HOST === undefined)("KrillContainer with a container runtime", () => {
  it("starts a broker that listens on its bootstrap address and frees it on stop", async () => {
    const started = await new KrillContainer().start();
    try {
      expect(started.getBootstrapServers()).toBe(`127.0.0.1:${started.getPort()}`);
      expect(await connects(started.getPort())).toBe(true);
    } finally {
      await started.stop();
    }
    expect(await connects(started.getPort())).toBe(false);
  });

  it("on a bridge network, is reached through the published port", async () => {
    const started = await new KrillContainer().withBridgeNetwork().start();
    try {
      expect(await connects(started.getPort())).toBe(true);
    } finally {
      await started.stop();
    }
  });
});
