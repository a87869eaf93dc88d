import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  Kafka,
  logLevel,
  ResourcePatternTypes,
} from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../../src/index.js";

let broker: BrokerHandle;
beforeAll(async () => {
  broker = await startBroker({ listeners: "PLAINTEXT://127.0.0.1:0" });
}, 60_000);
afterAll(async () => broker?.stop());

describe("ACL APIs without an authorizer", () => {
  it("answer SECURITY_DISABLED, as Kafka without authorizer.class.name", async () => {
    const admin = new Kafka({
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    }).admin();
    await admin.connect();
    try {
      await expect(
        admin.describeAcls({
          resourceType: AclResourceTypes.ANY,
          resourcePatternType: ResourcePatternTypes.ANY,
          operation: AclOperationTypes.ANY,
          permissionType: AclPermissionTypes.ANY,
        }),
      ).rejects.toThrow(/Security features are disabled|SECURITY_DISABLED|No Authorizer/);
    } finally {
      await admin.disconnect();
    }
  });
});
