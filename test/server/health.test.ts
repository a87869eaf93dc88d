import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { afterEach, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../src/index.js";
import { BrokerHealth } from "../../src/server/health.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Starts a broker with the metrics endpoint on a random high port (0 disables it). */
async function startWithMetrics(logDir: string): Promise<{ broker: BrokerHandle; url: string }> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 8; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    try {
      const broker = await startBroker({
        "metrics.port": port,
        "metrics.host": "127.0.0.1",
        "log.dirs": logDir,
      });
      return { broker, url: `http://127.0.0.1:${port}` };
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

async function readyReport(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/ready`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("BrokerHealth", () => {
  it("is ready only when serving with metadata, logs, registration and loaded coordinators", () => {
    const h = new BrokerHealth();
    expect(h.report()).toMatchObject({ ready: false, phase: "starting", groupCoordinator: "loading" });
    h.metadataLoaded = true;
    h.logsLoaded = true;
    h.registered = true;
    let groups: "loaded" | "loading" | "no topic yet" = "loading";
    h.coordinators = () => ({ groups, transactions: "no topic yet" });
    h.phase = "serving";
    expect(h.report().ready).toBe(false);
    groups = "loaded";
    expect(h.report()).toMatchObject({
      ready: true,
      groupCoordinator: "loaded",
      transactionCoordinator: "no topic yet",
    });
    h.phase = "stopping";
    expect(h.report().ready).toBe(false);
  });
});

describe("/health and /ready on the metrics port", () => {
  it("answers the probes, and after a restart reports the group coordinator loaded", async () => {
    const logDir = mkdtempSync(path.join(os.tmpdir(), "krill-health-"));
    dirs.push(logDir);
    let { broker, url } = await startWithMetrics(logDir);
    try {
      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: "up" });
      const fresh = await readyReport(url);
      expect(fresh.status).toBe(200);
      expect(fresh.body).toEqual({
        ready: true,
        phase: "serving",
        metadataLoaded: true,
        logsLoaded: true,
        registered: true,
        groupCoordinator: "no topic yet",
        transactionCoordinator: "no topic yet",
      });
      expect((await fetch(`${url}/ready`, { method: "POST" })).status).toBe(405);
      // A group lookup creates __consumer_offsets and loads it.
      const admin = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      await admin.describeGroups(["g"]);
      await admin.disconnect();
      expect((await readyReport(url)).body.groupCoordinator).toBe("loaded");
    } finally {
      await broker.stop();
    }
    ({ broker, url } = await startWithMetrics(logDir));
    try {
      const deadline = Date.now() + 30_000;
      let report = await readyReport(url);
      while (report.status !== 200 && Date.now() < deadline) {
        expect(report.body.groupCoordinator).toBe("loading");
        await new Promise((resolve) => setTimeout(resolve, 50));
        report = await readyReport(url);
      }
      expect(report.status).toBe(200);
      expect(report.body.groupCoordinator).toBe("loaded");
    } finally {
      await broker.stop();
    }
  });
});
