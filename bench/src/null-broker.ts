// The load generators' ceiling: a Kafka-protocol endpoint that acknowledges every produce request
// without storing anything (no CRC check, no record decoding, no disk; only the batch headers are
// read, to count records and refuse broken framing with CORRUPT_MESSAGE), so kafka-producer-perf-test
// run against it measures what the load generators themselves can send on this machine. No broker
// can be faster than this, so a workload where both brokers come close to it cannot tell them apart.
//
//   tsx null-broker.ts PORT NAME:PARTITIONS [NAME:PARTITIONS ...]
//
// Serves ApiVersions, Metadata (the topics given, led by this node), InitProducerId (idempotent
// producers: acks=all) and Produce, with Krill's own socket server, dispatcher and generated codecs,
// so framing and request parsing cost what they cost in Krill. Prints "READY PORT" once listening;
// stops on SIGTERM or SIGINT. Any other API closes the connection (the dispatcher's rule). It
// serves the Java and kafkajs producers the benchmark uses; librdkafka (kcat) chooses the v0
// message format when a broker offers no Fetch, and gets CORRUPT_MESSAGE here.
import { pino } from "pino";
import { checkBatchHeader } from "../../src/log/batch-scan.js";
import {
  API_VERSIONS_API,
  INIT_PRODUCER_ID_API,
  METADATA_API,
  PRODUCE_API,
} from "../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../src/protocol/generated/error-codes.js";
import type { MetadataResponseTopic } from "../../src/protocol/generated/metadata-response.js";
import type { ProduceResponse } from "../../src/protocol/generated/produce-response.js";
import { uuidFromBytes, ZERO_UUID } from "../../src/protocol/primitives/uuid.js";
import { BATCH_HEADER_SIZE, LAST_OFFSET_DELTA_OFFSET } from "../../src/protocol/records/batch-header.js";
import { Dispatcher } from "../../src/server/dispatcher.js";
import { AUTHORIZED_OPERATIONS_OMITTED } from "../../src/server/handlers/003-metadata.js";
import { SocketServer } from "../../src/server/network/socket-server.js";
import { type ApiHandler, defineHandler, HandlerRegistry, NO_RESPONSE } from "../../src/server/registry.js";
import type { BrokerContext } from "../../src/server/services.js";

const NODE_ID = 1;
const TOPICS_MAX = 256;
const PARTITIONS_MAX = 1024;
const FRAME_BYTES_MAX = 100 * 1024 * 1024;

function usage(): never {
  console.error("usage: null-broker.ts PORT NAME:PARTITIONS [NAME:PARTITIONS ...]");
  process.exit(2);
}

interface SinkTopic {
  readonly id: string;
  /** Next offset per partition: acknowledged offsets grow as a broker's would. */
  readonly nextOffset: bigint[];
}

/**
 * Records in `records` (one or more whole v2 batches), read from the batch headers only, with the
 * framing checked as the log checks it (checkBatchHeader); a string says why the framing is bad.
 */
export function recordCount(records: Buffer | null): number | string {
  if (records === null || records.length === 0) return "no record batches";
  let count = 0;
  for (let pos = 0; pos < records.length; ) {
    const remaining = records.length - pos;
    if (remaining < BATCH_HEADER_SIZE) return `${remaining} trailing bytes are not a record batch`;
    const size = checkBatchHeader(records, pos, remaining);
    if (typeof size === "string") return `record batch at byte ${pos}: ${size}`;
    count += records.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET) + 1;
    pos += size;
  }
  return count;
}

function sinkRegistry(topics: Map<string, SinkTopic>, port: () => number): HandlerRegistry {
  let nextProducerId = 1000n;
  const registry = new HandlerRegistry();
  const topicNames = new Map([...topics].map(([name, t]) => [t.id, name]));
  const metadataTopic = (name: string): MetadataResponseTopic => {
    const t = topics.get(name);
    return {
      errorCode: t ? ErrorCode.NONE : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      name,
      topicId: t?.id ?? ZERO_UUID,
      isInternal: false,
      partitions: (t?.nextOffset ?? []).map((_, i) => ({
        errorCode: ErrorCode.NONE,
        partitionIndex: i,
        leaderId: NODE_ID,
        leaderEpoch: 0,
        replicaNodes: [NODE_ID],
        isrNodes: [NODE_ID],
        offlineReplicas: [],
      })),
      topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    };
  };
  const handlers: ApiHandler[] = [
    defineHandler({
      api: API_VERSIONS_API,
      minVersion: 0,
      maxVersion: 4,
      ordering: "concurrent",
      handle: () => ({
        errorCode: ErrorCode.NONE,
        apiKeys: registry
          .all()
          .map((h) => ({ apiKey: h.apiKey, minVersion: h.advertisedMinVersion, maxVersion: h.maxVersion })),
        throttleTimeMs: 0,
        supportedFeatures: [],
        finalizedFeaturesEpoch: -1n,
        finalizedFeatures: [],
        zkMigrationReady: false,
      }),
    }) as ApiHandler,
    defineHandler({
      api: METADATA_API,
      minVersion: 0,
      maxVersion: 13,
      ordering: "concurrent",
      handle: (_ctx, request) => ({
        throttleTimeMs: 0,
        errorCode: 0,
        brokers: [{ nodeId: NODE_ID, host: "127.0.0.1", port: port(), rack: null }],
        clusterId: "krill-bench-null-sink",
        controllerId: NODE_ID,
        topics: (request.topics?.map((t) => t.name ?? "") ?? [...topics.keys()]).map(metadataTopic),
        clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
      }),
    }) as ApiHandler,
    defineHandler({
      api: INIT_PRODUCER_ID_API,
      minVersion: 0,
      maxVersion: 5,
      ordering: "concurrent",
      handle: () => ({
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        producerId: nextProducerId++,
        producerEpoch: 0,
        ongoingTxnProducerId: -1n,
        ongoingTxnProducerEpoch: -1,
      }),
    }) as ApiHandler,
    defineHandler({
      api: PRODUCE_API,
      // As Krill's Produce handler: served from v3, advertised from v0 (KAFKA-18659), v13 by topic id.
      minVersion: 3,
      advertisedMinVersion: 0,
      maxVersion: 13,
      ordering: "serial",
      handle: (ctx, request) => {
        const response: ProduceResponse = {
          responses: request.topicData.map((td) => ({
            name: td.name,
            topicId: td.topicId,
            partitionResponses: td.partitionData.map((pd) => {
              const name = ctx.apiVersion >= 13 ? (topicNames.get(td.topicId) ?? "") : td.name;
              const offsets = topics.get(name)?.nextOffset;
              const known = offsets !== undefined && pd.index >= 0 && pd.index < offsets.length;
              const count = known ? recordCount(pd.records) : "unknown topic or partition";
              const failure = (errorCode: number, errorMessage: string) => ({
                index: pd.index,
                errorCode,
                baseOffset: -1n,
                logAppendTimeMs: -1n,
                logStartOffset: -1n,
                recordErrors: [],
                errorMessage,
                currentLeader: { leaderId: -1, leaderEpoch: -1 },
              });
              if (name === "") return failure(ErrorCode.UNKNOWN_TOPIC_ID, "unknown topic id");
              if (!known) return failure(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, count as string);
              if (typeof count === "string") return failure(ErrorCode.CORRUPT_MESSAGE, count);
              const baseOffset = offsets[pd.index]!;
              offsets[pd.index] = baseOffset + BigInt(count);
              return {
                index: pd.index,
                errorCode: ErrorCode.NONE,
                baseOffset,
                logAppendTimeMs: -1n,
                logStartOffset: 0n,
                recordErrors: [],
                errorMessage: null,
                currentLeader: { leaderId: -1, leaderEpoch: -1 },
              };
            }),
          })),
          throttleTimeMs: 0,
          nodeEndpoints: [],
        };
        return request.acks === 0 ? NO_RESPONSE : response;
      },
    }) as ApiHandler,
  ];
  for (const h of handlers) registry.register(h);
  return registry;
}

/**
 * Listens on 127.0.0.1:`port` (0 for any free port) with Krill's socket server and dispatcher,
 * serving `topics`; resolves with the server and the port bound.
 */
export async function listenNullSink(
  topics: Map<string, SinkTopic>,
  port: number,
): Promise<{ server: SocketServer; port: number }> {
  const logger = pino({ name: "null-broker", level: "warn" });
  let bound = port;
  const registry = sinkRegistry(topics, () => bound);
  // The handlers above use nothing of the broker: the dispatcher only passes it through, and
  // reads which listeners are the controller's (none here).
  const context = {
    registry,
    logger,
    nodeId: NODE_ID,
    config: { controllerListenerNames: new Set<string>() },
  } as unknown as BrokerContext;
  const server = new SocketServer({
    listeners: [{ name: "PLAINTEXT", securityProtocol: "PLAINTEXT", host: "127.0.0.1", port }],
    limits: {
      frameBytesMax: FRAME_BYTES_MAX,
      inFlightRequestsMax: 500,
      queuedResponseBytesMax: 100 * 1024 * 1024,
      idleMs: -1,
    },
    connectionsMax: () => 1000,
    processor: new Dispatcher(registry, context),
    logger,
  });
  const [listener] = await server.start();
  bound = listener!.port;
  return { server, port: bound };
}

/** Topics from NAME:PARTITIONS specs, or undefined when a spec is malformed. */
export function sinkTopics(specs: readonly string[]): Map<string, SinkTopic> | undefined {
  const topics = new Map<string, SinkTopic>();
  for (const spec of specs) {
    const m = /^([A-Za-z0-9._-]{1,249}):([1-9]\d{0,3})$/.exec(spec);
    if (!m || Number(m[2]) > PARTITIONS_MAX) return undefined;
    const id = Buffer.alloc(16);
    id.writeUInt32BE(topics.size + 2, 12);
    topics.set(m[1]!, {
      id: uuidFromBytes(id, 0),
      nextOffset: Array.from({ length: Number(m[2]) }, () => 0n),
    });
  }
  return topics;
}

async function main(): Promise<void> {
  const [portArg, ...specs] = process.argv.slice(2);
  const port = Number(portArg);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || specs.length === 0 || specs.length > TOPICS_MAX)
    usage();
  const topics = sinkTopics(specs) ?? usage();
  const { server, port: bound } = await listenNullSink(topics, port);
  console.log(`READY ${bound}`);
  const stop = () => void server.stop(1000).then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
