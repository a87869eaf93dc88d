import fs from "node:fs";
import tls from "node:tls";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerConfig } from "../../../src/config/broker-config.js";
import { openSslCipherName } from "../../../src/config/tls-settings.js";
import { isKrillError } from "../../../src/errors.js";
import { type BrokerHandle, startBroker } from "../../../src/index.js";
import { defaultApiVersionsRequest } from "../../../src/protocol/generated/api-versions-request.js";
import { API_VERSIONS_API } from "../../../src/protocol/generated/apis.js";
import { FrameDecoder } from "../../../src/server/network/frame-decoder.js";
import { readPkcs12 } from "../../../src/server/network/pkcs12.js";
import { request } from "../wire.js";
import { generateCerts, type TestCerts } from "./certs.js";

let certs: TestCerts;
beforeAll(() => {
  certs = generateCerts();
}, 120_000);
afterAll(() => certs?.cleanup());

const sslListener = { listeners: "SSL://127.0.0.1:0", "listener.security.protocol.map": "SSL:SSL" };

function pkcs12Keystore(file: string): Record<string, string> {
  return {
    ...sslListener,
    "ssl.keystore.type": "PKCS12",
    "ssl.keystore.location": file,
    "ssl.keystore.password": certs.password,
  };
}

interface Answer {
  ok: boolean;
  error?: string;
  protocol?: string | null;
}

/** Connects over TLS, sends ApiVersions v0 and reports whether an answer came back. */
async function apiVersionsOverTls(port: number, options: tls.ConnectionOptions = {}): Promise<Answer> {
  return await new Promise<Answer>((resolve) => {
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      ca: certs.caPem,
      servername: "localhost",
      ...options,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, error: "timeout" });
    }, 10_000);
    const decoder = new FrameDecoder(1 << 20);
    socket.on("secureConnect", () =>
      socket.write(request(API_VERSIONS_API, 0, 7, defaultApiVersionsRequest())),
    );
    socket.on("data", (chunk: Buffer) => {
      decoder.push(chunk);
      const frame = decoder.next();
      if (frame === undefined) return;
      clearTimeout(timer);
      const protocol = socket.getProtocol();
      socket.destroy();
      resolve({ ok: frame.readInt32BE(0) === 7, protocol });
    });
    socket.on("error", (err) => {
      clearTimeout(timer);
      resolve({ ok: false, error: err.message });
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ ok: false, error: "closed" });
    });
  });
}

async function withBroker(overrides: Record<string, string>, body: (b: BrokerHandle) => Promise<void>) {
  const broker = await startBroker(overrides);
  try {
    await body(broker);
  } finally {
    await broker.stop();
  }
}

function refusal(overrides: Record<string, string>): Promise<string> {
  return startBroker(overrides).then(
    async (b) => {
      await b.stop();
      return "started";
    },
    (err: unknown) => {
      expect(isKrillError(err, "CONFIG_INVALID")).toBe(true);
      return (err as Error).message;
    },
  );
}

describe("TLS listeners", () => {
  it("serves kafkajs over SSL with a PKCS12 key store written by keytool, beside a PLAINTEXT listener", async () => {
    await withBroker(
      {
        ...pkcs12Keystore(certs.serverP12Keytool),
        listeners: "SSL://127.0.0.1:0,PLAINTEXT://127.0.0.1:0",
        "listener.security.protocol.map": "SSL:SSL,PLAINTEXT:PLAINTEXT",
      },
      async (broker) => {
        const kafka = new Kafka({
          clientId: "tls-test",
          brokers: [broker.bootstrap],
          ssl: { ca: [certs.caPem], servername: "localhost" },
          logLevel: logLevel.NOTHING,
        });
        const admin = kafka.admin();
        await admin.connect();
        await admin.createTopics({ topics: [{ topic: "secure", numPartitions: 1 }] });
        await admin.disconnect();
        const producer = kafka.producer();
        await producer.connect();
        await producer.send({ topic: "secure", messages: [{ key: "k", value: "over tls" }] });
        await producer.disconnect();
        const consumer = kafka.consumer({ groupId: "tls-group" });
        await consumer.connect();
        await consumer.subscribe({ topic: "secure", fromBeginning: true });
        const got = await new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error("no message")), 20_000);
          void consumer.run({
            eachMessage: async ({ message }) => {
              clearTimeout(timer);
              resolve(message.value?.toString() ?? "");
            },
          });
        });
        await consumer.disconnect();
        expect(got).toBe("over tls");
        // The PLAINTEXT listener still answers in the clear.
        const plain = broker.broker.boundListeners.find((l) => l.spec.name === "PLAINTEXT")!;
        const wire = await import("../wire.js");
        const c = await wire.client(plain.port);
        c.socket.write(request(API_VERSIONS_API, 0, 3, defaultApiVersionsRequest()));
        expect((await c.next()).readInt32BE(0)).toBe(3);
        c.socket.destroy();
      },
    );
  }, 60_000);

  it("reads PKCS12 from openssl, PEM files with an encrypted key, and inline PEM strings", async () => {
    await withBroker(pkcs12Keystore(certs.serverP12OpenSsl), async (b) => {
      expect((await apiVersionsOverTls(b.port)).ok).toBe(true);
    });
    await withBroker(
      {
        ...sslListener,
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": certs.serverPemEncryptedFile,
        "ssl.key.password": certs.password,
      },
      async (b) => expect((await apiVersionsOverTls(b.port)).ok).toBe(true),
    );
    await withBroker(
      {
        ...sslListener,
        "listener.name.ssl.ssl.keystore.type": "PEM",
        "listener.name.ssl.ssl.keystore.key": certs.serverKeyPem,
        "listener.name.ssl.ssl.keystore.certificate.chain": certs.serverCertPem,
      },
      async (b) => expect((await apiVersionsOverTls(b.port)).ok).toBe(true),
    );
  }, 60_000);

  it("ssl.client.auth=required: refuses clients without a certificate or with an untrusted one", async () => {
    await withBroker(
      {
        ...pkcs12Keystore(certs.serverP12Keytool),
        "ssl.truststore.type": "PKCS12",
        "ssl.truststore.location": certs.trustP12,
        "ssl.truststore.password": certs.password,
        "ssl.client.auth": "required",
      },
      async (b) => {
        expect((await apiVersionsOverTls(b.port)).ok).toBe(false);
        expect(
          (await apiVersionsOverTls(b.port, { cert: certs.rogueCertPem, key: certs.rogueKeyPem })).ok,
        ).toBe(false);
        expect(
          (await apiVersionsOverTls(b.port, { cert: certs.clientCertPem, key: certs.clientKeyPem })).ok,
        ).toBe(true);
      },
    );
  }, 60_000);

  it("ssl.client.auth=requested: accepts a client without a certificate, refuses an untrusted one", async () => {
    await withBroker(
      {
        ...pkcs12Keystore(certs.serverP12Keytool),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": certs.caFile,
        "ssl.client.auth": "requested",
      },
      async (b) => {
        expect((await apiVersionsOverTls(b.port)).ok).toBe(true);
        expect(
          (await apiVersionsOverTls(b.port, { cert: certs.rogueCertPem, key: certs.rogueKeyPem })).ok,
        ).toBe(false);
        expect(
          (await apiVersionsOverTls(b.port, { cert: certs.clientCertPem, key: certs.clientKeyPem })).ok,
        ).toBe(true);
      },
    );
  }, 60_000);

  it("ssl.enabled.protocols and ssl.cipher.suites limit what a client may negotiate", async () => {
    await withBroker(
      { ...pkcs12Keystore(certs.serverP12Keytool), "ssl.enabled.protocols": "TLSv1.3" },
      async (b) => {
        expect(await apiVersionsOverTls(b.port, { maxVersion: "TLSv1.2" })).toMatchObject({ ok: false });
        expect(await apiVersionsOverTls(b.port)).toMatchObject({ ok: true, protocol: "TLSv1.3" });
      },
    );
    await withBroker(
      {
        ...pkcs12Keystore(certs.serverP12Keytool),
        "ssl.enabled.protocols": "TLSv1.2",
        "ssl.cipher.suites": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
      },
      async (b) => {
        expect((await apiVersionsOverTls(b.port, { ciphers: "ECDHE-RSA-AES128-GCM-SHA256" })).ok).toBe(false);
        expect(await apiVersionsOverTls(b.port)).toMatchObject({ ok: true, protocol: "TLSv1.2" });
      },
    );
    expect(openSslCipherName("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256")).toBe("ECDHE-ECDSA-AES128-SHA256");
    expect(openSslCipherName("TLS_RSA_WITH_AES_128_GCM_SHA256")).toBe("AES128-GCM-SHA256");
    expect(openSslCipherName("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256")).toBe(
      "ECDHE-RSA-CHACHA20-POLY1305",
    );
    expect(openSslCipherName("TLS_AES_256_GCM_SHA384")).toBe("TLS_AES_256_GCM_SHA384");
    expect(openSslCipherName("ECDHE-RSA-AES128-GCM-SHA256")).toBeUndefined();
  }, 60_000);

  it("keeps serving after a client that is not speaking TLS at all", async () => {
    await withBroker(pkcs12Keystore(certs.serverP12Keytool), async (b) => {
      const wire = await import("../wire.js");
      const c = await wire.client(b.port);
      c.socket.write(request(API_VERSIONS_API, 0, 1, defaultApiVersionsRequest()));
      await c.closed;
      expect((await apiVersionsOverTls(b.port)).ok).toBe(true);
    });
  }, 60_000);
});

describe("TLS configuration refused at start", () => {
  it("names the problem: JKS, wrong password, no key store, mismatched key, bad values", async () => {
    expect(await refusal(pkcs12Keystore(certs.serverJks))).toMatch(
      /JKS \(Java KeyStore\) file, which Krill cannot read/,
    );
    expect(
      await refusal({
        ...sslListener,
        "ssl.keystore.location": certs.serverJks,
        "ssl.keystore.password": certs.password,
      }),
    ).toMatch(/JKS/);
    expect(
      await refusal({ ...pkcs12Keystore(certs.serverP12Keytool), "ssl.keystore.password": "wrong" }),
    ).toMatch(/wrong password/);
    expect(await refusal({ ...pkcs12Keystore(`${certs.dir}/missing.p12`) })).toMatch(
      /cannot read ssl\.keystore\.location/,
    );
    expect(await refusal(sslListener)).toMatch(/has no key store/);
    expect(
      await refusal({
        ...sslListener,
        "ssl.keystore.type": "PEM",
        "ssl.keystore.key": certs.clientKeyPem,
        "ssl.keystore.certificate.chain": certs.serverCertPem,
      }),
    ).toMatch(/does not match/);
    expect(
      await refusal({ ...pkcs12Keystore(certs.serverP12Keytool), "ssl.client.auth": "required" }),
    ).toMatch(/needs a trust store/);
    expect(
      await refusal({
        ...pkcs12Keystore(certs.serverP12Keytool),
        "ssl.enabled.protocols": "TLSv1.1,TLSv1.3",
      }),
    ).toMatch(/contiguous/);
    expect(
      await refusal({ ...pkcs12Keystore(certs.serverP12Keytool), "ssl.cipher.suites": "NOT_A_SUITE" }),
    ).toMatch(/ssl\.cipher\.suites/);
    expect(await refusal({ ...pkcs12Keystore(certs.serverP12Keytool), "ssl.keystore.type": "BKS" })).toMatch(
      /ssl\.keystore\.type/,
    );
  }, 60_000);

  it("still refuses TLS keys Krill does not enforce, and SASL listeners without mechanisms", () => {
    const create = (o: Record<string, string>) => () => BrokerConfig.create({ "log.dirs": "/tmp/x" }, o);
    expect(create({ "ssl.engine.factory.class": "com.example.Factory" })).toThrow(
      /ssl\.engine\.factory\.class/,
    );
    expect(create({ "ssl.principal.mapping.rules": "RULE:^CN=(.*)$/$1/" })).toThrow(
      /ssl\.principal\.mapping\.rules/,
    );
    expect(create({ "ssl.keymanager.algorithm": "PKIX" })).toThrow(/ssl\.keymanager\.algorithm/);
    expect(
      create({ "ssl.keymanager.algorithm": "SunX509", "ssl.principal.mapping.rules": "DEFAULT" }),
    ).not.toThrow();
    expect(
      create({
        ...pkcs12Keystore(certs.serverP12Keytool),
        listeners: "SASL_SSL://127.0.0.1:0",
        "listener.security.protocol.map": "SASL_SSL:SASL_SSL",
      }),
    ).toThrow(/Kafka's default is GSSAPI/);
  });
});

describe("PKCS12 reader", () => {
  it("reads a keytool trust store (certificates only) and a key store's key and chain", () => {
    const trust = readPkcs12(fs.readFileSync(certs.trustP12), certs.password);
    expect(trust.keys).toHaveLength(0);
    expect(trust.certs).toHaveLength(1);
    const ks = readPkcs12(fs.readFileSync(certs.serverP12OpenSsl), certs.password);
    expect(ks.keys).toHaveLength(1);
    expect(ks.certs).toHaveLength(2);
  });

  it("refuses garbage and truncated input without throwing anything but its own error", () => {
    const good = fs.readFileSync(certs.serverP12Keytool);
    for (const len of [0, 1, 2, 10, 100, good.length - 1]) {
      expect(() => readPkcs12(good.subarray(0, len), certs.password)).toThrow();
    }
    const flipped = Buffer.from(good);
    const at = flipped.length - 40;
    flipped[at] = flipped[at]! ^ 0xff;
    expect(() => readPkcs12(flipped, certs.password)).toThrow(/integrity|wrong password|ASN/);
  });
});
