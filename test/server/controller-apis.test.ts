/**
 * Admin writes by listener: a request on a controller listener runs on this node's controller
 * only while it is active (else NOT_CONTROLLER for every item, as Kafka's ControllerApis answers),
 * and one on a broker listener goes through the controller channel.
 */
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KrillError } from "../../src/errors.js";
import { type BrokerHandle, startBroker } from "../../src/index.js";
import type { MetadataController } from "../../src/metadata/controller.js";
import type { ControllerChannel } from "../../src/metadata/controller-channel.js";
import {
  ALTER_CONFIGS_API,
  API_VERSIONS_API,
  type ApiDescriptor,
  CREATE_PARTITIONS_API,
  CREATE_TOPICS_API,
  DELETE_TOPICS_API,
  DESCRIBE_CLUSTER_API,
  INCREMENTAL_ALTER_CONFIGS_API,
} from "../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../src/protocol/generated/error-codes.js";
import { ZERO_UUID } from "../../src/protocol/primitives/uuid.js";
import type { ConnectionInfo } from "../../src/server/network/connection.js";
import type { RequestContext } from "../../src/server/registry.js";
import type { BrokerContext } from "../../src/server/services.js";

let handle: BrokerHandle;
const logger = pino({ level: "silent" });

beforeAll(async () => {
  handle = await startBroker({
    "controller.listener.names": "CONTROLLER",
    "controller.quorum.voters": "1@127.0.0.1:19093",
    "num.partitions": 1,
  });
});

afterAll(async () => {
  await handle?.stop();
});

function connection(listenerName: string): ConnectionInfo {
  return { id: 1, listenerName, remoteAddress: "127.0.0.1", remotePort: 1, logger };
}

/** Runs one handler as the dispatcher would, on `listenerName`, with `broker` as the node. */
async function run<Req, Res>(
  api: ApiDescriptor<Req, Res>,
  version: number,
  request: Req,
  listenerName: string,
  broker: BrokerContext = handle.broker.context,
): Promise<Res> {
  const handler = broker.registry.get(api.apiKey)!;
  const ctx: RequestContext = {
    apiKey: api.apiKey,
    apiVersion: version,
    correlationId: 1,
    clientId: "test",
    connection: connection(listenerName),
    broker,
    logger,
  };
  return (await handler.handle(ctx, request)) as Res;
}

/** The node with its controller inactive (a follower of the quorum). */
function inactive(): BrokerContext {
  return { ...handle.broker.context, config: handle.broker.context.config, activeController: () => null };
}

const apiVersionsRequest = {
  clientSoftwareName: "test",
  clientSoftwareVersion: "1",
  clusterId: null,
  nodeId: -1,
};

const createTopic = (name: string) => ({
  topics: [{ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
  timeoutMs: 5000,
  validateOnly: false,
});

describe("admin writes on a controller listener", () => {
  it("run on the active controller", async () => {
    const res = await run(CREATE_TOPICS_API, 7, createTopic("ctl-a"), "CONTROLLER");
    expect(res.topics[0]).toMatchObject({ name: "ctl-a", errorCode: ErrorCode.NONE, numPartitions: 1 });
    expect(handle.broker.context.image().topicsByName.has("ctl-a")).toBe(true);
    const parts = await run(
      CREATE_PARTITIONS_API,
      3,
      { topics: [{ name: "ctl-a", count: 2, assignments: null }], timeoutMs: 5000, validateOnly: false },
      "CONTROLLER",
    );
    expect(parts.results).toEqual([{ name: "ctl-a", errorCode: ErrorCode.NONE, errorMessage: null }]);
    const del = await run(
      DELETE_TOPICS_API,
      6,
      { topics: [{ name: "ctl-a", topicId: ZERO_UUID }], topicNames: [], timeoutMs: 5000 },
      "CONTROLLER",
    );
    expect(del.responses[0]).toMatchObject({ name: "ctl-a", errorCode: ErrorCode.NONE });
  });

  it("are answered NOT_CONTROLLER item by item when this node's controller is not active", async () => {
    const broker = inactive();
    const created = await run(CREATE_TOPICS_API, 7, createTopic("ctl-b"), "CONTROLLER", broker);
    expect(created.topics).toEqual([
      expect.objectContaining({
        name: "ctl-b",
        errorCode: ErrorCode.NOT_CONTROLLER,
        topicId: ZERO_UUID,
        numPartitions: -1,
        replicationFactor: -1,
      }),
    ]);
    const deleted = await run(
      DELETE_TOPICS_API,
      6,
      { topics: [{ name: "x", topicId: ZERO_UUID }], topicNames: [], timeoutMs: 5000 },
      "CONTROLLER",
      broker,
    );
    expect(deleted.responses).toEqual([
      expect.objectContaining({ name: "x", errorCode: ErrorCode.NOT_CONTROLLER }),
    ]);
    const parts = await run(
      CREATE_PARTITIONS_API,
      3,
      { topics: [{ name: "x", count: 2, assignments: null }], timeoutMs: 5000, validateOnly: false },
      "CONTROLLER",
      broker,
    );
    expect(parts.results[0]).toMatchObject({ name: "x", errorCode: ErrorCode.NOT_CONTROLLER });
    const incremental = await run(
      INCREMENTAL_ALTER_CONFIGS_API,
      1,
      {
        resources: [
          {
            resourceType: 2,
            resourceName: "x",
            configs: [{ name: "retention.ms", configOperation: 0, value: "1" }],
          },
          { resourceType: 4, resourceName: "", configs: [] },
        ],
        validateOnly: false,
      },
      "CONTROLLER",
      broker,
    );
    expect(incremental.responses.map((r) => [r.resourceType, r.resourceName, r.errorCode])).toEqual([
      [2, "x", ErrorCode.NOT_CONTROLLER],
      [4, "", ErrorCode.NOT_CONTROLLER],
    ]);
    const legacy = await run(
      ALTER_CONFIGS_API,
      2,
      { resources: [{ resourceType: 2, resourceName: "x", configs: [] }], validateOnly: false },
      "CONTROLLER",
      broker,
    );
    expect(legacy.responses[0]).toMatchObject({ errorCode: ErrorCode.NOT_CONTROLLER });
    expect(handle.broker.context.image().topicsByName.has("ctl-b")).toBe(false);
  });

  it("answers NOT_CONTROLLER when leadership moves while the write waits for its commit", async () => {
    const lost = {
      createTopics: () => Promise.reject(new KrillError("NOT_CONTROLLER", "leadership moved")),
    } as unknown as MetadataController;
    const broker = { ...inactive(), activeController: () => lost };
    const res = await run(CREATE_TOPICS_API, 7, createTopic("ctl-c"), "CONTROLLER", broker);
    expect(res.topics[0]).toMatchObject({
      errorCode: ErrorCode.NOT_CONTROLLER,
      errorMessage: "leadership moved",
    });
  });

  it("on a broker listener go through the controller channel, whatever the local controller", async () => {
    const seen: string[] = [];
    const channel = {
      createTopics: async (requests: { name: string }[]) => {
        seen.push(...requests.map((r) => r.name));
        return requests.map((r) => ({
          name: r.name,
          topicId: ZERO_UUID,
          errorCode: ErrorCode.REQUEST_TIMED_OUT,
          errorMessage: "forwarded",
          numPartitions: -1,
          replicationFactor: -1,
        }));
      },
    } as unknown as ControllerChannel;
    const broker = { ...inactive(), controller: channel };
    const res = await run(CREATE_TOPICS_API, 7, createTopic("ctl-d"), "PLAINTEXT", broker);
    expect(seen).toEqual(["ctl-d"]);
    expect(res.topics[0]).toMatchObject({
      errorCode: ErrorCode.REQUEST_TIMED_OUT,
      errorMessage: "forwarded",
    });
  });

  it("ApiVersions lists per kind of listener: controller-only APIs on the controller one, never Produce", async () => {
    const onController = await run(API_VERSIONS_API, 3, apiVersionsRequest, "CONTROLLER");
    const keys = onController.apiKeys.map((k) => k.apiKey);
    expect(keys).toEqual(expect.arrayContaining([18, 19, 20, 33, 37, 44, 60, 62, 67]));
    expect(keys).not.toContain(0);
    expect(keys).not.toContain(3);
    const onBroker = await run(API_VERSIONS_API, 3, apiVersionsRequest, "PLAINTEXT");
    const brokerKeys = onBroker.apiKeys.map((k) => k.apiKey);
    expect(brokerKeys).toEqual(expect.arrayContaining([0, 3, 19]));
    expect(brokerKeys).not.toContain(62);
    expect(brokerKeys).not.toContain(67);
  });

  it("DescribeCluster on a controller listener lists the controllers and the active one (--bootstrap-controller)", async () => {
    const req = { includeClusterAuthorizedOperations: false, endpointType: 2, includeFencedBrokers: false };
    const res = await run(DESCRIBE_CLUSTER_API, 1, req, "CONTROLLER");
    expect(res).toMatchObject({
      errorCode: ErrorCode.NONE,
      endpointType: 2,
      controllerId: 1,
      clusterId: handle.broker.context.clusterId,
      brokers: [{ brokerId: 1, host: "127.0.0.1", port: 19093, rack: null, isFenced: false }],
    });
    const none = await run(DESCRIBE_CLUSTER_API, 1, req, "CONTROLLER", {
      ...inactive(),
      activeControllerId: () => -1,
    });
    expect(none.controllerId).toBe(-1);
    const asBroker = await run(DESCRIBE_CLUSTER_API, 1, { ...req, endpointType: 1 }, "CONTROLLER");
    expect(asBroker).toMatchObject({
      errorCode: ErrorCode.MISMATCHED_ENDPOINT_TYPE,
      errorMessage:
        "The request was sent to an endpoint of type CONTROLLER, but we wanted an endpoint of type BROKER",
    });
    const v0 = await run(DESCRIBE_CLUSTER_API, 0, { ...req, endpointType: 1 }, "CONTROLLER");
    expect(v0.errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it("never create __cluster_metadata", async () => {
    const res = await run(CREATE_TOPICS_API, 7, createTopic("__cluster_metadata"), "PLAINTEXT");
    expect(res.topics).toEqual([
      expect.objectContaining({ name: "__cluster_metadata", errorCode: ErrorCode.INVALID_REQUEST }),
    ]);
  });
});
