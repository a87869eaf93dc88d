/**
 * The live fuzz on a controller listener (issue 15): mutated frames of every API a controller
 * listener serves (the quorum RPCs, ApiVersions, DescribeCluster, BrokerRegistration, the admin
 * writes...) sent to a single node's CONTROLLER listener, which answers the quorum RPCs as the
 * leader of a quorum of one. Each input is answered or its connection closed (Kafka closes a
 * connection whose request it cannot parse); the node keeps answering ApiVersions, and afterwards
 * still answers DescribeQuorum as the leader on both listeners.
 */
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../src/index.js";
import { DESCRIBE_QUORUM_API } from "../../src/protocol/generated/apis.js";
import { METADATA_TOPIC } from "../../src/raft/wire.js";
import { NodeClient } from "../../src/server/network/node-client.js";
import { SPEC_PRESENT } from "../protocol/generated/schema-arbitraries.js";
import { fuzzLiveBroker } from "./fuzz-live-loop.js";

const MiB = 1024 * 1024;

describe.runIf(SPEC_PRESENT)("controller listener fuzz", () => {
  let broker: BrokerHandle;

  beforeAll(async () => {
    broker = await startBroker({
      listeners: "PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0",
      "controller.listener.names": "CONTROLLER",
      "auto.create.topics.enable": false,
      "socket.request.max.bytes": 1 << 20,
    });
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it("answers or closes every mutated frame and keeps serving the quorum's answers", async () => {
    const report = await fuzzLiveBroker(broker, {
      seed: 20261215,
      inputsMax: 1_500,
      timeLimitMs: 60_000,
      answerTimeoutMs: 2_000,
      listener: "controller",
    });
    expect(report.failure).toBeUndefined();
    expect(report.targets).toBeGreaterThan(30);
    expect(report.inputs).toBeGreaterThan(300);
    expect(report.answered).toBeGreaterThan(0);
    expect(report.closed).toBeGreaterThan(0);
    expect(report.rssPeakBytes - report.rssStartBytes).toBeLessThan(512 * MiB);

    const controllerPort = broker.broker.boundListeners.find((l) => l.spec.name === "CONTROLLER")!.port;
    for (const port of [controllerPort, broker.port]) {
      const c = new NodeClient({
        endpoint: { host: "127.0.0.1", port },
        clientId: "after-fuzz",
        logger: pino({ level: "silent" }),
      });
      try {
        const res = await c.request(DESCRIBE_QUORUM_API, {
          topics: [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: 0 }] }],
        });
        expect(res.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, leaderId: 1 });
      } finally {
        c.close();
      }
    }
  }, 120_000);
});
