// Waits until a Kafka-protocol broker answers ApiVersions on host:port, or gives up.
// Usage: tsx probe.ts <host:port> <timeoutMs>. Exits 0 once a well-formed ApiVersions v0 response
// with error code 0 arrives, 1 with a one-line reason when the deadline passes. Hand-encoded so the
// probe depends on no client library whose own quirks could hide a broker that is not ready.
import { connect } from "node:net";

const API_VERSIONS_KEY = 18;
const CORRELATION_ID = 0x6b72696c; // "kril"
const CLIENT_ID = "krill-compat-probe";
const RESPONSE_BYTES_MAX = 1 << 20;

function apiVersionsRequestV0(): Buffer {
  const clientId = Buffer.from(CLIENT_ID, "utf8");
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
  let at = body.writeInt16BE(API_VERSIONS_KEY, 0);
  at = body.writeInt16BE(0, at);
  at = body.writeInt32BE(CORRELATION_ID, at);
  at = body.writeInt16BE(clientId.length, at);
  clientId.copy(body, at);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

/** One attempt: resolves with null when the broker answered correctly, else with the reason. */
function attempt(host: string, port: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let received = Buffer.alloc(0);
    const finish = (reason: string | null) => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(timeoutMs, () => finish("timed out waiting for the ApiVersions response"));
    socket.on("error", (err) => finish(err.message));
    socket.on("connect", () => socket.write(apiVersionsRequestV0()));
    socket.on("end", () => finish("connection closed before a full response"));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4) return;
      const size = received.readInt32BE(0);
      if (size < 6 || size > RESPONSE_BYTES_MAX) return finish(`implausible response size ${size}`);
      if (received.length < 4 + size) return;
      const correlationId = received.readInt32BE(4);
      if (correlationId !== CORRELATION_ID) return finish(`wrong correlation id ${correlationId}`);
      const errorCode = received.readInt16BE(8);
      finish(errorCode === 0 ? null : `ApiVersions error code ${errorCode}`);
    });
  });
}

async function main(): Promise<void> {
  const [address, timeoutArg] = process.argv.slice(2);
  const match = /^(.+):(\d+)$/.exec(address ?? "");
  if (!match) {
    console.error("usage: probe.ts <host:port> <timeoutMs>");
    process.exit(2);
  }
  const host = match[1]!;
  const port = Number(match[2]);
  const deadline = Date.now() + Number(timeoutArg ?? "60000");
  let reason: string | null = "never tried";
  while (Date.now() < deadline) {
    reason = await attempt(host, port, 2000);
    if (reason === null) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  console.error(`probe: ${address} did not answer ApiVersions: ${reason}`);
  process.exit(1);
}

await main();
