// Loopback TCP throughput: the ceiling any broker on this machine shares with its clients. A sink
// runs in a separate process (so sender and receiver each have an event loop, like a broker and a
// client), the sender writes 256 KiB chunks for DURATION_S seconds with back-pressure, and the
// sink reports how many bytes it read. Prints "RESULT {json}".
//
//   tsx tcp-loopback.ts DURATION_S
import { fork } from "node:child_process";
import { connect, createServer } from "node:net";

const CHUNK_BYTES = 256 * 1024;
const DURATION_S_MAX = 60;

function sink(): void {
  const server = createServer((socket) => {
    let bytes = 0;
    socket.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
    });
    socket.on("end", () => {
      socket.end(String(bytes));
      server.close();
    });
  });
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    if (address && typeof address === "object") process.send?.({ port: address.port });
  });
}

async function sender(durationS: number): Promise<void> {
  const child = fork(process.argv[1]!, ["sink"], { execArgv: process.execArgv, stdio: "inherit" });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("message", (m) => resolve((m as { port: number }).port));
    child.once("exit", () => reject(new Error("sink exited before listening")));
  });
  const chunk = Buffer.alloc(CHUNK_BYTES, 0x6b);
  const socket = connect({ host: "127.0.0.1", port });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const started = performance.now();
  const deadline = started + durationS * 1000;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (performance.now() < deadline) {
        if (!socket.write(chunk)) {
          socket.once("drain", pump);
          return;
        }
      }
      resolve();
    };
    pump();
  });
  const reply = await new Promise<string>((resolve, reject) => {
    let text = "";
    socket.on("data", (d: Buffer) => {
      text += d.toString("utf8");
    });
    socket.once("end", () => resolve(text));
    socket.once("error", reject);
    socket.end();
  });
  const elapsedS = (performance.now() - started) / 1000;
  const bytes = Number(reply);
  console.log(
    `RESULT ${JSON.stringify({ bytes, elapsedS, mbPerSec: bytes / (1024 * 1024) / elapsedS, chunkBytes: CHUNK_BYTES })}`,
  );
}

const [arg] = process.argv.slice(2);
if (arg === "sink") sink();
else {
  const durationS = Number(arg);
  if (!Number.isFinite(durationS) || durationS <= 0 || durationS > DURATION_S_MAX) {
    console.error(`usage: tcp-loopback.ts DURATION_S (0 < DURATION_S <= ${DURATION_S_MAX})`);
    process.exit(2);
  }
  await sender(durationS);
}
