/**
 * The pure parts of `krill produce|consume|acl|group reset-offsets` and of `--command-config`:
 * argument parsing, record formats, Kafka's partitioner, ACL option expansion, durations, the
 * client properties (fail-closed) and the SCRAM client against Krill's SCRAM server. The commands
 * themselves run against an in-process Krill in admin-clients.test.ts and against Krill and Apache
 * Kafka 4.4 in compat-tests/krill-cli.
 */
import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  ACL_OPTIONS,
  bindingsFromOptions,
  formatEntry,
  formatPattern,
  parseOperation,
} from "../../src/admin/acls.js";
import { parseOptions, UsageError } from "../../src/admin/args.js";
import { CONSUME_OPTIONS } from "../../src/admin/consume.js";
import {
  lineParser,
  murmur2,
  parseStartSpec,
  parseTime,
  partitionForKey,
  recordFormatter,
} from "../../src/admin/record-format.js";
import { parseDuration } from "../../src/admin/reset-offsets.js";
import { clientSecurity, parseJaasConfig, ScramClient } from "../../src/admin/security.js";
import { AclOperation, AclPermission, PatternType, ResourceType } from "../../src/metadata/acls.js";
import {
  credentialFromSaltedPassword,
  ScramServer,
  saltPassword,
  scramMechanismByName,
} from "../../src/server/sasl/scram.js";

const record = {
  topic: "orders",
  partition: 2,
  offset: 41n,
  timestamp: 1_700_000_000_123n,
  key: Buffer.from("k1"),
  value: Buffer.from("v1"),
  headers: [
    { key: "h", value: Buffer.from("x") },
    { key: "n", value: null },
  ],
};

describe("consume output formats", () => {
  it("prints the value by default, null for none, as kafka-console-consumer", () => {
    const f = recordFormatter(undefined);
    expect(f(record)).toBe("v1\n");
    expect(f({ ...record, value: null })).toBe("null\n");
  });

  it("prints rpk-shaped JSON lines", () => {
    const line = recordFormatter("json")(record);
    expect(JSON.parse(line)).toEqual({
      topic: "orders",
      key: "k1",
      value: "v1",
      headers: [
        { key: "h", value: "x" },
        { key: "n", value: null },
      ],
      timestamp: 1_700_000_000_123,
      partition: 2,
      offset: 41,
    });
    expect(line.endsWith("\n")).toBe(true);
  });

  it("expands kcat's -f tokens and escapes", () => {
    const f = recordFormatter("%t/%p@%o %k=%s (%v) K%K S%S T%T [%h] 100%%\\t|\\n");
    expect(f(record)).toBe("orders/2@41 k1=v1 (v1) K2 S2 T1700000000123 [h=x,n=] 100%\t|\n");
    expect(recordFormatter("%k|%s|%K|%S\n")({ ...record, key: null, value: null })).toBe("||-1|-1\n");
  });

  it("refuses unknown tokens and formats without tokens", () => {
    expect(() => recordFormatter("%q")).toThrow(UsageError);
    expect(() => recordFormatter("csv")).toThrow(/text, json or a format string/);
  });
});

describe("produce input formats", () => {
  it("reads values, or KEY SEP VALUE with --key-separator, with --header on each record", () => {
    expect(lineParser(undefined, undefined, [])("hello")).toEqual({ key: null, value: "hello", headers: [] });
    const keyed = lineParser("text", "::", [{ key: "a", value: "b" }]);
    expect(keyed("k::v::w")).toEqual({ key: "k", value: "v::w", headers: [{ key: "a", value: "b" }] });
    expect(keyed("no separator")).toMatch(/no key separator/);
    expect(() => lineParser("text", "", [])).toThrow(UsageError);
    expect(() => lineParser("csv", undefined, [])).toThrow(UsageError);
  });

  it("reads the JSON lines consume --format json prints, headers as an array or an object", () => {
    const parse = lineParser("json", undefined, []);
    const printed = recordFormatter("json")(record).trimEnd();
    expect(parse(printed)).toEqual({
      key: "k1",
      value: "v1",
      headers: [
        { key: "h", value: "x" },
        { key: "n", value: null },
      ],
      partition: 2,
      timestamp: 1_700_000_000_123,
    });
    expect(parse('{"value":{"a":1},"headers":{"x":"y"}}')).toEqual({
      key: null,
      value: '{"a":1}',
      headers: [{ key: "x", value: "y" }],
    });
    expect(parse("[1]")).toBe("not a JSON object");
    expect(parse("{")).toMatch(/^not JSON/);
    expect(parse('{"partition":-1}')).toMatch(/partition/);
    expect(() => lineParser("json", ":", [])).toThrow(UsageError);
  });
});

describe("consume start positions", () => {
  it("takes beginning, end, N, -N and @TIME", () => {
    expect(parseStartSpec("beginning")).toEqual({ kind: "earliest" });
    expect(parseStartSpec("earliest")).toEqual({ kind: "earliest" });
    expect(parseStartSpec("end")).toEqual({ kind: "latest" });
    expect(parseStartSpec("42")).toEqual({ kind: "offset", offset: 42n });
    expect(parseStartSpec("-3")).toEqual({ kind: "fromEnd", count: 3n });
    expect(parseStartSpec("@1700000000000")).toEqual({ kind: "timestamp", timestampMs: 1_700_000_000_000n });
    expect(parseStartSpec("@2024-01-02T03:04:05.006")).toEqual({
      kind: "timestamp",
      timestampMs: BigInt(Date.UTC(2024, 0, 2, 3, 4, 5, 6)),
    });
    expect(() => parseStartSpec("soon")).toThrow(UsageError);
  });

  it("reads ISO-8601 times as UTC unless they name a zone, as Kafka's Utils.getDateTime", () => {
    expect(parseTime("2024-01-01T00:00:00.000", "t")).toBe(BigInt(Date.UTC(2024, 0, 1)));
    expect(parseTime("2024-01-01T02:00:00.000+02:00", "t")).toBe(BigInt(Date.UTC(2024, 0, 1)));
    expect(() => parseTime("yesterday", "t")).toThrow(UsageError);
  });

  it("parses consume's options with kcat's and the console consumer's spellings", () => {
    const p = parseOptions(
      ["t1", "-G", "g", "-c", "5", "-e", "-f", "%s\\n", "--max-messages=7"],
      CONSUME_OPTIONS,
    );
    expect(p.positional).toEqual(["t1"]);
    expect(p.values.get("--group")).toEqual(["g"]);
    expect(p.values.get("--count")).toEqual(["5", "7"]);
    expect(p.flags.has("--exit-at-end")).toBe(true);
    expect(() => parseOptions(["t1", "--bogus"], CONSUME_OPTIONS)).toThrow(/unknown option "--bogus"/);
  });
});

describe("Kafka's default partitioner", () => {
  it("hashes with Utils.murmur2 (Kafka's own test vectors)", () => {
    const cases: [string | Buffer, number][] = [
      ["21", -973932308],
      ["foobar", -790332482],
      ["a-little-bit-long-string", -985981536],
      ["a-little-bit-longer-string", -1486304829],
      ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
      [Buffer.from([0x61, 0x62, 0x63]), 479470107],
    ];
    for (const [input, hash] of cases)
      expect(murmur2(Buffer.isBuffer(input) ? input : Buffer.from(input))).toBe(hash);
  });

  it("puts a key in toPositive(murmur2) % partitions", () => {
    expect(partitionForKey(Buffer.from("21"), 7)).toBe((-973932308 & 0x7fffffff) % 7);
    for (let i = 0; i < 50; i++) {
      const p = partitionForKey(crypto.randomBytes(i), 3);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(3);
    }
  });
});

describe("krill acl options", () => {
  it("expands principals, hosts and operations per resource, as kafka-acls", () => {
    const parsed = parseOptions(
      [
        "--topic",
        "t",
        "--group",
        "g",
        "--allow-principal",
        "User:alice",
        "--operation",
        "Read",
        "--operation",
        "describe_configs",
      ],
      ACL_OPTIONS.create!,
    );
    const bindings = bindingsFromOptions(parsed, PatternType.LITERAL);
    expect(bindings.map(([p]) => formatPattern(p))).toEqual([
      "ResourcePattern(resourceType=TOPIC, name=t, patternType=LITERAL)",
      "ResourcePattern(resourceType=GROUP, name=g, patternType=LITERAL)",
    ]);
    expect(bindings[0]![1].map(formatEntry)).toEqual([
      "(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)",
      "(principal=User:alice, host=*, operation=DESCRIBE_CONFIGS, permissionType=ALLOW)",
    ]);
  });

  it("has kafka-acls' --producer and --consumer roles, and the cluster for --idempotent", () => {
    const parsed = parseOptions(
      [
        "--topic",
        "t",
        "--group",
        "g",
        "--deny-principal",
        "User:bob",
        "--deny-host",
        "10.0.0.1",
        "--producer",
        "--consumer",
        "--idempotent",
      ],
      ACL_OPTIONS.create!,
    );
    const byType = new Map(
      bindingsFromOptions(parsed, PatternType.LITERAL).map(([p, es]) => [p.resourceType, es]),
    );
    expect(
      byType
        .get(ResourceType.TOPIC)!
        .map((e) => e.operation)
        .sort(),
    ).toEqual(
      [
        AclOperation.WRITE,
        AclOperation.DESCRIBE,
        AclOperation.CREATE,
        AclOperation.READ,
        AclOperation.DESCRIBE,
      ].sort(),
    );
    expect(byType.get(ResourceType.GROUP)!.map((e) => e.operation)).toEqual([AclOperation.READ]);
    expect(byType.get(ResourceType.CLUSTER)!.map((e) => [e.operation, e.permissionType, e.host])).toEqual([
      [AclOperation.IDEMPOTENT_WRITE, AclPermission.DENY, "10.0.0.1"],
    ]);
  });

  it("reads operation names as Kafka's SecurityUtils.operation does", () => {
    expect(parseOperation("IdempotentWrite")).toBe(AclOperation.IDEMPOTENT_WRITE);
    expect(parseOperation("ALL")).toBe(AclOperation.ALL);
    expect(() => parseOperation("Any")).toThrow(UsageError);
    expect(() => parseOperation("Fly")).toThrow(/unknown operation/);
  });
});

describe("reset-offsets durations", () => {
  it("parses Java Duration strings", () => {
    expect(parseDuration("PT1H30M")).toBe(5_400_000n);
    expect(parseDuration("P1DT2S")).toBe(86_402_000n);
    expect(parseDuration("PT0.5S")).toBe(500n);
    expect(() => parseDuration("1h")).toThrow(UsageError);
    expect(() => parseDuration("P")).toThrow(UsageError);
  });
});

describe("--command-config", () => {
  const none = () => {};
  const props = (o: Record<string, string>) => new Map(Object.entries(o));

  it("reads SASL/PLAIN and SCRAM from sasl.jaas.config", () => {
    const s = clientSecurity(
      props({
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.jaas.config":
          'org.apache.kafka.common.security.scram.ScramLoginModule required username="bob" password="p\\"w";',
      }),
      "f",
      none,
    );
    expect(s).toEqual({
      protocol: "SASL_PLAINTEXT",
      sasl: { mechanism: "SCRAM-SHA-512", username: "bob", password: 'p"w' },
    });
    expect(parseJaasConfig('x.PlainLoginModule required username=alice password="a b";')).toEqual({
      loginModule: "x.PlainLoginModule",
      flag: "required",
      options: new Map([
        ["username", "alice"],
        ["password", "a b"],
      ]),
    });
    expect(parseJaasConfig("not jaas")).toBeUndefined();
  });

  it("fails closed on what it cannot honour, and warns about other keys", () => {
    const bad = (o: Record<string, string>) => () => clientSecurity(props(o), "f", none);
    expect(bad({ "security.protocol": "SASL_SSL", "sasl.mechanism": "GSSAPI" })).toThrow(
      /GSSAPI is not supported/,
    );
    expect(bad({ "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN" })).toThrow(
      /needs sasl.jaas.config/,
    );
    expect(
      bad({
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "PLAIN",
        "sasl.jaas.config": 'x.ScramLoginModule required username="a" password="b";',
      }),
    ).toThrow(/not the PlainLoginModule/);
    expect(bad({ "security.protocol": "SSL", "ssl.keystore.type": "BKS" })).toThrow(UsageError);
    expect(bad({ "security.protocol": "SSL", "ssl.endpoint.identification.algorithm": "ldap" })).toThrow(
      /https and empty/,
    );
    expect(bad({ "security.protocol": "PLAINTEXT", "ssl.truststore.location": "/x" })).toThrow(
      /does not use TLS/,
    );
    expect(
      bad({
        "security.protocol": "SSL",
        "ssl.truststore.location": "/nonexistent/trust.p12",
        "ssl.truststore.type": "PKCS12",
      }),
    ).toThrow(/cannot read ssl.truststore.location/);
    expect(bad({ "security.protocol": "SSL", "ssl.keymanager.algorithm": "NewSunX509" })).toThrow(
      /not supported/,
    );
    expect(bad({ "security.protocol": "QUIC" })).toThrow(/accepted values/);
    const warnings: string[] = [];
    const s = clientSecurity(props({ acks: "all", "client.id": "me" }), "f", (l) => warnings.push(l));
    expect(s).toEqual({ protocol: "PLAINTEXT", clientId: "me" });
    expect(warnings).toEqual([
      "krill: --command-config f: the configuration 'acks' was supplied but isn't used by this command",
    ]);
  });

  it("authenticates with SCRAM against Krill's SCRAM server, and checks the server's signature", () => {
    for (const name of ["SCRAM-SHA-256", "SCRAM-SHA-512"] as const) {
      const mechanism = scramMechanismByName(name)!;
      const salt = crypto.randomBytes(16);
      const credential = credentialFromSaltedPassword(
        mechanism,
        salt,
        saltPassword(mechanism, "pw", salt, 4096),
        4096,
      );
      const server = new ScramServer(mechanism, (user) => (user === "a,b=c" ? credential : undefined));
      const client = new ScramClient(name, "a,b=c", "pw");
      const first = server.evaluate(client.clientFirst());
      expect(first.kind).toBe("challenge");
      const final = server.evaluate(client.clientFinal((first as { data: Buffer }).data));
      expect(final.kind).toBe("complete");
      expect((final as { user: string }).user).toBe("a,b=c");
      expect(() => client.verifyServerFinal((final as { data: Buffer }).data)).not.toThrow();
      expect(() => client.verifyServerFinal(Buffer.from("v=AAAA"))).toThrow(/does not verify/);

      const wrong = new ScramClient(name, "a,b=c", "not-pw");
      const s2 = new ScramServer(mechanism, () => credential);
      const f2 = s2.evaluate(wrong.clientFirst());
      expect(s2.evaluate(wrong.clientFinal((f2 as { data: Buffer }).data)).kind).toBe("failed");
    }
  });
});
