import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../src/index.js";
import {
  METADATA_API,
  SASL_AUTHENTICATE_API,
  SASL_HANDSHAKE_API,
} from "../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../src/protocol/generated/error-codes.js";
import { defaultMetadataRequest } from "../../src/protocol/generated/metadata-request.js";
import { RawClient } from "./partitions/raw-client.js";

const LIFETIME_MS = 2000;
const JAAS_PLAIN =
  'org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="admin-secret" user_alice="alice-secret";';

let broker: BrokerHandle;
beforeAll(async () => {
  broker = await startBroker({
    listeners: "SASL_PLAINTEXT://127.0.0.1:0",
    "listener.security.protocol.map": "SASL_PLAINTEXT:SASL_PLAINTEXT",
    "sasl.enabled.mechanisms": "PLAIN",
    "listener.name.sasl_plaintext.plain.sasl.jaas.config": JAAS_PLAIN,
    "connections.max.reauth.ms": String(LIFETIME_MS),
  });
}, 60_000);
afterAll(async () => broker?.stop());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** SaslHandshake v1 then SaslAuthenticate v2 with PLAIN. */
async function authenticate(raw: RawClient, user: string, password: string) {
  const handshake = await raw.request(SASL_HANDSHAKE_API, 1, { mechanism: "PLAIN" });
  expect(handshake.errorCode).toBe(ErrorCode.NONE);
  return raw.request(SASL_AUTHENTICATE_API, 2, { authBytes: Buffer.from(`\0${user}\0${password}`) });
}

function metadata(raw: RawClient) {
  return raw.request(METADATA_API, 12, { ...defaultMetadataRequest(), topics: [] });
}

describe("SASL re-authentication (KIP-368, connections.max.reauth.ms)", () => {
  it("tells the client its session lifetime and re-authenticates on the same connection", async () => {
    const raw = await RawClient.connect(broker.port, broker.host);
    try {
      const first = await authenticate(raw, "alice", "alice-secret");
      expect(first.errorCode).toBe(ErrorCode.NONE);
      expect(first.sessionLifetimeMs).toBe(BigInt(LIFETIME_MS));
      await metadata(raw);
      const again = await authenticate(raw, "alice", "alice-secret");
      expect(again.errorCode).toBe(ErrorCode.NONE);
      expect(again.sessionLifetimeMs).toBe(BigInt(LIFETIME_MS));
      // Past the first session's end: the renewed session serves.
      await sleep(LIFETIME_MS / 2 + 200);
      await metadata(raw);
      expect(raw.closed).toBe(false);
    } finally {
      await raw.close();
    }
  }, 30_000);

  it("closes a connection whose session expired when it sends a request", async () => {
    const raw = await RawClient.connect(broker.port, broker.host);
    try {
      expect((await authenticate(raw, "alice", "alice-secret")).errorCode).toBe(ErrorCode.NONE);
      await sleep(LIFETIME_MS + 200);
      await expect(metadata(raw)).rejects.toThrow(/connection closed/);
    } finally {
      await raw.close();
    }
  }, 30_000);

  it("refuses a re-authentication that changes the principal, then closes", async () => {
    const raw = await RawClient.connect(broker.port, broker.host);
    try {
      expect((await authenticate(raw, "alice", "alice-secret")).errorCode).toBe(ErrorCode.NONE);
      const changed = await authenticate(raw, "admin", "admin-secret");
      expect(changed.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
      expect(changed.errorMessage).toBe(
        "Cannot change principals during re-authentication from User.alice: User.admin",
      );
      await expect(metadata(raw)).rejects.toThrow(/connection closed/);
    } finally {
      await raw.close();
    }
  }, 30_000);

  it("keeps kafkajs producing across several session lifetimes (it re-authenticates)", async () => {
    const kafka = new Kafka({
      clientId: "reauth-test",
      brokers: [broker.bootstrap],
      sasl: { mechanism: "plain", username: "alice", password: "alice-secret" },
      // kafkajs re-authenticates once lifetime - threshold has passed (here 1.2 s, past Kafka's
      // one re-authentication a second).
      reauthenticationThreshold: 800,
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    try {
      for (let i = 0; i < 6; i++) {
        await producer.send({ topic: "reauth", messages: [{ value: `m${i}` }] });
        await sleep(700);
      }
    } finally {
      await producer.disconnect();
    }
  }, 60_000);
});
