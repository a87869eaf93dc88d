// The image without testcontainers, as a user runs it: `podman run --network host` with a named
// volume on /var/lib/krill and a listener override; records produced to the first container are
// read by a second, new container on the same volume after `podman stop` (SIGTERM), which must end
// in a clean shutdown (exit code 0, "broker stopped" logged). Prints the start-up time measured
// from `podman run` to the listener accepting connections.
import { execFile } from "node:child_process";
import { createConnection } from "node:net";
import { promisify } from "node:util";
import { check, consumeAll, freeLoopbackPort, kafka, scenario, sleep, uniqueName } from "../lib.mjs";

const run = promisify(execFile);
const IMAGE = process.env.KRILL_IMAGE ?? "localhost/krill:dev";
const RECORDS = 200;

async function podman(...args) {
  const { stdout } = await run("podman", args, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

function connects(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

// The run's label on the container and the volume: run.sh removes what a killed scenario left.
const label = process.env.KRILL_COMPAT_RUN
  ? ["--label", `krill.compat.run=${process.env.KRILL_COMPAT_RUN}`]
  : [];

async function startContainer(volume, port) {
  const startedMs = Date.now();
  const id = await podman(
    "run",
    "-d",
    "--network",
    "host",
    ...label,
    "-v",
    `${volume}:/var/lib/krill`,
    IMAGE,
    "--override",
    `listeners=PLAINTEXT://127.0.0.1:${port}`,
    "--override",
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
  );
  const deadline = Date.now() + 60_000;
  while (!(await connects(port))) {
    check(Date.now() < deadline, `the container did not listen on ${port} within 60 s`);
    const state = await podman("inspect", "--format", "{{.State.Status}}", id);
    check(state === "running", `the container is ${state}: ${await podman("logs", "--tail", "5", id)}`);
    await sleep(20);
  }
  console.log(
    `container ${id.slice(0, 12)} listening on 127.0.0.1:${port} ${Date.now() - startedMs} ms after podman run`,
  );
  return id;
}

async function stopContainer(id) {
  await podman("stop", "-t", "30", id);
  const exitCode = await podman("inspect", "--format", "{{.State.ExitCode}}", id);
  const { stdout, stderr } = await run("podman", ["logs", id], { maxBuffer: 16 * 1024 * 1024 });
  check(exitCode === "0", `exit code ${exitCode} after podman stop`);
  check(`${stdout}${stderr}`.includes('"msg":"broker stopped"'), "no clean stop in the log");
}

scenario(async () => {
  const volume = uniqueName("volume");
  const ids = [];
  await podman("volume", "create", ...label, volume);
  try {
    const topic = uniqueName("podman");
    let port = await freeLoopbackPort();
    ids.push(await startContainer(volume, port));
    let client = kafka(`127.0.0.1:${port}`);
    const producer = client.producer();
    await producer.connect();
    for (let sent = 0; sent < RECORDS; sent += 50) {
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: 50 }, (_, i) => ({ key: `k${sent + i}`, value: `v${sent + i}` })),
      });
    }
    await producer.disconnect();
    await stopContainer(ids[0]);

    // A new container (another port too) on the same volume.
    port = await freeLoopbackPort();
    ids.push(await startContainer(volume, port));
    client = kafka(`127.0.0.1:${port}`);
    const received = await consumeAll(client, topic, RECORDS);
    check(received.length === RECORDS, `received ${received.length} of ${RECORDS} in the second container`);
    check(
      received.every((r, i) => r.key === `k${i}` && r.value === `v${i}` && r.offset === String(i)),
      "records differ in the second container",
    );
    await stopContainer(ids[1]);
  } finally {
    for (const id of ids) await podman("rm", "-f", "-t", "0", id).catch(() => {});
    await podman("volume", "rm", "-f", volume).catch(() => {});
  }
});
