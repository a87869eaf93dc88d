/**
 * Test certificates generated with openssl and keytool in a temporary directory: a CA, a server
 * certificate for localhost/127.0.0.1 in every key store format Krill reads (PEM, encrypted PEM,
 * PKCS#12 from openssl and from keytool, plus a JKS one it must refuse), a trust store, a client
 * certificate signed by the CA and one signed by a CA nobody trusts.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface TestCerts {
  readonly dir: string;
  readonly password: string;
  readonly caPem: string;
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  /** Key and chain in one PEM file, key encrypted (PKCS#8) with `password`. */
  readonly serverPemEncryptedFile: string;
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
  readonly serverP12OpenSsl: string;
  readonly serverP12Keytool: string;
  readonly serverJks: string;
  readonly trustP12: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
  readonly rogueCertPem: string;
  readonly rogueKeyPem: string;
  /** keytool -importkeystore into a PKCS#12 client key store, for the Java client. */
  readonly clientP12: string;
  cleanup(): void;
}

function run(cmd: string, args: string[], cwd: string): void {
  execFileSync(cmd, args, { cwd, stdio: ["ignore", "ignore", "pipe"], timeout: 60_000 });
}

export function generateCerts(): TestCerts {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "krill-certs-"));
  const pw = "changeit1";
  const ossl = (...args: string[]) => run("openssl", args, dir);
  const days = ["-days", "2"];
  ossl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-subj",
    "/CN=Krill Test CA",
    ...days,
  );
  ossl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "rogue-ca.key",
    "-out",
    "rogue-ca.pem",
    "-subj",
    "/CN=Rogue CA",
    ...days,
  );
  const signed = (name: string, subj: string, ca: string, ext?: string) => {
    ossl(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      subj,
    );
    const extArgs: string[] = [];
    if (ext !== undefined) {
      fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
      extArgs.push("-extfile", `${name}.ext`);
    }
    ossl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      `${ca}.pem`,
      "-CAkey",
      `${ca}.key`,
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      ...days,
      ...extArgs,
    );
  };
  signed("server", "/CN=localhost", "ca", "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  signed("client", "/O=Krill/CN=client", "ca");
  signed("rogue", "/CN=rogue", "rogue-ca");
  ossl(
    "pkcs8",
    "-topk8",
    "-in",
    "server.key",
    "-out",
    "server-enc.key",
    "-v2",
    "aes-256-cbc",
    "-passout",
    `pass:${pw}`,
  );
  fs.writeFileSync(
    path.join(dir, "server-bundle.pem"),
    fs.readFileSync(path.join(dir, "server-enc.key"), "utf8") +
      fs.readFileSync(path.join(dir, "server.pem"), "utf8") +
      fs.readFileSync(path.join(dir, "ca.pem"), "utf8"),
  );
  ossl(
    "pkcs12",
    "-export",
    "-in",
    "server.pem",
    "-inkey",
    "server.key",
    "-certfile",
    "ca.pem",
    "-name",
    "server",
    "-out",
    "server-openssl.p12",
    "-passout",
    `pass:${pw}`,
  );
  ossl(
    "pkcs12",
    "-export",
    "-in",
    "client.pem",
    "-inkey",
    "client.key",
    "-certfile",
    "ca.pem",
    "-name",
    "client",
    "-out",
    "client.p12",
    "-passout",
    `pass:${pw}`,
  );
  const keytool = (...args: string[]) => run("keytool", args, dir);
  keytool(
    "-importkeystore",
    "-srckeystore",
    "server-openssl.p12",
    "-srcstoretype",
    "PKCS12",
    "-srcstorepass",
    pw,
    "-destkeystore",
    "server-keytool.p12",
    "-deststoretype",
    "PKCS12",
    "-deststorepass",
    pw,
    "-noprompt",
  );
  keytool(
    "-importkeystore",
    "-srckeystore",
    "server-openssl.p12",
    "-srcstoretype",
    "PKCS12",
    "-srcstorepass",
    pw,
    "-destkeystore",
    "server.jks",
    "-deststoretype",
    "JKS",
    "-deststorepass",
    pw,
    "-noprompt",
  );
  keytool(
    "-importcert",
    "-noprompt",
    "-alias",
    "ca",
    "-file",
    "ca.pem",
    "-keystore",
    "trust.p12",
    "-storetype",
    "PKCS12",
    "-storepass",
    pw,
  );
  const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
  const file = (f: string) => path.join(dir, f);
  return {
    dir,
    password: pw,
    caPem: read("ca.pem"),
    caFile: file("ca.pem"),
    serverCertFile: file("server.pem"),
    serverKeyFile: file("server.key"),
    serverPemEncryptedFile: file("server-bundle.pem"),
    serverCertPem: read("server.pem"),
    serverKeyPem: read("server.key"),
    serverP12OpenSsl: file("server-openssl.p12"),
    serverP12Keytool: file("server-keytool.p12"),
    serverJks: file("server.jks"),
    trustP12: file("trust.p12"),
    clientCertPem: read("client.pem"),
    clientKeyPem: read("client.key"),
    rogueCertPem: read("rogue.pem"),
    rogueKeyPem: read("rogue.key"),
    clientP12: file("client.p12"),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
