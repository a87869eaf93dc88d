/**
 * The single-file build (tools/build/bundle.ts) that bin/krill runs: it must serve exactly the
 * handlers the handler folder holds, and answer real requests like the module-per-file build.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeApiVersionsResponse } from "../../../src/protocol/generated/api-versions-response.js";
import { API_VERSIONS_API, METADATA_API } from "../../../src/protocol/generated/apis.js";
import { defaultMetadataRequest } from "../../../src/protocol/generated/metadata-request.js";
import { decodeMetadataResponse } from "../../../src/protocol/generated/metadata-response.js";
import { loadHandlers } from "../../../src/server/registry.js";
import { body, client, request } from "../../server/wire.js";

const ROOT = path.resolve(import.meta.dirname, "../../..");
// Inside the repository (dist/ is ignored by git) so the bundle's npm imports resolve from
// node_modules exactly as they do for dist/krill.mjs.
const OUT_DIR = path.join(ROOT, "dist", `.bundle-test-${process.pid}`);
const OUT = path.join(OUT_DIR, "krill.mjs");

describe("single-file build", () => {
  let dataDir: string;
  let child: ChildProcess | undefined;
  let port = 0;

  beforeAll(async () => {
    const built = spawnSync(
      process.execPath,
      ["--import", "tsx", path.join(ROOT, "tools/build/bundle.ts"), "--out", OUT],
      { cwd: ROOT, encoding: "utf8", timeout: 60_000 },
    );
    expect(built.stderr).toBe("");
    expect(built.status).toBe(0);
    dataDir = mkdtempSync(path.join(os.tmpdir(), "krill-bundle-"));
    child = spawn(
      process.execPath,
      [OUT, "start", "--override", `log.dirs=${dataDir}`, "--override", "listeners=PLAINTEXT://127.0.0.1:0"],
      { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, KRILL_LOG_LEVEL: "info" } },
    );
    let stdout = "";
    child.stdout?.on("data", (d) => {
      stdout += d;
    });
    const deadline = Date.now() + 30_000;
    while (port === 0 && Date.now() < deadline && child.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const m = /"listeners":\["PLAINTEXT:\/\/127\.0\.0\.1:(\d+)"\]/.exec(stdout);
      if (m) port = Number(m[1]);
    }
    expect(port).toBeGreaterThan(0);
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child?.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    rmSync(OUT_DIR, { recursive: true, force: true });
  });

  it("writes a linked source map that names the TypeScript sources", () => {
    expect(readFileSync(OUT, "utf8")).toMatch(/\/\/# sourceMappingURL=krill\.mjs\.map\s*$/);
    const map = JSON.parse(readFileSync(`${OUT}.map`, "utf8")) as { sources: string[] };
    expect(map.sources.some((s) => s.endsWith("src/server/handlers/000-produce.ts"))).toBe(true);
    expect(map.sources.some((s) => s.endsWith("src/cli.ts"))).toBe(true);
  });

  it("advertises in ApiVersions exactly the handlers of the handler folder served on a broker listener", async () => {
    const expected = (await loadHandlers()).servedOn("broker");
    expect(expected.length).toBeGreaterThan(30);
    const c = await client(port);
    c.socket.write(
      request(API_VERSIONS_API, 3, 1, {
        clientSoftwareName: "t",
        clientSoftwareVersion: "1",
        clusterId: null,
        nodeId: -1,
      }),
    );
    const res = decodeApiVersionsResponse(body(await c.next(), API_VERSIONS_API, 3), 3);
    expect(res.errorCode).toBe(0);
    expect(res.apiKeys).toEqual(
      expected.map((h) => ({
        apiKey: h.apiKey,
        minVersion: h.advertisedMinVersion,
        maxVersion: h.maxVersion,
      })),
    );
    c.socket.destroy();
  });

  it("answers Metadata with this broker", async () => {
    const c = await client(port);
    c.socket.write(request(METADATA_API, 12, 2, { ...defaultMetadataRequest(), topics: null }));
    const frame = await c.next();
    expect(frame.readInt32BE(0)).toBe(2);
    const res = decodeMetadataResponse(body(frame, METADATA_API, 12), 12);
    expect(res.brokers).toEqual([expect.objectContaining({ host: "127.0.0.1", port })]);
    c.socket.destroy();
  });
});
