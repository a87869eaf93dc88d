// Writes compat-tests/REPORT.md from the results files run-all.sh leaves, one per target:
//   tsx report.ts --out REPORT.md --results kafka=FILE --results krill=FILE
// Each results file is tab-separated (see lib/common.sh): "result" rows (target, client, scenario,
// pass|fail, duration ms, reason), "version" rows (client, version) and "meta" rows (target, key,
// value) for the broker, its start-up time and the suite duration. A missing file means that
// target was not run; its column then says so rather than being left out.
import { existsSync, readFileSync, writeFileSync } from "node:fs";

interface Result {
  status: "pass" | "fail";
  durationMs: number;
  reason: string;
}

interface TargetRun {
  target: string;
  meta: Map<string, string>;
  results: Map<string, Result>; // key: client \t scenario
}

// Targets in the order of the matrix columns: the broker under test first, then the reference.
const TARGET_ORDER = ["krill", "kafka"];
const TARGET_TITLES: Record<string, string> = { krill: "Krill", kafka: "Apache Kafka (reference)" };

function parseArgs(argv: string[]): { out: string; results: Map<string, string> } {
  let out = "";
  const results = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === "--out" && value) {
      out = value;
      i++;
    } else if (arg === "--results" && value?.includes("=")) {
      const at = value.indexOf("=");
      results.set(value.slice(0, at), value.slice(at + 1));
      i++;
    } else {
      throw new Error(`report: unexpected argument ${arg}`);
    }
  }
  if (!out) throw new Error("report: --out is required");
  return { out, results };
}

function load(target: string, file: string, versions: Map<string, string>, order: string[]): TargetRun {
  const run: TargetRun = { target, meta: new Map(), results: new Map() };
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const cols = line.split("\t");
    if (cols[0] === "result" && cols.length >= 6) {
      const [, , client, scenario, status, ms, reason] = cols;
      const key = `${client}\t${scenario}`;
      if (!order.includes(key)) order.push(key);
      run.results.set(key, {
        status: status === "pass" ? "pass" : "fail",
        durationMs: Number(ms),
        reason: reason ?? "",
      });
    } else if (cols[0] === "version" && cols.length >= 3) {
      versions.set(cols[1]!, cols[2]!);
    } else if (cols[0] === "meta" && cols.length >= 4) {
      run.meta.set(cols[2]!, cols[3]!);
    }
  }
  return run;
}

/** Table cells must not break the table: no pipes or line breaks. */
function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\s+/g, " ").trim();
}

function seconds(ms: number | string | undefined): string {
  const n = Number(ms);
  return Number.isFinite(n) && ms !== undefined && ms !== "" ? `${(n / 1000).toFixed(1)} s` : "-";
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cols: string[]) => `| ${cols.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(header), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)].join("\n");
}

function main(): void {
  const { out, results } = parseArgs(process.argv.slice(2));
  const versions = new Map<string, string>();
  const order: string[] = [];
  const runs = new Map<string, TargetRun>();
  for (const target of TARGET_ORDER) {
    const file = results.get(target);
    if (file && existsSync(file)) runs.set(target, load(target, file, versions, order));
  }
  const lines: string[] = [];
  lines.push("# Compatibility report", "");
  lines.push(
    "Written by `compat-tests/run-all.sh` (`make compat`); do not edit by hand. Every scenario runs " +
      "against Krill and against the reference Apache Kafka. A scenario that fails on Kafka is a broken " +
      "scenario; one that passes on Kafka and fails on Krill is a Krill bug (record it in the client's " +
      "`FINDINGS.md`).",
    "",
  );
  lines.push("## Runs", "");
  lines.push(
    table(
      ["Target", "Broker", "Run at (UTC)", "Broker start-up", "Suite duration", "Passed"],
      TARGET_ORDER.map((target) => {
        const run = runs.get(target);
        if (!run) return [TARGET_TITLES[target] ?? target, "not run", "-", "-", "-", "-"];
        const passed = [...run.results.values()].filter((r) => r.status === "pass").length;
        return [
          TARGET_TITLES[target] ?? target,
          cell(run.meta.get("broker") ?? target),
          cell(
            `${run.meta.get("started_at") ?? "-"}${run.meta.has("partial_started_at") ? `, partly re-run ${run.meta.get("partial_started_at")}` : ""}`,
          ),
          run.meta.has("startup_ms")
            ? seconds(run.meta.get("startup_ms"))
            : cell(run.meta.get("startup_error") ?? "-"),
          seconds(run.meta.get("suite_ms")),
          `${passed} / ${run.results.size}`,
        ];
      }),
    ),
    "",
  );
  lines.push("## Client versions", "");
  lines.push(
    table(
      ["Client", "Version"],
      [...versions].map(([client, version]) => [client, cell(version)]),
    ),
    "",
  );
  lines.push("## Matrix", "");
  const columns = TARGET_ORDER.map((t) => TARGET_TITLES[t] ?? t);
  const rows = order.map((key) => {
    const [client, scenario] = key.split("\t") as [string, string];
    return [
      client,
      scenario,
      ...TARGET_ORDER.map((target) => {
        const run = runs.get(target);
        const r = run?.results.get(key);
        if (!run) return "not run";
        if (!r) return "not run";
        if (r.status === "pass") return `pass (${seconds(r.durationMs)})`;
        // Listed in known-gaps.txt: tied to an open FINDINGS.md row, does not fail the run.
        const known = r.reason.startsWith("[known gap]") ? " known gap" : "";
        return `**FAIL**${known} (${seconds(r.durationMs)})`;
      }),
    ];
  });
  lines.push(table(["Client", "Scenario", ...columns], rows), "");
  const failures: string[][] = [];
  for (const target of TARGET_ORDER) {
    for (const [key, r] of runs.get(target)?.results ?? []) {
      if (r.status === "fail") {
        const [client, scenario] = key.split("\t") as [string, string];
        failures.push([
          TARGET_TITLES[target] ?? target,
          client,
          scenario,
          cell(r.reason || "(no reason printed)"),
        ]);
      }
    }
  }
  lines.push("## Failures", "");
  if (failures.length === 0) lines.push("None.", "");
  else
    lines.push(
      table(["Target", "Client", "Scenario", "Reason (last line of the scenario's output)"], failures),
      "",
    );
  lines.push("Full output of each scenario: `compat-tests/.work/logs/<target>/<client>/<scenario>.log`.", "");
  writeFileSync(out, lines.join("\n"));
}

main();
