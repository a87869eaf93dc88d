/**
 * Turns request frames into response frames: parses the request header, finds the handler,
 * checks the version, decodes the body, runs the handler and encodes the response with its header
 * and size prefix. Wire errors never throw: a bad request closes the connection (as Kafka's
 * SocketServer does when RequestContext.parseRequest fails), and every refusal logs one line.
 *
 * - An API not served on the connection's kind of listener (a controller-only API on a broker
 *   listener, see registry.ts ListenerKind): the connection closes, as Kafka's SocketServer closes
 *   it for an API not enabled on the listener.
 * - Unknown API key, version outside what the handler serves (except ApiVersions), a header or a
 *   body that does not decode (an array count larger than the bytes left, a truncated field):
 *   the connection closes. Answering a body that did not decode would answer a request nobody
 *   sent, and for most versions the response has no field to say so.
 * - ApiVersions at a version we do not know (KIP-511): answered in ApiVersions v0 format with
 *   UNSUPPORTED_VERSION and our supported ranges, so the client can retry with a version we serve.
 * - A handler may throw KrillError DECODE_ERROR for a body Kafka refuses while parsing it (an
 *   ACL filter with an UNKNOWN code): the connection closes too.
 * - Bytes after a body that decodes are ignored, as Kafka's RequestContext.parseRequest ignores
 *   them (librdkafka's all-topics Metadata v9+ leaves three).
 */
import type { Logger } from "pino";
import { isKrillError } from "../errors.js";
import { Reader } from "../protocol/primitives/reader.js";
import { Writer } from "../protocol/primitives/writer.js";
import type { ConnectionInfo, FrameProcessor, RequestOutcome } from "./network/connection.js";
import { applyRequestQuota } from "./quotas/request-quota.js";
import {
  type ApiHandler,
  type HandlerRegistry,
  type ListenerKind,
  NO_RESPONSE,
  type RequestContext,
} from "./registry.js";
import type { BrokerContext } from "./services.js";

export const API_VERSIONS_KEY = 18;
export const UNSUPPORTED_VERSION = 35;

export interface RequestObserver {
  /** Called once per answered or refused request. */
  /** `version` is undefined when the API does not serve the version asked for. */
  onRequest(
    apiName: string,
    version: number | undefined,
    latencyMs: number,
    outcome: "ok" | "error" | "closed",
  ): void;
}

export class Dispatcher implements FrameProcessor {
  readonly #registry: HandlerRegistry;
  readonly #broker: BrokerContext;
  readonly #observer: RequestObserver | undefined;

  constructor(registry: HandlerRegistry, broker: BrokerContext, observer?: RequestObserver) {
    this.#registry = registry;
    this.#broker = broker;
    this.#observer = observer;
  }

  process(
    frame: Buffer,
    connection: ConnectionInfo,
    waitForEarlier: () => Promise<void>,
    waitForRoom: () => Promise<void> | undefined,
  ): RequestOutcome | Promise<RequestOutcome> {
    const startedMs = performance.now();
    if (frame.length < 8) {
      return this.#close("request header too short", "unknown", undefined, startedMs);
    }
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    const handler = this.#registry.get(apiKey);
    if (handler === undefined) {
      // Not the key itself as the name: metric labels stay a closed set whatever clients send.
      return this.#close(`unknown api key ${apiKey}`, "unknown", undefined, startedMs);
    }
    const kind = listenerKind(this.#broker, connection);
    if (!handler.listeners.includes(kind)) {
      return this.#close(
        `${handler.name} is not served on ${kind} listener ${connection.listenerName}`,
        handler.name,
        undefined,
        startedMs,
      );
    }
    const versionServed = apiVersion >= handler.minVersion && apiVersion <= handler.maxVersion;
    if (!versionServed && apiKey !== API_VERSIONS_KEY) {
      return this.#close(
        `${handler.name} v${apiVersion} is not served (versions ${handler.minVersion}-${handler.maxVersion})`,
        handler.name,
        undefined,
        startedMs,
      );
    }
    // Header: clientId (nullable int16 string) always; tagged fields when the API version is flexible.
    const flexible = handler.requestHeaderVersion(apiVersion) >= 2;
    const reader = new Reader(frame, 8);
    let clientId: string | null;
    try {
      clientId = reader.readNullableString("clientId");
      if (flexible) skipTaggedFields(reader);
    } catch (err) {
      return this.#close(
        `bad request header: ${describe(err)}`,
        handler.name,
        versionServed ? apiVersion : undefined,
        startedMs,
      );
    }
    if (!versionServed) {
      // KIP-511: a newer client's ApiVersions. Its body may not be parseable by us, so skip it.
      this.#observer?.onRequest(handler.name, undefined, performance.now() - startedMs, "error");
      return { kind: "respond", chunks: this.#apiVersionsFallback(correlationId, kind) };
    }
    let request: unknown;
    try {
      // Bytes after the body are ignored, as Kafka ignores them (it parses the body from the
      // frame and never checks what is left): librdkafka's all-topics Metadata v9+ leaves three.
      request = handler.decodeRequest(reader, apiVersion);
    } catch (err) {
      return this.#close(
        `${handler.name} v${apiVersion} request does not decode: ${describe(err)}`,
        handler.name,
        apiVersion,
        startedMs,
      );
    }
    const ctx: RequestContext = {
      apiKey,
      apiVersion,
      correlationId,
      clientId,
      connection,
      broker: this.#broker,
      logger: connection.logger,
      quota: { exempt: false, throttleMs: 0, requestBytes: frame.length },
    };
    const run = async (): Promise<RequestOutcome> => {
      if (handler.ordering === "serial") await waitForEarlier();
      // Its response must have room on the connection before the handler builds it.
      const room = waitForRoom();
      if (room !== undefined) await room;
      // The handler's synchronous part is its event-loop time (request_percentage).
      const handledMs = performance.now();
      const pending = handler.handle(ctx, request);
      const busyMs = performance.now() - handledMs;
      const response = await pending;
      return this.#finish(
        handler,
        ctx,
        response,
        startedMs,
        applyRequestQuota(ctx, response, busyMs, kind === "controller"),
      );
    };
    return run().catch((err: unknown) => {
      // A request Kafka fails to parse (an ACL filter with an UNKNOWN code, checked where the
      // body is read): closed as a body that does not decode.
      if (isKrillError(err, "DECODE_ERROR")) {
        return this.#close(
          `${handler.name} v${apiVersion} request: ${err.message}`,
          handler.name,
          apiVersion,
          startedMs,
        );
      }
      // A handler throwing is a bug or an operating error (disk); log it and drop the connection
      // rather than inventing a response.
      connection.logger.error({ err, api: handler.name, correlationId }, "handler failed");
      this.#observer?.onRequest(handler.name, ctx.apiVersion, performance.now() - startedMs, "closed");
      return { kind: "close", reason: `${handler.name} handler failed` } as const;
    });
  }

  #finish(
    handler: ApiHandler,
    ctx: RequestContext,
    response: unknown,
    startedMs: number,
    throttleMs: number,
  ): RequestOutcome {
    const elapsedMs = performance.now() - startedMs;
    this.#observer?.onRequest(handler.name, ctx.apiVersion, elapsedMs, "ok");
    // Per-request detail is for debugging only, as Kafka's request logger (kafka.request.logger).
    if (ctx.logger.isLevelEnabled("debug")) {
      ctx.logger.debug(
        {
          api: handler.name,
          version: ctx.apiVersion,
          correlationId: ctx.correlationId,
          clientId: ctx.clientId,
          ms: Math.round(elapsedMs * 1000) / 1000,
        },
        "request completed",
      );
    }
    if (response === NO_RESPONSE) return { kind: "none", throttleMs };
    return {
      kind: "respond",
      chunks: encodeResponse(handler, response, ctx.apiVersion, ctx.correlationId),
      throttleMs,
    };
  }

  /** The connection logs the reason when it acts on the close. */
  #close(reason: string, apiName: string, version: number | undefined, startedMs: number): RequestOutcome {
    this.#observer?.onRequest(apiName, version, performance.now() - startedMs, "closed");
    return { kind: "close", reason };
  }

  /** ApiVersions v0 body: error_code, then [api_key, min_version, max_version]. */
  #apiVersionsFallback(correlationId: number, kind: ListenerKind): Buffer[] {
    const handlers = this.#registry.servedOn(kind);
    const body = Buffer.allocUnsafe(4 + 2 + 4 + handlers.length * 6 + 4);
    let o = body.writeInt32BE(0, 0); // size, patched below
    o = body.writeInt32BE(correlationId, o);
    o = body.writeInt16BE(UNSUPPORTED_VERSION, o);
    o = body.writeInt32BE(handlers.length, o);
    for (const h of handlers) {
      o = body.writeInt16BE(h.apiKey, o);
      o = body.writeInt16BE(h.advertisedMinVersion, o);
      o = body.writeInt16BE(h.maxVersion, o);
    }
    const frame = body.subarray(0, o);
    frame.writeInt32BE(o - 4, 0);
    return [frame];
  }
}

/** Size prefix + response header (v1 adds empty tagged fields; ApiVersions always uses v0). */
export function encodeResponse(
  handler: ApiHandler,
  response: unknown,
  version: number,
  correlationId: number,
): Buffer[] {
  const writer = new Writer(256);
  handler.encodeResponse(writer, response, version);
  const body = writer.toChunks();
  const headerV1 = handler.responseHeaderVersion(version) >= 1;
  const headerBytes = headerV1 ? 5 : 4;
  let bodyBytes = 0;
  for (const c of body) bodyBytes += c.length;
  const head = Buffer.allocUnsafe(4 + headerBytes);
  head.writeInt32BE(headerBytes + bodyBytes, 0);
  head.writeInt32BE(correlationId, 4);
  if (headerV1) head[8] = 0;
  return [head, ...body];
}

/** The kind of listener a connection came in on. */
export function listenerKind(broker: BrokerContext, connection: ConnectionInfo): ListenerKind {
  return broker.config.controllerListenerNames.has(connection.listenerName) ? "controller" : "broker";
}

function skipTaggedFields(reader: Reader): void {
  const count = reader.readUnsignedVarint("tagged field count");
  for (let i = 0; i < count; i++) {
    reader.readUnsignedVarint("tag");
    const size = reader.readUnsignedVarint("tagged field size");
    reader.readRawView(size, "tagged field");
  }
}

function describe(err: unknown): string {
  return isKrillError(err) ? err.message : String(err);
}

export type { Logger };
