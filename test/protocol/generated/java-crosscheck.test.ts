/**
 * Differential test against Apache Kafka itself: frames encoded by Krill's generated codecs (from
 * arbitrary version-appropriate values) are decoded by Kafka's own generated Java message classes
 * and re-encoded; the bytes must come back identical. Needs a JDK and the Kafka jars the compat
 * suite resolves (compat-tests/.cache/kafka-<version>.classpath; by default the version the codecs
 * are generated from, tools/codegen/kafka-specs.ts; or KAFKA_VERSION, or KAFKA_CLASSPATH); skipped
 * without them. CROSSCHECK_RUNS sets the frames per version. Versions a Kafka release no longer
 * reads are counted, not failed; so are the spec's unstable latest versions.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { errorCodeInfo } from "../../../src/protocol/generated/error-codes.js";
import { Writer } from "../../../src/protocol/primitives/writer.js";
import { KAFKA_SPEC_VERSION } from "../../../tools/codegen/kafka-specs.js";
import { ArbitraryBuilder, codecOf, messages, SPEC_PRESENT, versionsOf } from "./schema-arbitraries.js";

const ROOT = resolve(import.meta.dirname, "../../..");
const JAVA_SOURCE = join(ROOT, "tools/codegen/crosscheck/KafkaCrossCheck.java");
const KAFKA_VERSION = process.env.KAFKA_VERSION ?? KAFKA_SPEC_VERSION;
const CLASSPATH_FILE = join(ROOT, `compat-tests/.cache/kafka-${KAFKA_VERSION}.classpath`);
const RUNS_PER_VERSION = Number(process.env.CROSSCHECK_RUNS ?? 3);

function classpath(): string | undefined {
  if (process.env.KAFKA_CLASSPATH) return process.env.KAFKA_CLASSPATH;
  return existsSync(CLASSPATH_FILE) ? readFileSync(CLASSPATH_FILE, "utf8").trim() : undefined;
}

function hasJavac(): boolean {
  return spawnSync("javac", ["-version"], { stdio: "ignore" }).status === 0;
}

const CP = classpath();
const AVAILABLE = SPEC_PRESENT && CP !== undefined && hasJavac();

interface Case {
  id: number;
  message: string;
  version: number;
  unstable: boolean;
  hex: string;
}

function compileHarness(): string {
  const classes = mkdtempSync(join(tmpdir(), "krill-crosscheck-"));
  const javac = spawnSync("javac", ["-cp", CP!, "-d", classes, JAVA_SOURCE], { encoding: "utf8" });
  if (javac.status !== 0) throw new Error(`javac failed: ${javac.stderr}`);
  return classes;
}

describe.skipIf(!AVAILABLE)(
  `generated codecs agree with Kafka ${KAFKA_VERSION}'s own message classes`,
  () => {
    test("every error code Kafka defines has the same name and retriability here", () => {
      const classes = compileHarness();
      try {
        const java = spawnSync("java", ["-cp", `${classes}:${CP}`, "KafkaCrossCheck", "errors"], {
          encoding: "utf8",
          timeout: 60_000,
        });
        expect(java.status, java.stderr).toBe(0);
        const lines = java.stdout.trim().split("\n");
        expect(lines.length).toBeGreaterThan(100);
        for (const line of lines) {
          const [code, name, retriable] = line.split(" ");
          const info = errorCodeInfo(Number(code));
          expect({ code: Number(code), name: info?.name, retriable: info?.retriable }).toEqual({
            code: Number(code),
            name,
            retriable: retriable === "true",
          });
        }
      } finally {
        rmSync(classes, { recursive: true, force: true });
      }
    });

    test("Kafka decodes and re-encodes every Krill encoding byte for byte", () => {
      const cases: Case[] = [];
      for (const m of messages()) {
        const codec = codecOf(m);
        for (const version of versionsOf(m)) {
          const unstable = m.latestVersionUnstable && version === m.validVersions.hi;
          const samples = fc.sample(new ArbitraryBuilder(m, version).message(), {
            numRuns: RUNS_PER_VERSION,
          });
          for (const msg of samples) {
            const w = new Writer(64);
            codec.encode(w, msg, version);
            cases.push({
              id: cases.length,
              message: m.name,
              version,
              unstable,
              hex: w.finish().toString("hex"),
            });
          }
        }
      }
      const classes = compileHarness();
      try {
        const input = cases.map((c) => `${c.id} ${c.message} ${c.version} ${c.hex}`).join("\n");
        const java = spawnSync("java", ["-cp", `${classes}:${CP}`, "KafkaCrossCheck"], {
          input,
          encoding: "utf8",
          maxBuffer: 256 << 20,
          timeout: 120_000,
        });
        expect(java.status, java.stderr).toBe(0);
        const results = new Map<number, string[]>();
        for (const line of java.stdout.trim().split("\n")) {
          const parts = line.split(" ");
          results.set(Number(parts[0]), parts.slice(1));
        }
        const counts = { agree: 0, unsupported: 0, unstableDiffer: 0 };
        const noClass = new Set<string>();
        const failures: string[] = [];
        for (const c of cases) {
          const r = results.get(c.id) ?? ["MISSING"];
          const where = `${c.message} v${c.version}`;
          if (r[0] === "NOCLASS") noClass.add(c.message);
          else if (r[0] === "UNSUPPORTED") counts.unsupported++;
          else if (r[0] === "OK" && r[1] === c.hex && r[2] === "0") counts.agree++;
          else if (c.unstable) counts.unstableDiffer++;
          else failures.push(`${where}: ${r.join(" ").slice(0, 300)}\n  krill ${c.hex}`);
        }
        console.log(
          `crosscheck vs Kafka ${KAFKA_VERSION}: ${cases.length} frames, ${counts.agree} byte-identical, ` +
            `${counts.unsupported} in versions Kafka ${KAFKA_VERSION} no longer reads, ` +
            `${counts.unstableDiffer} differing in unstable latest versions, ` +
            `${failures.length} failures; ` +
            `no Kafka class for: ${[...noClass].sort().join(", ") || "none"}`,
        );
        const byTarget = new Map<string, number>();
        for (const f of failures) {
          const key = f.slice(0, f.indexOf(":"));
          byTarget.set(key, (byTarget.get(key) ?? 0) + 1);
        }
        if (failures.length > 0)
          console.log([...byTarget.entries()].map(([k, n]) => `${k} x${n}`).join("\n"));
        expect(failures.slice(0, 10)).toEqual([]);
        expect(counts.agree).toBeGreaterThan(cases.length / 2);
      } finally {
        rmSync(classes, { recursive: true, force: true });
      }
    });
  },
);
