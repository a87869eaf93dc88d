/**
 * `krill produce|consume|acl|group reset-offsets` and `--command-config` (TLS, SASL) against
 * in-process Krill brokers, through runAdmin: what they print, what they write and their exit
 * status. The same commands run against Krill and Apache Kafka 4.4 in compat-tests/krill-cli and
 * compat-tests/security.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { type Consumer, Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAdmin } from "../../src/admin/main.js";
import { type BrokerHandle, startBroker } from "../../src/index.js";
import { generateCerts, type TestCerts } from "../server/network/certs.js";

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(bootstrap: string, argv: string[], input?: string): Promise<Run> {
  let out = "";
  let err = "";
  const code = await runAdmin([...argv, "--bootstrap-server", bootstrap, "--timeout", "15000"], {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    ...(input !== undefined ? { input: Readable.from([input]) } : {}),
  });
  return { code, out, err };
}

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "krill-cli-"));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function propsFile(name: string, lines: Record<string, string>): string {
  const file = path.join(work, name);
  fs.writeFileSync(
    file,
    `${Object.entries(lines)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n")}\n`,
  );
  return file;
}

describe("produce, consume and reset-offsets on a plain listener", () => {
  let broker: BrokerHandle;
  let kafka: Kafka;
  const krill = (...argv: string[]) => run(broker.bootstrap, argv);
  beforeAll(async () => {
    broker = await startBroker({ "group.initial.rebalance.delay.ms": 0, "num.partitions": 3 });
    kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 5 } });
  }, 60_000);
  afterAll(async () => {
    await broker?.stop();
  });

  it("produces keyed records with headers that kafkajs and krill consume read back", async () => {
    expect((await krill("topic", "create", "pc", "--partitions", "3")).code).toBe(0);
    const lines = Array.from({ length: 20 }, (_, i) => `k${i}:v${i}`).join("\n");
    const produced = await run(
      broker.bootstrap,
      ["produce", "pc", "--key-separator", ":", "--header", "h=1", "--compression", "gzip"],
      `${lines}\n`,
    );
    expect(produced).toEqual({ code: 0, out: "", err: "" });

    const consumed = await krill(
      "consume",
      "pc",
      "--from-beginning",
      "--exit-at-end",
      "--format",
      "%p %k %s %h\n",
    );
    expect(consumed.code).toBe(0);
    expect(consumed.err).toBe("Processed a total of 20 messages\n");
    const rows = consumed.out
      .trimEnd()
      .split("\n")
      .map((l) => l.split(" "));
    expect(rows.map((r) => r[1]).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `k${i}`).sort());
    expect(new Set(rows.map((r) => r[3]))).toEqual(new Set(["h=1"]));

    // kafkajs reads the same records, each key in the partition Kafka's partitioner picks.
    const byKey = new Map(rows.map((r) => [r[1]!, Number(r[0])]));
    const seen = new Map<string, number>();
    const consumer = kafka.consumer({ groupId: "pc-kafkajs" });
    await consumer.connect();
    await consumer.subscribe({ topic: "pc", fromBeginning: true });
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          seen.set(message.key!.toString(), partition);
          expect(message.headers?.h?.toString()).toBe("1");
          if (seen.size === 20) resolve();
        },
      });
    });
    await consumer.disconnect();
    expect(seen).toEqual(byKey);
  }, 60_000);

  it("starts at N, -N, @TIME and the end, and stops at --count", async () => {
    await run(broker.bootstrap, ["produce", "pos", "--partition", "1"], "a\nb\nc\nd\n");
    const at = (...extra: string[]) =>
      krill("consume", "pos", "--partition", "1", "--exit-at-end", "--format", "%o:%s\n", ...extra);
    expect((await at("--offset", "2")).out).toBe("2:c\n3:d\n");
    expect((await at("--offset", "-1")).out).toBe("3:d\n");
    expect((await at("--offset", "end")).out).toBe("");
    expect((await at("--offset", "@2000-01-01T00:00:00Z")).out).toBe("0:a\n1:b\n2:c\n3:d\n");
    expect((await at("--offset", `@${Date.now() + 3_600_000}`)).out).toBe("");
    const counted = await krill("consume", "pos", "--from-beginning", "--count", "2");
    expect(counted).toEqual({ code: 0, out: "a\nb\n", err: "Processed a total of 2 messages\n" });
    const json = await krill(
      "consume",
      "pos",
      "--partition",
      "1",
      "--offset",
      "0",
      "--count",
      "1",
      "--format",
      "json",
    );
    expect(JSON.parse(json.out)).toMatchObject({
      topic: "pos",
      key: null,
      value: "a",
      headers: [],
      partition: 1,
      offset: 0,
    });
  }, 60_000);

  it("answers usage errors with 2 and a missing topic with 1", async () => {
    expect((await krill("consume", "pos", "--offset", "soon")).code).toBe(2);
    expect((await krill("consume", "pos", "--group", "g", "--offset", "1")).code).toBe(2);
    expect((await krill("produce", "pos", "--acks", "0")).code).toBe(2);
    expect((await krill("produce")).code).toBe(2);
    const missing = await krill("consume", "no-such-topic", "--exit-at-end");
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("UNKNOWN_TOPIC_OR_PARTITION");
    const help = await krill("consume", "--help");
    expect(help.code).toBe(0);
    expect(help.out).toContain("Usage: krill consume");
  }, 60_000);

  it("consumes in a group, commits what it printed, and resets offsets only while the group is empty", async () => {
    await run(broker.bootstrap, ["produce", "grp", "--partition", "0"], "1\n2\n3\n4\n5\n");
    const first = await krill("consume", "grp", "--group", "g1", "--from-beginning", "--count", "3");
    expect(first.out).toBe("1\n2\n3\n");
    const describe1 = await krill("group", "describe", "g1");
    expect(describe1.out).toMatch(/g1\s+grp\s+0\s+3\s+5\s+2\s+-/);
    const rest = await krill("consume", "grp", "--group", "g1", "--exit-at-end");
    expect(rest.out).toBe("4\n5\n");

    const dry = await krill("group", "reset-offsets", "g1", "--topic", "grp:0", "--to-earliest");
    expect(dry.code).toBe(0);
    expect(dry.out).toBe(
      `\n${"GROUP".padEnd(15)} ${"TOPIC".padEnd(15)} PARTITION  NEW-OFFSET\n${"g1".padEnd(15)} ${"grp".padEnd(15)} 0          0\n`,
    );
    expect((await krill("group", "describe", "g1")).out).toMatch(/g1\s+grp\s+0\s+5\s+5\s+0/);
    expect(
      (await krill("group", "reset-offsets", "g1", "--topic", "grp:0", "--shift-by", "-2", "--execute")).code,
    ).toBe(0);
    expect((await krill("group", "describe", "g1")).out).toMatch(/g1\s+grp\s+0\s+3\s+5\s+2/);

    // A running member (kafkajs, classic protocol): the reset is refused.
    const consumer: Consumer = kafka.consumer({ groupId: "g1" });
    await consumer.connect();
    await consumer.subscribe({ topic: "grp" });
    let joined!: () => void;
    const isJoined = new Promise<void>((resolve) => {
      joined = resolve;
    });
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    await consumer.run({ eachMessage: async () => {} });
    await isJoined;
    const refused = await krill("group", "reset-offsets", "g1", "--all-topics", "--to-latest", "--execute");
    expect(refused.code).toBe(1);
    expect(refused.out).toContain(
      "Error: Assignments can only be reset if the group 'g1' is inactive, but the current state is Stable.",
    );
    await consumer.disconnect();
    expect(
      (await krill("group", "reset-offsets", "g1", "--all-topics", "--to-latest", "--execute")).code,
    ).toBe(0);
  }, 90_000);

  it("refuses acl commands without an authorizer (SECURITY_DISABLED, exit 1)", async () => {
    const listed = await krill("acl", "list");
    expect(listed.code).toBe(1);
    expect(listed.err).toContain("SECURITY_DISABLED");
  });
});

describe("--command-config: SASL and ACLs", () => {
  let broker: BrokerHandle;
  const admin = () =>
    propsFile("admin.properties", {
      "security.protocol": "SASL_PLAINTEXT",
      "sasl.mechanism": "PLAIN",
      "sasl.jaas.config":
        'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret";',
    });
  beforeAll(async () => {
    broker = await startBroker({
      listeners: "SASL_PLAINTEXT://127.0.0.1:0",
      "listener.security.protocol.map": "SASL_PLAINTEXT:SASL_PLAINTEXT",
      "sasl.enabled.mechanisms": "PLAIN",
      "listener.name.sasl_plaintext.plain.sasl.jaas.config":
        'org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="admin-secret" user_alice="alice-secret";',
      "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
      "super.users": "User:admin",
      "allow.everyone.if.no.acl.found": "false",
    });
  }, 60_000);
  afterAll(async () => {
    await broker?.stop();
  });

  it("authenticates with PLAIN, creates, lists and deletes ACLs as kafka-acls", async () => {
    const cfg = admin();
    const krill = (...argv: string[]) => run(broker.bootstrap, [...argv, "--command-config", cfg]);
    expect((await krill("topic", "create", "secured", "--partitions", "1")).code).toBe(0);
    const created = await krill(
      "acl",
      "create",
      "--topic",
      "secured",
      "--allow-principal",
      "User:alice",
      "--operation",
      "Read",
      "--operation",
      "Describe",
    );
    expect(created.code).toBe(0);
    expect(created.out).toBe(
      "Adding ACLs for resource `ResourcePattern(resourceType=TOPIC, name=secured, patternType=LITERAL)`: \n" +
        " \t(principal=User:alice, host=*, operation=DESCRIBE, permissionType=ALLOW)\n" +
        "\t(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)\n\n",
    );
    const again = await krill(
      "acl",
      "create",
      "--topic",
      "secured",
      "--allow-principal",
      "User:alice",
      "--operation",
      "Read",
    );
    expect(again.out).toBe(
      "Acl (pattern=ResourcePattern(resourceType=TOPIC, name=secured, patternType=LITERAL), entry=(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)) already exists.\n",
    );
    const listed = await krill("acl", "list", "--topic", "secured");
    expect(listed.out).toContain(
      "Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=secured, patternType=LITERAL)`:",
    );
    expect(listed.out).toContain("(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)");
    // alice may read the topic now, and nothing else.
    const alice = propsFile("alice.properties", {
      "security.protocol": "SASL_PLAINTEXT",
      "sasl.mechanism": "PLAIN",
      "sasl.jaas.config":
        'org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="alice-secret";',
    });
    await run(broker.bootstrap, ["produce", "secured", "--command-config", cfg], "r1\n");
    const read = await run(broker.bootstrap, [
      "consume",
      "secured",
      "--from-beginning",
      "--exit-at-end",
      "--command-config",
      alice,
    ]);
    expect(read).toMatchObject({ code: 0, out: "r1\n" });
    const denied = await run(broker.bootstrap, ["produce", "secured", "--command-config", alice], "r2\n");
    expect(denied.code).toBe(1);
    expect(denied.err).toContain("TOPIC_AUTHORIZATION_FAILED");
    expect((await krill("acl", "delete", "--topic", "secured")).code).toBe(0);
    expect((await krill("acl", "list", "--topic", "secured")).out).toBe("");
  }, 60_000);

  it("fails at once (exit 1) with a wrong password, and with no SASL on a SASL listener", async () => {
    const wrong = propsFile("wrong.properties", {
      "security.protocol": "SASL_PLAINTEXT",
      "sasl.mechanism": "PLAIN",
      "sasl.jaas.config":
        'org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="nope";',
    });
    const started = Date.now();
    const res = await run(broker.bootstrap, ["topic", "list", "--command-config", wrong]);
    expect(res.code).toBe(1);
    expect(res.err).toMatch(/SASL PLAIN authentication failed: SASL_AUTHENTICATION_FAILED/);
    // Not retried until the 15 s timeout: an authentication failure is final.
    expect(Date.now() - started).toBeLessThan(10_000);
    const unsupported = propsFile("gssapi.properties", {
      "security.protocol": "SASL_PLAINTEXT",
      "sasl.mechanism": "GSSAPI",
    });
    expect((await run(broker.bootstrap, ["topic", "list", "--command-config", unsupported])).code).toBe(2);
  }, 60_000);
});

describe("--command-config: TLS", () => {
  let certs: TestCerts;
  let broker: BrokerHandle;
  beforeAll(async () => {
    certs = generateCerts();
    broker = await startBroker({
      listeners: "SSL://127.0.0.1:0",
      "listener.security.protocol.map": "SSL:SSL",
      "ssl.keystore.type": "PKCS12",
      "ssl.keystore.location": certs.serverP12OpenSsl,
      "ssl.keystore.password": certs.password,
      "ssl.truststore.type": "PEM",
      "ssl.truststore.location": certs.caFile,
      "ssl.client.auth": "required",
    });
  }, 120_000);
  afterAll(async () => {
    await broker?.stop();
    certs?.cleanup();
  });

  it("connects with a PEM trust store and a PKCS12 client key store, and refuses an untrusted broker", async () => {
    const good = propsFile("tls.properties", {
      "security.protocol": "SSL",
      "ssl.truststore.type": "PEM",
      "ssl.truststore.location": certs.caFile,
      "ssl.keystore.type": "PKCS12",
      "ssl.keystore.location": certs.clientP12,
      "ssl.keystore.password": certs.password,
    });
    const created = await run(broker.bootstrap, ["topic", "create", "over-tls", "--command-config", good]);
    expect(created).toEqual({ code: 0, out: "Created topic over-tls.\n", err: "" });
    expect((await run(broker.bootstrap, ["produce", "over-tls", "--command-config", good], "x\n")).code).toBe(
      0,
    );
    const read = await run(broker.bootstrap, [
      "consume",
      "over-tls",
      "--from-beginning",
      "--exit-at-end",
      "--command-config",
      good,
    ]);
    expect(read.out).toBe("x\n");

    const rogueCa = path.join(work, "rogue-ca.pem");
    fs.writeFileSync(rogueCa, certs.rogueCertPem);
    const untrusted = propsFile("rogue.properties", {
      "security.protocol": "SSL",
      "ssl.truststore.type": "PEM",
      "ssl.truststore.location": rogueCa,
    });
    const refused = await run(broker.bootstrap, ["topic", "list", "--command-config", untrusted]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/TLS handshake with 127\.0\.0\.1:\d+ failed/);
  }, 60_000);
});
