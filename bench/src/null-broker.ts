// The load generators' ceiling: a Kafka-protocol endpoint that acknowledges every produce request
// without storing anything (no validation, no CRC check, no disk), so kafka-producer-perf-test run
// against it measures what the load generators themselves can send on this machine. No broker can
// be faster than this, so a workload where both brokers come close to it cannot tell them apart.
//
//   tsx null-broker.ts PORT NAME:PARTITIONS [NAME:PARTITIONS ...]
//
// Serves ApiVersions, Metadata (the topics given, led by this node), InitProducerId (idempotent
// producers: acks=all) and Produce, with Krill's own socket server, dispatcher and generated codecs,
// so framing and request parsing cost what they cost in Krill. Prints "READY PORT" once listening;
// stops on SIGTERM or SIGINT. Any other API closes the connection (the dispatcher's rule).
import { pino } from "pino";
import {
  API_VERSIONS_API,
  INIT_PRODUCER_ID_API,
  METADATA_API,
  PRODUCE_API,
} from "../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../src/protocol/generated/error-codes.js";
import type { MetadataResponseTopic } from "../../src/protocol/generated/metadata-response.js";
import type { ProduceResponse } from "../../src/protocol/generated/produce-response.js";
import { uuidFromBytes } from "../../src/protocol/primitives/uuid.js";
import { Dispatcher } from "../../src/server/dispatcher.js";
import { SocketServer } from "../../src/server/network/socket-server.js";
import { type ApiHandler, defineHandler, HandlerRegistry, NO_RESPONSE } from "../../src/server/registry.js";
import type { BrokerContext } from "../../src/server/services.js";

const NODE_ID = 1;
const TOPICS_MAX = 256;
const PARTITIONS_MAX = 1024;
const FRAME_BYTES_MAX = 100 * 1024 * 1024;
const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;
/** Record batch v2 header: batchLength at 8, lastOffsetDelta at 23, header size 61. */
const BATCH_LENGTH_OFFSET = 8;
const LAST_OFFSET_DELTA_OFFSET = 23;
const BATCH_HEADER_BYTES = 61;
const LOG_OVERHEAD = 12;

function usage(): never {
  console.error("usage: null-broker.ts PORT NAME:PARTITIONS [NAME:PARTITIONS ...]");
  process.exit(2);
}

interface SinkTopic {
  readonly id: string;
  /** Next offset per partition: acknowledged offsets grow as a broker's would. */
  readonly nextOffset: bigint[];
}

/** Records in `records` (one or more v2 batches), from the batch headers only. */
export function recordCount(records: Buffer | null): number {
  let count = 0;
  let pos = 0;
  while (records !== null && pos + BATCH_HEADER_BYTES <= records.length) {
    count += records.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET) + 1;
    pos += LOG_OVERHEAD + records.readInt32BE(pos + BATCH_LENGTH_OFFSET);
  }
  return count;
}

export function sinkRegistry(topics: Map<string, SinkTopic>, port: () => number): HandlerRegistry {
  let nextProducerId = 1000n;
  const registry = new HandlerRegistry();
  const metadataTopic = (name: string): MetadataResponseTopic => {
    const t = topics.get(name);
    return {
      errorCode: t ? ErrorCode.NONE : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      name,
      topicId: t?.id ?? "AAAAAAAAAAAAAAAAAAAAAA",
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
          .map((h) => ({ apiKey: h.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion })),
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
      maxVersion: 12,
      ordering: "concurrent",
      handle: (_ctx, request) => ({
        throttleTimeMs: 0,
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
      }),
    }) as ApiHandler,
    defineHandler({
      api: PRODUCE_API,
      minVersion: 3,
      maxVersion: 11,
      ordering: "serial",
      handle: (_ctx, request) => {
        const response: ProduceResponse = {
          responses: request.topicData.map((td) => ({
            name: td.name,
            partitionResponses: td.partitionData.map((pd) => {
              const offsets = topics.get(td.name)?.nextOffset;
              const known = offsets !== undefined && pd.index >= 0 && pd.index < offsets.length;
              const baseOffset = known ? offsets[pd.index]! : -1n;
              if (known) offsets[pd.index] = baseOffset + BigInt(recordCount(pd.records));
              return {
                index: pd.index,
                errorCode: known ? ErrorCode.NONE : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                baseOffset,
                logAppendTimeMs: -1n,
                logStartOffset: known ? 0n : -1n,
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

async function main(): Promise<void> {
  const [portArg, ...specs] = process.argv.slice(2);
  const port = Number(portArg);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || specs.length === 0 || specs.length > TOPICS_MAX)
    usage();
  const topics = new Map<string, SinkTopic>();
  for (const spec of specs) {
    const m = /^([A-Za-z0-9._-]{1,249}):([1-9]\d{0,3})$/.exec(spec);
    if (!m || Number(m[2]) > PARTITIONS_MAX) usage();
    const id = Buffer.alloc(16);
    id.writeUInt32BE(topics.size + 2, 12);
    topics.set(m[1]!, {
      id: uuidFromBytes(id, 0),
      nextOffset: Array.from({ length: Number(m[2]) }, () => 0n),
    });
  }
  const logger = pino({ name: "null-broker", level: "warn" });
  let bound = port;
  const registry = sinkRegistry(topics, () => bound);
  // The handlers above use nothing of the broker: the dispatcher only passes it through.
  const context = { registry, logger, nodeId: NODE_ID } as unknown as BrokerContext;
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
  console.log(`READY ${bound}`);
  const stop = () => void server.stop(1000).then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
