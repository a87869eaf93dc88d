import pino from "pino";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../src/clock.js";
import { authorizerSettings } from "../../../src/config/authorizer-settings.js";
import { isKrillError } from "../../../src/errors.js";
import {
  type AclBinding,
  AclPermission,
  createAclRecords,
  deleteAclRecords,
  describeAcls,
  AclOperation as Op,
  PatternType,
  ResourceType,
} from "../../../src/metadata/acls.js";
import { MetadataImage } from "../../../src/metadata/image.js";
import { SeededRandom } from "../../../src/random.js";
import { StandardAuthorizer } from "../../../src/server/authorizer.js";

const logger = pino({ level: "silent" });

function acl(partial: Partial<AclBinding>): AclBinding {
  return {
    resourceType: ResourceType.TOPIC,
    resourceName: "orders",
    patternType: PatternType.LITERAL,
    principal: "User:alice",
    host: "*",
    operation: Op.READ,
    permissionType: AclPermission.ALLOW,
    ...partial,
  };
}

function imageWith(bindings: AclBinding[]): MetadataImage {
  const { records, results } = createAclRecords(MetadataImage.EMPTY, bindings, new SeededRandom(1));
  expect(results.every((r) => r.errorCode === 0)).toBe(true);
  return MetadataImage.EMPTY.apply(records, 1);
}

function authorizer(bindings: AclBinding[], options: { superUsers?: string[]; allowIfNoAcl?: boolean } = {}) {
  const image = imageWith(bindings);
  return new StandardAuthorizer(
    { superUsers: new Set(options.superUsers ?? []), allowIfNoAcl: options.allowIfNoAcl ?? false },
    () => image,
    logger,
    new ManualClock(0),
  );
}

const alice = { principal: "User:alice", host: "10.0.0.1", apiName: "Fetch" };
const bob = { principal: "User:bob", host: "10.0.0.2", apiName: "Fetch" };

describe("StandardAuthorizer", () => {
  it("allows what a matching ALLOW grants and denies the rest by default", () => {
    const a = authorizer([acl({})]);
    expect(a.authorize(alice, Op.READ, ResourceType.TOPIC, "orders")).toBe(true);
    expect(a.authorize(alice, Op.WRITE, ResourceType.TOPIC, "orders")).toBe(false);
    expect(a.authorize(bob, Op.READ, ResourceType.TOPIC, "orders")).toBe(false);
    expect(a.authorize(alice, Op.READ, ResourceType.TOPIC, "other")).toBe(false);
  });

  it("implies DESCRIBE from READ/WRITE/DELETE/ALTER and DESCRIBE_CONFIGS from ALTER_CONFIGS, for ALLOW only", () => {
    for (const op of [Op.READ, Op.WRITE, Op.DELETE, Op.ALTER]) {
      expect(
        authorizer([acl({ operation: op })]).authorize(alice, Op.DESCRIBE, ResourceType.TOPIC, "orders"),
      ).toBe(true);
    }
    expect(
      authorizer([acl({ operation: Op.CREATE })]).authorize(alice, Op.DESCRIBE, ResourceType.TOPIC, "orders"),
    ).toBe(false);
    expect(
      authorizer([acl({ operation: Op.ALTER_CONFIGS })]).authorize(
        alice,
        Op.DESCRIBE_CONFIGS,
        ResourceType.TOPIC,
        "orders",
      ),
    ).toBe(true);
    // A DENY on READ does not deny DESCRIBE.
    const a = authorizer([acl({ operation: Op.ALL }), acl({ permissionType: AclPermission.DENY })]);
    expect(a.authorize(alice, Op.DESCRIBE, ResourceType.TOPIC, "orders")).toBe(true);
    expect(a.authorize(alice, Op.READ, ResourceType.TOPIC, "orders")).toBe(false);
  });

  it("matches prefixed and wildcard patterns, User:* and hosts; DENY wins", () => {
    const a = authorizer([
      acl({ resourceName: "ord", patternType: PatternType.PREFIXED }),
      acl({ resourceName: "*", principal: "User:*", operation: Op.DESCRIBE }),
      acl({ resourceName: "ordersecret", permissionType: AclPermission.DENY }),
      acl({ resourceName: "hosted", host: "10.0.0.2", principal: "User:bob" }),
    ]);
    expect(a.authorize(alice, Op.READ, ResourceType.TOPIC, "orders")).toBe(true);
    expect(a.authorize(alice, Op.READ, ResourceType.TOPIC, "ordersecret")).toBe(false);
    expect(a.authorize(alice, Op.READ, ResourceType.TOPIC, "or")).toBe(false);
    expect(a.authorize(bob, Op.DESCRIBE, ResourceType.TOPIC, "anything")).toBe(true);
    expect(a.authorize(bob, Op.READ, ResourceType.TOPIC, "hosted")).toBe(true);
    expect(a.authorize({ ...bob, host: "10.0.0.3" }, Op.READ, ResourceType.TOPIC, "hosted")).toBe(false);
    // A literal name that only starts the resource's name does not apply.
    expect(
      authorizer([acl({ resourceName: "ord" })]).authorize(alice, Op.READ, ResourceType.TOPIC, "orders"),
    ).toBe(false);
  });

  it("super users may do anything; allow.everyone.if.no.acl.found applies only where no ACL does", () => {
    const a = authorizer([acl({ permissionType: AclPermission.DENY, operation: Op.ALL })], {
      superUsers: ["User:admin"],
      allowIfNoAcl: true,
    });
    expect(a.authorize({ ...alice, principal: "User:admin" }, Op.READ, ResourceType.TOPIC, "orders")).toBe(
      true,
    );
    expect(a.authorize(alice, Op.READ, ResourceType.TOPIC, "orders")).toBe(false);
    expect(a.authorize(alice, Op.READ, ResourceType.TOPIC, "free")).toBe(true);
    // An ACL for someone else on the resource: no default allow for alice.
    const b = authorizer([acl({ principal: "User:bob" })], { allowIfNoAcl: true });
    expect(b.authorize(alice, Op.READ, ResourceType.TOPIC, "orders")).toBe(false);
  });

  it("reports authorized operations as Kafka's bit field", () => {
    const a = authorizer([acl({ operation: Op.WRITE })]);
    const bits = a.authorizedOperations(alice, ResourceType.TOPIC, "orders");
    expect(bits).toBe((1 << Op.WRITE) | (1 << Op.DESCRIBE));
  });

  it("authorizes by resource type as Kafka's default authorizeByResourceType", () => {
    expect(
      authorizer([acl({ operation: Op.WRITE })]).authorizeByResourceType(alice, Op.WRITE, ResourceType.TOPIC),
    ).toBe(true);
    expect(
      authorizer([acl({ operation: Op.READ })]).authorizeByResourceType(alice, Op.WRITE, ResourceType.TOPIC),
    ).toBe(false);
    const dominated = authorizer([
      acl({ operation: Op.WRITE, resourceName: "orders-eu" }),
      acl({
        operation: Op.WRITE,
        resourceName: "orders",
        patternType: PatternType.PREFIXED,
        permissionType: AclPermission.DENY,
      }),
    ]);
    expect(dominated.authorizeByResourceType(alice, Op.WRITE, ResourceType.TOPIC)).toBe(false);
  });
});

describe("ACL records (AclControlManager)", () => {
  it("validates bindings with Kafka's messages and skips duplicates", () => {
    const image = imageWith([acl({})]);
    const { records, results } = createAclRecords(
      image,
      [
        acl({}),
        acl({ resourceType: ResourceType.CLUSTER, resourceName: "c" }),
        acl({ resourceName: "" }),
        acl({ patternType: PatternType.MATCH }),
        acl({ operation: Op.ANY }),
        acl({ principal: "alice" }),
        acl({ resourceName: "new" }),
      ],
      new SeededRandom(2),
    );
    expect(results.map((r) => r.errorMessage)).toEqual([
      null,
      "The only valid name for the CLUSTER resource is kafka-cluster",
      "Invalid empty resource name",
      "Invalid patternType MATCH",
      "Invalid operation ANY",
      "expected a string in format principalType:principalName but got alice",
      null,
    ]);
    expect(records).toHaveLength(1);
  });

  it("describes and deletes by filter, MATCH finding the bindings that apply to a name", () => {
    const image = imageWith([
      acl({}),
      acl({ resourceName: "ord", patternType: PatternType.PREFIXED }),
      acl({ resourceName: "*" }),
      acl({ resourceType: ResourceType.GROUP, resourceName: "g" }),
    ]);
    const any = {
      resourceType: ResourceType.ANY,
      resourceName: null,
      patternType: PatternType.ANY,
      principal: null,
      host: null,
      operation: Op.ANY,
      permissionType: AclPermission.ANY,
    };
    expect(describeAcls(image, any)).toHaveLength(4);
    const match = {
      ...any,
      resourceType: ResourceType.TOPIC,
      resourceName: "orders",
      patternType: PatternType.MATCH,
    };
    expect(
      describeAcls(image, match)
        .map((r) => r.resourceName)
        .sort(),
    ).toEqual(["*", "ord", "orders"]);
    const { records, results } = deleteAclRecords(image, [
      match,
      { ...any, resourceType: ResourceType.TOPIC },
    ]);
    expect(results.map((r) => r.matching.length)).toEqual([3, 3]);
    expect(records).toHaveLength(3);
    const after = image.apply(records, 2);
    expect(describeAcls(after, any).map((r) => r.resourceName)).toEqual(["g"]);
  });
});

describe("authorizer settings", () => {
  it("reads the StandardAuthorizer's keys and refuses another authorizer", () => {
    expect(authorizerSettings(new Map())).toBeUndefined();
    const s = authorizerSettings(
      new Map([
        ["authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer"],
        ["super.users", "User:admin; User:ANONYMOUS"],
        ["allow.everyone.if.no.acl.found", "true"],
      ]),
    );
    expect(s).toEqual({ superUsers: new Set(["User:admin", "User:ANONYMOUS"]), allowIfNoAcl: true });
    try {
      authorizerSettings(new Map([["authorizer.class.name", "kafka.security.authorizer.AclAuthorizer"]]));
      expect.unreachable();
    } catch (err) {
      expect(isKrillError(err, "CONFIG_INVALID")).toBe(true);
    }
  });
});

describe("ACL records in the metadata log", () => {
  it("round-trip through Kafka's record framing", async () => {
    const { metadataRecordSerde } = await import("../../../src/metadata/record-serde.js");
    const { records } = createAclRecords(MetadataImage.EMPTY, [acl({})], new SeededRandom(3));
    const removal = {
      type: "RemoveAccessControlEntry" as const,
      data: { id: (records[0]!.data as { id: string }).id },
    };
    for (const record of [...records, removal]) {
      expect(metadataRecordSerde.decode(metadataRecordSerde.encode(record))).toEqual(record);
    }
  });
});
