import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  type Admin,
  Kafka,
  logLevel,
  ResourcePatternTypes,
} from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../../src/index.js";

const JAAS_PLAIN =
  'org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="admin-secret" user_alice="alice-secret" user_bob="bob-secret";';

let broker: BrokerHandle;
let admin: Admin;

function kafka(username: string): Kafka {
  return new Kafka({
    clientId: `acl-test-${username}`,
    brokers: [broker.bootstrap],
    sasl: { mechanism: "plain", username, password: `${username}-secret` },
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 5_000,
  });
}

const ALLOW = AclPermissionTypes.ALLOW;

async function allow(
  principal: string,
  resourceType: AclResourceTypes,
  resourceName: string,
  operation: AclOperationTypes,
  pattern: ResourcePatternTypes = ResourcePatternTypes.LITERAL,
  permissionType: AclPermissionTypes = ALLOW,
) {
  await admin.createAcls({
    acl: [
      {
        resourceType,
        resourceName,
        resourcePatternType: pattern,
        principal,
        host: "*",
        operation,
        permissionType,
      },
    ],
  });
}

beforeAll(async () => {
  broker = await startBroker({
    listeners: "SASL_PLAINTEXT://127.0.0.1:0",
    "listener.security.protocol.map": "SASL_PLAINTEXT:SASL_PLAINTEXT",
    "sasl.enabled.mechanisms": "PLAIN",
    "listener.name.sasl_plaintext.plain.sasl.jaas.config": JAAS_PLAIN,
    "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    "super.users": "User:admin",
    "allow.everyone.if.no.acl.found": "false",
  });
  admin = kafka("admin").admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic: "orders", numPartitions: 1 },
      { topic: "secret", numPartitions: 1 },
    ],
  });
}, 60_000);
afterAll(async () => {
  await admin?.disconnect();
  await broker?.stop();
});

describe("StandardAuthorizer on a SASL listener", () => {
  it("lets the super user manage ACLs, and describes and deletes them with filters", async () => {
    await allow(
      "User:carol",
      AclResourceTypes.TOPIC,
      "tmp-",
      AclOperationTypes.READ,
      ResourcePatternTypes.PREFIXED,
    );
    const described = await admin.describeAcls({
      resourceType: AclResourceTypes.TOPIC,
      resourceName: "tmp-x",
      resourcePatternType: ResourcePatternTypes.MATCH,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    });
    expect(described.resources).toEqual([
      {
        resourceType: AclResourceTypes.TOPIC,
        resourceName: "tmp-",
        resourcePatternType: ResourcePatternTypes.PREFIXED,
        acls: [
          { principal: "User:carol", host: "*", operation: AclOperationTypes.READ, permissionType: ALLOW },
        ],
      },
    ]);
    const deleted = await admin.deleteAcls({
      filters: [
        {
          resourceType: AclResourceTypes.ANY,
          resourcePatternType: ResourcePatternTypes.ANY,
          principal: "User:carol",
          operation: AclOperationTypes.ANY,
          permissionType: AclPermissionTypes.ANY,
        },
      ],
    });
    expect(deleted.filterResponses[0]!.matchingAcls).toHaveLength(1);
  }, 60_000);

  it("hides topics from Metadata and refuses produce and fetch without ACLs, then allows what ACLs grant", async () => {
    const alice = kafka("alice");
    const aliceAdmin = alice.admin();
    await aliceAdmin.connect();
    try {
      // No ACL: every topic is invisible to alice, and she may not describe ACLs.
      expect(await aliceAdmin.listTopics()).toEqual([]);
      await expect(
        aliceAdmin.describeAcls({
          resourceType: AclResourceTypes.ANY,
          resourcePatternType: ResourcePatternTypes.ANY,
          operation: AclOperationTypes.ANY,
          permissionType: AclPermissionTypes.ANY,
        }),
      ).rejects.toThrow(/[Cc]luster authorization|CLUSTER_AUTHORIZATION_FAILED/);
      const producer = alice.producer();
      await producer.connect();
      await expect(producer.send({ topic: "orders", messages: [{ value: "denied" }] })).rejects.toThrow(
        /authoriz/i,
      );
      await producer.disconnect();

      // WRITE on orders (idempotent producer: WRITE on a topic suffices for InitProducerId).
      await allow("User:alice", AclResourceTypes.TOPIC, "orders", AclOperationTypes.WRITE);
      expect(await aliceAdmin.listTopics()).toEqual(["orders"]);
      const idempotent = alice.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 1 } });
      await idempotent.connect();
      await idempotent.send({ topic: "orders", messages: [{ value: "granted" }] });
      await expect(idempotent.send({ topic: "secret", messages: [{ value: "denied" }] })).rejects.toThrow(
        /authoriz/i,
      );
      await idempotent.disconnect();

      // Consuming needs READ on the topic and on the group.
      await allow(
        "User:alice",
        AclResourceTypes.TOPIC,
        "ord",
        AclOperationTypes.READ,
        ResourcePatternTypes.PREFIXED,
      );
      await allow(
        "User:alice",
        AclResourceTypes.GROUP,
        "alice-",
        AclOperationTypes.READ,
        ResourcePatternTypes.PREFIXED,
      );
      const consumer = alice.consumer({ groupId: "alice-group", retry: { retries: 0 } });
      await consumer.connect();
      await consumer.subscribe({ topic: "orders", fromBeginning: true });
      const got = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no record within 30 s")), 30_000);
        void consumer.run({
          eachMessage: async ({ message }) => {
            clearTimeout(timer);
            resolve(message.value!.toString());
          },
        });
      });
      expect(got).toBe("granted");
      await consumer.disconnect();

      // A DENY wins over the prefixed ALLOW.
      await allow(
        "User:alice",
        AclResourceTypes.TOPIC,
        "orders",
        AclOperationTypes.READ,
        ResourcePatternTypes.LITERAL,
        AclPermissionTypes.DENY,
      );
      const offsets = await aliceAdmin.fetchTopicOffsets("orders").catch((err: Error) => err);
      // ListOffsets needs DESCRIBE, which the WRITE ALLOW still implies; READ is denied.
      expect(offsets).not.toBeInstanceOf(Error);
      const denied = alice.consumer({ groupId: "alice-group-2", retry: { retries: 0 } });
      await denied.connect();
      await denied.subscribe({ topic: "orders", fromBeginning: true });
      const failure = await new Promise<Error>((resolve) => {
        denied.on(denied.events.CRASH, (e) => resolve(e.payload.error));
        void denied.run({ eachMessage: async () => {} });
      });
      expect(failure.message).toMatch(/authoriz/i);
      await denied.disconnect().catch(() => {});
    } finally {
      await aliceAdmin.disconnect();
    }
  }, 90_000);

  it("refuses topic creation and group access without the grant", async () => {
    const bob = kafka("bob").admin();
    await bob.connect();
    try {
      await expect(bob.createTopics({ topics: [{ topic: "bobs" }] })).rejects.toMatchObject({
        errors: [expect.objectContaining({ type: "TOPIC_AUTHORIZATION_FAILED" })],
      });
      // CREATE, and DESCRIBE for kafkajs to see the new topic in Metadata (CREATE implies no DESCRIBE).
      await allow(
        "User:bob",
        AclResourceTypes.TOPIC,
        "bob",
        AclOperationTypes.CREATE,
        ResourcePatternTypes.PREFIXED,
      );
      await allow(
        "User:bob",
        AclResourceTypes.TOPIC,
        "bob",
        AclOperationTypes.DESCRIBE,
        ResourcePatternTypes.PREFIXED,
      );
      expect(await bob.createTopics({ topics: [{ topic: "bobs" }] })).toBe(true);
      // FindCoordinator answers GROUP_AUTHORIZATION_FAILED for a group bob may not describe.
      await expect(bob.describeGroups(["alice-group"])).rejects.toThrow(/coordinator/i);
    } finally {
      await bob.disconnect();
    }
  }, 60_000);
});
