/**
 * The handler registry: one entry per API the broker serves, with the versions it serves. Handler
 * modules live in `src/server/handlers/NNN-kebab-name.ts` and export `handler` (made with
 * `defineHandler`); `loadHandlers()` imports every such module found beside it, so a new API is
 * served by adding its file. ApiVersions is built from this registry, so the broker never
 * advertises an API or version that has no handler.
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Logger } from "pino";
import type { ApiDescriptor } from "../protocol/generated/apis.js";
import type { Reader } from "../protocol/primitives/reader.js";
import type { Writer } from "../protocol/primitives/writer.js";
import type { ConnectionInfo } from "./network/connection.js";
import type { BrokerContext } from "./services.js";

/**
 * A listener of `controller.listener.names` is a "controller" listener, any other a "broker"
 * one; each serves the APIs whose spec lists its kind (Kafka's ApiMessageType.listeners), so a
 * client port never takes BrokerRegistration or AllocateProducerIds.
 */
export type ListenerKind = "broker" | "controller";

/** Returned by a handler when the client expects no response (Produce with acks=0). */
export const NO_RESPONSE: unique symbol = Symbol("NO_RESPONSE");
export type NoResponse = typeof NO_RESPONSE;

export interface RequestContext {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  readonly connection: ConnectionInfo;
  readonly broker: BrokerContext;
  readonly logger: Logger;
  /**
   * Set by the dispatcher (src/server/quotas/request-quota.ts): a handler sets `throttleMs` when a
   * byte-rate quota throttles the request (the dispatcher writes it into throttle_time_ms and
   * mutes the connection), and `exempt` for a request Kafka exempts from the request quota (a
   * follower's Fetch).
   */
  readonly quota?: RequestQuotaState;
}

export interface RequestQuotaState {
  exempt: boolean;
  throttleMs: number;
  /** The request's size (header and body, as Kafka's request.sizeInBytes): producer_byte_rate. */
  readonly requestBytes: number;
}

/**
 * How a request relates to the ones before it on the same connection. "serial" waits until every
 * earlier request has completed (Kafka's own model: one request at a time per connection);
 * "concurrent" starts at once, in arrival order, and is for handlers that only read state or that
 * order their own effects synchronously at call time.
 */
export type Ordering = "serial" | "concurrent";

export interface ApiHandler<Req = unknown, Res = unknown> {
  readonly apiKey: number;
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** The listener kinds that serve it ("broker", "controller"), from the spec's `listeners`. */
  readonly listeners: readonly string[];
  /**
   * The lowest version ApiVersions advertises, when lower than the lowest served (Produce: Kafka
   * 4 advertises v0 for librdkafka's feature checks and closes the connection on v0-2).
   */
  readonly advertisedMinVersion: number;
  requestHeaderVersion(version: number): number;
  responseHeaderVersion(version: number): number;
  readonly ordering: Ordering;
  decodeRequest(reader: Reader, version: number): Req;
  encodeResponse(writer: Writer, response: Res, version: number): void;
  handle(ctx: RequestContext, request: Req): Res | NoResponse | Promise<Res | NoResponse>;
}

export interface HandlerSpec<Req, Res> {
  /** The generated descriptor: codecs and header versions. */
  readonly api: ApiDescriptor<Req, Res>;
  /** Versions served: within the spec's range, and Kafka 4.x's floor (KIP-896). */
  readonly minVersion: number;
  readonly maxVersion: number;
  /** See ApiHandler; defaults to minVersion. */
  readonly advertisedMinVersion?: number;
  readonly ordering: Ordering;
  handle(ctx: RequestContext, request: Req): Res | NoResponse | Promise<Res | NoResponse>;
}

/** Builds a handler from its generated descriptor; asserts the versions are ones the spec defines. */
export function defineHandler<Req, Res>(spec: HandlerSpec<Req, Res>): ApiHandler<Req, Res> {
  if (spec.minVersion > spec.maxVersion || spec.minVersion < 0) {
    throw new Error(`assertion: handler versions ${spec.minVersion}-${spec.maxVersion}`);
  }
  const advertisedMinVersion = spec.advertisedMinVersion ?? spec.minVersion;
  if (advertisedMinVersion < 0 || advertisedMinVersion > spec.minVersion) {
    throw new Error(`assertion: advertised minimum ${advertisedMinVersion} above served ${spec.minVersion}`);
  }
  const common = {
    minVersion: spec.minVersion,
    maxVersion: spec.maxVersion,
    advertisedMinVersion,
    ordering: spec.ordering,
    handle: spec.handle,
  };
  const { api } = spec;
  if (spec.minVersion < api.minVersion || spec.maxVersion > api.maxVersion) {
    throw new Error(
      `assertion: ${api.name} serves ${spec.minVersion}-${spec.maxVersion}, spec defines ${api.minVersion}-${api.maxVersion}`,
    );
  }
  return {
    ...common,
    apiKey: api.apiKey,
    name: api.name,
    listeners: api.listeners,
    requestHeaderVersion: api.requestHeaderVersion,
    responseHeaderVersion: api.responseHeaderVersion,
    decodeRequest: api.decodeRequest,
    encodeResponse: api.encodeResponse,
  };
}

export class HandlerRegistry {
  readonly #byKey = new Map<number, ApiHandler>();

  register(handler: ApiHandler): void {
    if (this.#byKey.has(handler.apiKey)) {
      throw new Error(`assertion: two handlers for api key ${handler.apiKey} (${handler.name})`);
    }
    this.#byKey.set(handler.apiKey, handler);
  }

  get(apiKey: number): ApiHandler | undefined {
    return this.#byKey.get(apiKey);
  }

  /** Served APIs in key order. */
  all(): ApiHandler[] {
    return [...this.#byKey.values()].sort((a, b) => a.apiKey - b.apiKey);
  }

  /** The APIs served on a listener of this kind, in key order. */
  servedOn(kind: ListenerKind): ApiHandler[] {
    return this.all().filter((h) => h.listeners.includes(kind));
  }
}

const HANDLER_FILE = /^(\d{3})-[a-z0-9-]+\.(js|ts)$/;

type HandlerModule = { handler?: ApiHandler };

/** Set by the single-file build (tools/build/bundle.ts): the handler modules it bundled. */
let bundledHandlerModules: readonly (readonly [file: string, mod: HandlerModule])[] | undefined;

/**
 * Called by the bundle's entry module, before the CLI runs, with every handler module the build
 * found in the handlers folder (by file name). `loadHandlers()` without a folder then registers
 * these instead of reading a folder the bundle does not have.
 */
export function provideHandlerModules(
  modules: readonly (readonly [file: string, mod: HandlerModule])[],
): void {
  bundledHandlerModules = modules;
}

/**
 * Imports every `NNN-name` module in the handlers folder and registers its `handler` export
 * (in the single-file build, the modules the build bundled from that folder).
 * A module whose file number does not match its api key is a programmer error.
 */
export async function loadHandlers(dir?: string): Promise<HandlerRegistry> {
  if (dir === undefined && bundledHandlerModules !== undefined) {
    return registerHandlerModules(bundledHandlerModules);
  }
  const folder = dir ?? path.join(path.dirname(fileURLToPath(import.meta.url)), "handlers");
  const files = (await readdir(folder)).filter((f) => HANDLER_FILE.test(f) && !f.endsWith(".d.ts")).sort();
  const modules = await Promise.all(
    files.map(
      async (file) =>
        [file, (await import(pathToFileURL(path.join(folder, file)).href)) as HandlerModule] as const,
    ),
  );
  return registerHandlerModules(modules);
}

function registerHandlerModules(
  modules: readonly (readonly [file: string, mod: HandlerModule])[],
): HandlerRegistry {
  const registry = new HandlerRegistry();
  for (const [file, mod] of modules) {
    if (mod.handler === undefined) continue;
    const key = Number(HANDLER_FILE.exec(file)?.[1]);
    if (mod.handler.apiKey !== key) {
      throw new Error(`assertion: ${file} exports a handler for api key ${mod.handler.apiKey}`);
    }
    registry.register(mod.handler);
  }
  return registry;
}
