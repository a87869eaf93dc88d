import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig, parseArgs } from "../../src/cli.js";
import { isKrillError } from "../../src/errors.js";

const CLI = path.resolve(import.meta.dirname, "../../src/cli.ts");
const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), "krill-cli-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function run(args: string[]): {
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  stdoutSoFar(): string;
  kill(signal: NodeJS.Signals): void;
} {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, KRILL_LOG_LEVEL: "info" },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  return {
    done: new Promise((resolve) => child.on("exit", (code) => resolve({ code, stdout, stderr }))),
    stdoutSoFar: () => stdout,
    kill: (signal) => child.kill(signal),
  };
}

describe("argument parsing", () => {
  it("reads --config, positional config and repeated --override", () => {
    expect(parseArgs(["start", "--config", "a.properties", "--override", "x=1", "--override=y=2=3"])).toEqual(
      {
        kind: "start",
        args: {
          configPath: "a.properties",
          overrides: new Map([
            ["x", "1"],
            ["y", "2=3"],
          ]),
          envConfig: false,
        },
      },
    );
    expect(parseArgs(["start", "server.properties"])).toMatchObject({
      args: { configPath: "server.properties" },
    });
    expect(parseArgs(["--help"]).kind).toBe("help");
    expect(parseArgs([]).kind).toBe("help");
    expect(parseArgs(["--version"]).kind).toBe("version");
  });

  it("reads format's options with kafka-storage's long and short names", () => {
    expect(
      parseArgs([
        "format",
        "-t",
        "W9AfU9ZKb6evapU4kcw1AQ",
        "-c",
        "s.properties",
        "--standalone",
        "-r",
        "3.7",
        "-g",
      ]),
    ).toEqual({
      kind: "format",
      args: {
        configPath: "s.properties",
        clusterId: "W9AfU9ZKb6evapU4kcw1AQ",
        standalone: true,
        initialControllers: undefined,
        noInitialControllers: false,
        releaseVersion: "3.7",
        ignoreFormatted: true,
      },
    });
    expect(
      parseArgs([
        "format",
        "--config=s.properties",
        "--cluster-id=x",
        "--initial-controllers",
        "1@h:9093:AAAAAAAAAAAAAAAAAAAAAQ",
      ]),
    ).toMatchObject({ args: { initialControllers: "1@h:9093:AAAAAAAAAAAAAAAAAAAAAQ", standalone: false } });
    expect(() => parseArgs(["format", "-c", "s.properties"])).toThrow("format needs --cluster-id");
    expect(() => parseArgs(["format", "-t", "x"])).toThrow("format needs --config");
    expect(() => parseArgs(["format", "-t", "x", "-c", "s", "--bogus"])).toThrow(
      'unknown format option "--bogus"',
    );
    expect(parseArgs(["random-uuid"]).kind).toBe("random-uuid");
  });

  it("rejects unknown commands, options and malformed overrides", () => {
    for (const argv of [
      ["stop"],
      ["start", "--bogus"],
      ["start", "--override", "novalue"],
      ["start", "--config"],
    ]) {
      expect(() => parseArgs(argv)).toThrow();
    }
  });

  it("loads a properties file with overrides on top", () => {
    const dir = tempDir();
    const file = path.join(dir, "server.properties");
    writeFileSync(file, "# test\nnum.partitions=4\nlog.dirs=/somewhere\n");
    const config = loadConfig({ configPath: file, overrides: new Map([["num.partitions", "6"]]) });
    expect(config.int("num.partitions")).toBe(6);
    expect(config.logDirs).toEqual(["/somewhere"]);
    try {
      loadConfig({ configPath: path.join(dir, "missing.properties"), overrides: new Map() });
      expect.unreachable();
    } catch (err) {
      expect(isKrillError(err, "CONFIG_INVALID")).toBe(true);
    }
  });
});

describe("krill process", () => {
  it("prints help and version", async () => {
    const help = await run(["--help"]).done;
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("krill start");
    const version = await run(["--version"]).done;
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^krill \d+\.\d+\.\d+ \(commit [^,]+, node \d+\.\d+\.\d+\)\n$/);
  });

  it("stops start-up on an invalid value, naming the key and the accepted values", async () => {
    const r = await run(["start", "--override", "log.message.timestamp.type=Sometimes"]).done;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("log.message.timestamp.type");
    expect(r.stderr).toContain("[CreateTime, LogAppendTime]");
    const unknown = await run(["start", "--strict", "--override", "num.partition=3"]).done;
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("Unknown configuration num.partition (override)");
  });

  it("names the file read and the line of a typo in strict mode", async () => {
    const dir = tempDir();
    const file = path.join(dir, "server.properties");
    writeFileSync(
      file,
      ["# a comment", "node.id=1", "", "num.partiton=3", "listeners=PLAINTEXT://127.0.0.1:0"].join("\n"),
    );
    const r = await run(["start", "--config", file, "--override", "krill.config.strict=true"]).done;
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(
      new RegExp(`^krill: Unknown configuration num\\.partiton \\(${file}:4\\)`),
    );
    const bad = await run(["start", "--config", file, "--override", "num.partitions=zero"]).done;
    expect(bad.stderr).toContain("(override)");
    writeFileSync(file, ["node.id=1", "num.partitions=zero"].join("\n"));
    const inFile = await run(["start", file]).done;
    expect(inFile.code).toBe(1);
    expect(inFile.stderr).toContain(`num.partitions (${file}:2)`);
  });

  it("refuses an authorizer it does not implement, in one line, before binding", async () => {
    const dir = tempDir();
    const file = path.join(dir, "server.properties");
    writeFileSync(
      file,
      [
        `log.dirs=${dir}/data`,
        "listeners=PLAINTEXT://127.0.0.1:0",
        "authorizer.class.name=kafka.security.authorizer.AclAuthorizer",
        "allow.everyone.if.no.acl.found=false",
        "super.users=User:admin",
      ].join("\n"),
    );
    const r = await run(["start", "--config", file]).done;
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      "Refusing to start: authorizer.class.name=kafka.security.authorizer.AclAuthorizer",
    );
    expect(r.stdout).not.toContain("broker started");
    expect(existsSync(path.join(dir, "data"))).toBe(false);
  });

  it("serves, then on SIGTERM shuts down cleanly with exit code 0", async () => {
    const dir = tempDir();
    const p = run([
      "start",
      "--override",
      `log.dirs=${dir}`,
      "--override",
      "listeners=PLAINTEXT://127.0.0.1:0",
    ]);
    // Wait for the "broker started" line to learn the port.
    let port = 0;
    const deadline = Date.now() + 30_000;
    while (port === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const m = /"listeners":\["PLAINTEXT:\/\/127\.0\.0\.1:(\d+)"\]/.exec(p.stdoutSoFar());
      if (m) port = Number(m[1]);
    }
    expect(port).toBeGreaterThan(0);
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.destroy();
        resolve();
      });
      s.on("error", reject);
    });
    p.kill("SIGTERM");
    const r = await p.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("broker stopped");
    expect(existsSync(path.join(dir, "meta.properties"))).toBe(true);
    expect(existsSync(path.join(dir, ".kafka_cleanshutdown"))).toBe(true);
  });
});
