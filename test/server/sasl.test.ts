import { Kafka, logLevel, type SASLOptions } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerConfig } from "../../src/config/broker-config.js";
import { isKrillError } from "../../src/errors.js";
import { type BrokerHandle, startBroker } from "../../src/index.js";
import { defaultApiVersionsRequest } from "../../src/protocol/generated/api-versions-request.js";
import { API_VERSIONS_API, METADATA_API, SASL_HANDSHAKE_API } from "../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../src/protocol/generated/error-codes.js";
import { defaultMetadataRequest } from "../../src/protocol/generated/metadata-request.js";
import { decodeSaslHandshakeResponse } from "../../src/protocol/generated/sasl-handshake-response.js";
import { saltPassword, scramMechanismByName } from "../../src/server/sasl/scram.js";
import { generateCerts, type TestCerts } from "./network/certs.js";
import { body, client, request } from "./wire.js";

const JAAS_PLAIN =
  'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";';

const saslListener = {
  listeners: "SASL_PLAINTEXT://127.0.0.1:0",
  "listener.security.protocol.map": "SASL_PLAINTEXT:SASL_PLAINTEXT",
  "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
  "listener.name.sasl_plaintext.plain.sasl.jaas.config": JAAS_PLAIN,
};

let broker: BrokerHandle;
beforeAll(async () => {
  broker = await startBroker(saslListener);
  // SCRAM users, stored as kafka-configs stores them (AlterUserScramCredentials).
  for (const [mechanismName, user, password] of [
    ["SCRAM-SHA-256", "bob", "bob-secret"],
    ["SCRAM-SHA-512", "carol", "carol-secret"],
  ] as const) {
    const mechanism = scramMechanismByName(mechanismName)!;
    const salt = Buffer.from(`salt-of-${user}`);
    const results = await broker.broker.context.controller.alterUserScramCredentials(
      [],
      [
        {
          name: user,
          mechanism: mechanism.type,
          iterations: 4096,
          salt,
          saltedPassword: saltPassword(mechanism, password, salt, 4096),
        },
      ],
    );
    expect(results).toEqual([{ user, errorCode: 0, errorMessage: null }]);
  }
}, 60_000);
afterAll(async () => broker?.stop());

function kafka(sasl: SASLOptions, bootstrap = broker.bootstrap, ssl?: { ca: string[]; servername: string }) {
  return new Kafka({
    clientId: "sasl-test",
    brokers: [bootstrap],
    sasl,
    ...(ssl === undefined ? {} : { ssl }),
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 5_000,
  });
}

async function produceOne(k: Kafka, topic: string): Promise<void> {
  const producer = k.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  try {
    await producer.send({ topic, messages: [{ value: "v" }] });
  } finally {
    await producer.disconnect();
  }
}

describe("SASL listeners", () => {
  it("authenticates PLAIN users from the listener's JAAS config", async () => {
    await produceOne(
      kafka({ mechanism: "plain", username: "alice", password: "alice-secret" }),
      "sasl-plain",
    );
    await expect(
      produceOne(kafka({ mechanism: "plain", username: "alice", password: "wrong" }), "sasl-plain"),
    ).rejects.toThrow(/Authentication failed: Invalid username or password/);
  }, 60_000);

  it("authenticates SCRAM-SHA-256 and SCRAM-SHA-512 users stored in the metadata log", async () => {
    await produceOne(
      kafka({ mechanism: "scram-sha-256", username: "bob", password: "bob-secret" }),
      "sasl-scram",
    );
    await produceOne(
      kafka({ mechanism: "scram-sha-512", username: "carol", password: "carol-secret" }),
      "sasl-scram",
    );
    await expect(
      produceOne(kafka({ mechanism: "scram-sha-256", username: "bob", password: "wrong" }), "sasl-scram"),
    ).rejects.toThrow(/invalid credentials with SASL mechanism SCRAM-SHA-256/);
    // A user with a credential for the other mechanism only is unknown here.
    await expect(
      produceOne(
        kafka({ mechanism: "scram-sha-256", username: "carol", password: "carol-secret" }),
        "sasl-scram",
      ),
    ).rejects.toThrow(/SASL mechanism SCRAM-SHA-256/);
  }, 60_000);

  it("refuses any request but ApiVersions and SaslHandshake before authentication, and keeps serving", async () => {
    const c = await client(broker.port);
    c.socket.write(request(API_VERSIONS_API, 0, 1, defaultApiVersionsRequest()));
    expect((await c.next()).readInt32BE(0)).toBe(1);
    c.socket.write(request(METADATA_API, 1, 2, { ...defaultMetadataRequest(), topics: null }));
    await c.closed;
    expect(c.frames).toHaveLength(1);
    // An unknown mechanism: answered with the enabled list, then closed.
    const d = await client(broker.port);
    d.socket.write(request(SASL_HANDSHAKE_API, 1, 3, { mechanism: "GSSAPI" }));
    const frame = await d.next();
    const answer = decodeSaslHandshakeResponse(body(frame, SASL_HANDSHAKE_API, 1), 1);
    expect(answer.errorCode).toBe(ErrorCode.UNSUPPORTED_SASL_MECHANISM);
    expect(answer.mechanisms).toEqual(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]);
    await d.closed;
    // A frame larger than sasl.server.max.receive.size before authentication closes the connection.
    const e = await client(broker.port);
    const big = Buffer.alloc(8);
    big.writeInt32BE(600_000);
    e.socket.write(big);
    await e.closed;
    await produceOne(
      kafka({ mechanism: "plain", username: "admin", password: "admin-secret" }),
      "sasl-after",
    );
  }, 60_000);
});

describe("SASL_SSL", () => {
  let certs: TestCerts;
  beforeAll(() => {
    certs = generateCerts();
  }, 120_000);
  afterAll(() => certs?.cleanup());

  it("authenticates over TLS", async () => {
    const b = await startBroker({
      listeners: "SASL_SSL://127.0.0.1:0",
      "listener.security.protocol.map": "SASL_SSL:SASL_SSL",
      "ssl.keystore.type": "PKCS12",
      "ssl.keystore.location": certs.serverP12Keytool,
      "ssl.keystore.password": certs.password,
      "sasl.enabled.mechanisms": "PLAIN",
      "listener.name.sasl_ssl.plain.sasl.jaas.config": JAAS_PLAIN,
    });
    try {
      const ssl = { ca: [certs.caPem], servername: "localhost" };
      await produceOne(
        kafka({ mechanism: "plain", username: "alice", password: "alice-secret" }, b.bootstrap, ssl),
        "t",
      );
      await expect(
        produceOne(kafka({ mechanism: "plain", username: "alice", password: "nope" }, b.bootstrap, ssl), "t"),
      ).rejects.toThrow(/Invalid username or password/);
    } finally {
      await b.stop();
    }
  }, 60_000);
});

describe("SASL configuration refused at start", () => {
  const refused = (o: Record<string, string>) => {
    try {
      BrokerConfig.create({ "log.dirs": "/tmp/x" }, o);
    } catch (err) {
      expect(isKrillError(err, "CONFIG_INVALID")).toBe(true);
      return (err as Error).message;
    }
    return "accepted";
  };
  it("names what is missing or unsupported", () => {
    const base = {
      listeners: saslListener.listeners,
      "listener.security.protocol.map": saslListener["listener.security.protocol.map"],
    };
    expect(refused(base)).toMatch(/sasl\.enabled\.mechanisms is not set; Kafka's default is GSSAPI/);
    expect(refused({ ...base, "sasl.enabled.mechanisms": "GSSAPI" })).toMatch(
      /GSSAPI, which Krill does not support/,
    );
    expect(refused({ ...base, "sasl.enabled.mechanisms": "OAUTHBEARER" })).toMatch(/OAUTHBEARER/);
    expect(refused({ ...base, "sasl.enabled.mechanisms": "PLAIN" })).toMatch(
      /plain\.sasl\.jaas\.config is not set/,
    );
    expect(refused({ ...saslListener, "sasl.jaas.config": JAAS_PLAIN })).toMatch(
      /^Refusing to start: sasl\.jaas\.config/,
    );
    // Re-authentication is enforced (sasl-reauth.test.ts); a value that is not a duration is refused.
    expect(refused({ ...saslListener, "connections.max.reauth.ms": "-5" })).toMatch(
      /Invalid value "-5" for connections\.max\.reauth\.ms/,
    );
    expect(
      refused({
        ...saslListener,
        "listener.name.sasl_plaintext.plain.sasl.jaas.config": "PlainLoginModule required user_a=",
      }),
    ).toMatch(/Invalid JAAS config/);
    expect(refused(saslListener)).toBe("accepted");
  });
});
