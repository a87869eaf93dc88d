// Start-up time is "from process start to the first successful Metadata response": this probe polls
// a broker with a hand-encoded Metadata v4 request (no topics, so it costs the broker nothing and
// creates nothing) until a response naming at least one broker arrives. Hand-encoded so that no
// client library's connection back-off adds to the figure.
import { connect } from "node:net";

const METADATA_KEY = 3;
const METADATA_VERSION = 4;
const CORRELATION_ID = 0x62656e63; // "benc"
const CLIENT_ID = "krill-bench-probe";
const RESPONSE_BYTES_MAX = 1 << 20;
const ATTEMPT_TIMEOUT_MS = 2000;
/** Short, so the figure is not rounded up by the poll interval much (10 ms is /proc's resolution). */
const POLL_INTERVAL_MS = 10;

export function metadataRequestV4(): Buffer {
  const clientId = Buffer.from(CLIENT_ID, "utf8");
  // Header v1: api key, version, correlation id, client id; body v4: topics (empty array: none),
  // allow_auto_topic_creation (false).
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4 + 1);
  let at = body.writeInt16BE(METADATA_KEY, 0);
  at = body.writeInt16BE(METADATA_VERSION, at);
  at = body.writeInt32BE(CORRELATION_ID, at);
  at = body.writeInt16BE(clientId.length, at);
  at += clientId.copy(body, at);
  at = body.writeInt32BE(0, at);
  body.writeInt8(0, at);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

/**
 * Checks a whole Metadata v4 response frame (size prefix included): the correlation id, then
 * throttle_time_ms, then a broker array that must not be empty.
 * Returns null when it is a successful answer, else the reason.
 */
export function checkMetadataResponseV4(frame: Buffer): string | null {
  if (frame.length < 4 + 12) return "response too short";
  const correlationId = frame.readInt32BE(4);
  if (correlationId !== CORRELATION_ID) return `wrong correlation id ${correlationId}`;
  const brokerCount = frame.readInt32BE(12);
  if (brokerCount < 1) return `no brokers in the Metadata response (count ${brokerCount})`;
  return null;
}

function attempt(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let received = Buffer.alloc(0);
    const finish = (reason: string | null) => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(ATTEMPT_TIMEOUT_MS, () => finish("timed out waiting for the Metadata response"));
    socket.on("error", (err) => finish(err.message));
    socket.on("connect", () => socket.write(metadataRequestV4()));
    socket.on("end", () => finish("connection closed before a full response"));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4) return;
      const size = received.readInt32BE(0);
      if (size < 8 || size > RESPONSE_BYTES_MAX) return finish(`implausible response size ${size}`);
      if (received.length < 4 + size) return;
      finish(checkMetadataResponseV4(received.subarray(0, 4 + size)));
    });
  });
}

/**
 * Polls until the broker answers Metadata, or the deadline passes. Resolves with the reason of the
 * last failure when it never answered, else null.
 */
export async function waitForMetadata(
  host: string,
  port: number,
  timeoutMs: number,
  shouldStop: () => boolean = () => false,
): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  let reason: string | null = "never tried";
  while (Date.now() < deadline && !shouldStop()) {
    reason = await attempt(host, port);
    if (reason === null) return null;
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
  return reason;
}
