import { describe, expect, it } from "vitest";
import { BrokerConfig } from "../../src/config/broker-config.js";
import { parseProperties } from "../../src/config/properties.js";
import { isSecurityKey, unenforcedSecurityKey } from "../../src/config/security-keys.js";
import { isKrillError } from "../../src/errors.js";

function refusal(source: Record<string, string> | Map<string, string>): string {
  try {
    BrokerConfig.create(source);
  } catch (err) {
    expect(isKrillError(err, "CONFIG_INVALID")).toBe(true);
    return (err as Error).message;
  }
  throw new Error("expected start-up to be refused");
}

describe("fail closed on security keys Krill does not enforce", () => {
  it("enforces the issue's configuration (StandardAuthorizer, ACLs and super users) and refuses other authorizers", () => {
    // The configuration that let an anonymous `kcat -P -t secret` write (issue 18) now starts an
    // authorizer that denies it.
    const config = BrokerConfig.create(
      parseProperties(
        [
          "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
          "allow.everyone.if.no.acl.found=false",
          "super.users=User:admin",
        ].join("\n"),
      ),
    );
    expect(config.authorizer).toEqual({ superUsers: new Set(["User:admin"]), allowIfNoAcl: false });
    expect(config.unusedKafkaKeys).not.toContain("super.users");
    const message = refusal({ "authorizer.class.name": "kafka.security.authorizer.AclAuthorizer" });
    expect(message).toMatch(
      /^Refusing to start: authorizer\.class\.name=kafka\.security\.authorizer\.AclAuthorizer/,
    );
    expect(message).not.toContain("\n");
    expect(
      refusal({
        "allow.everyone.if.no.acl.found": "yes",
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
      }),
    ).toContain("allow.everyone.if.no.acl.found=yes is not a boolean");
  });

  it("refuses each family on its own, naming the key", () => {
    const cases: Array<[string, string]> = [
      ["principal.builder.class", "com.example.Builder"],
      ["ssl.principal.mapping.rules", "RULE:^CN=(.*?),.*$/$1/"],
      ["ssl.engine.factory.class", "com.example.EngineFactory"],
      ["ssl.provider", "BC"],
      ["sasl.jaas.config", "org.apache.kafka...PlainLoginModule required;"],
      ["sasl.login.class", "com.example.Login"],
      ["sasl.oauthbearer.jwks.endpoint.url", "https://idp/jwks"],
      ["security.inter.broker.protocol", "SASL_SSL"],
      [
        "listener.name.sasl_ssl.oauthbearer.sasl.jaas.config",
        "org.apache.kafka...OAuthBearerLoginModule required;",
      ],
      ["listener.name.external.ssl.keymanager.algorithm", "PKIX"],
      ["listener.name.internal.max.connections", "100"],
      ["max.connections.per.ip", "10"],
      ["max.connections.per.ip.overrides", "127.0.0.1:5"],
      ["max.connection.creation.rate", "20"],
      ["client.quota.callback.class", "com.example.Quotas"],
      ["quota.producer.default", "1048576"],
      ["delegation.token.secret.key", "s3cret"],
    ];
    for (const [key, value] of cases) {
      expect(isSecurityKey(key), key).toBe(true);
      const message = refusal({ [key]: value });
      expect(message, key).toContain(`Refusing to start: ${key} (override)`);
    }
  });

  it("says in one line that delegation tokens are not supported", () => {
    for (const key of ["delegation.token.secret.key", "delegation.token.master.key"]) {
      const message = refusal({ [key]: "s3cret" });
      expect(message, key).toContain("delegation tokens are not supported");
      expect(message, key).not.toContain("\n");
    }
  });

  it("accepts values that ask for nothing Krill fails to do", () => {
    const c = BrokerConfig.create({
      "authorizer.class.name": "",
      "super.users": " ",
      "security.inter.broker.protocol": "PLAINTEXT",
      "connections.max.reauth.ms": "0",
      "max.connections.per.ip": "2147483647",
      "max.connection.creation.rate": "2147483647",
      "principal.builder.class":
        "org.apache.kafka.common.security.authenticator.DefaultKafkaPrincipalBuilder",
    });
    expect(c.nodeId).toBe(1);
  });

  it("leaves keys that only tune a feature alone", () => {
    for (const key of ["quota.window.num", "connection.failed.authentication.delay.ms", "max.connections"])
      expect(isSecurityKey(key), key).toBe(false);
    expect(unenforcedSecurityKey("listener.security.protocol.map", "SSL:SSL", "x")).toBeUndefined();
    expect(BrokerConfig.create({ "max.connections": "100" }).int("max.connections")).toBe(100);
  });

  it("accepts the ssl.* keys Krill's TLS enforces (validated where they are read, tls-settings.ts)", () => {
    for (const key of [
      "ssl.keystore.location",
      "ssl.client.auth",
      "listener.name.external.ssl.keystore.location",
    ]) {
      expect(isSecurityKey(key), key).toBe(true);
      expect(unenforcedSecurityKey(key, "x", "override"), key).toBeUndefined();
    }
    // Kafka's defaults of keys that only name JVM machinery ask for nothing.
    expect(unenforcedSecurityKey("ssl.principal.mapping.rules", "DEFAULT", "x")).toBeUndefined();
  });

  it("accepts the sasl.* keys Krill's SASL enforces, refuses controller listeners other than PLAINTEXT", () => {
    for (const key of [
      "sasl.enabled.mechanisms",
      "listener.name.sasl_ssl.sasl.enabled.mechanisms",
      "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config",
      "listener.name.sasl_plaintext.plain.sasl.jaas.config",
    ]) {
      expect(unenforcedSecurityKey(key, "x", "override"), key).toBeUndefined();
    }
    const message = refusal({
      listeners: "PLAINTEXT://:9092,CONTROLLER://:9093",
      "controller.listener.names": "CONTROLLER",
      "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
    });
    expect(message).toMatch(
      /^Refusing to start: controller listener CONTROLLER uses security protocol SASL_PLAINTEXT/,
    );
    // A protocol map that names SSL for an unused listener name changes nothing.
    expect(
      BrokerConfig.create({
        "listener.security.protocol.map":
          "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL",
      }).listeners.map((l) => l.securityProtocol),
    ).toEqual(["PLAINTEXT"]);
  });
});
