// The report of one chaos run: report.md (for people: the replay command, faults injected,
// operation counts, every anomaly with the history around it) and result.json (for tools: the
// same without the full history, which is in history.jsonl beside it).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ANOMALY_TYPES, type Anomaly, type ContextOp } from "./checker.js";
import type { RunResult } from "./runner.js";
import { scenarioNamed } from "./scenarios.js";

function contextLine(c: ContextOp): string {
  const error = c.error ? `  (${c.error})` : "";
  return `    #${c.index} ${c.process} ${c.type} ${c.f} ${JSON.stringify(c.value)}${error}`;
}

function anomalyLine(a: Anomaly): string {
  const parts: string[] = [];
  if (a.key !== undefined) parts.push(`key ${a.key}`);
  if (a.offset !== undefined) parts.push(`offset ${a.offset}`);
  if (a.offsets !== undefined) parts.push(`offsets ${a.offsets.join(", ")}`);
  if (a.value !== undefined) parts.push(`value ${a.value}`);
  if (a.values !== undefined) parts.push(`values ${a.values.join(" → ")}`);
  if (a.delta !== undefined) parts.push(`delta ${a.delta}`);
  if (a.maxReadOffset !== undefined) parts.push(`highest offset read ${a.maxReadOffset}`);
  if (a.skipped !== undefined)
    parts.push(`skipped ${a.skipped.slice(0, 10).join(", ")}${a.skipped.length > 10 ? ", …" : ""}`);
  if (a.cycle !== undefined) {
    parts.push(
      a.cycle
        .map(
          (s) =>
            `#${s.from} -${s.kind}(${s.why.key} ${s.why.value}${s.why.next ? ` < ${s.why.next}` : ""})-> #${s.to}`,
        )
        .join(", "),
    );
  }
  parts.push(`ops ${a.ops.map((i) => `#${i}`).join(", ")}`);
  return parts.join("; ");
}

export function replayCommand(run: RunResult): string {
  const o = run.options;
  return [
    "chaos/run.sh",
    `--target ${o.target}`,
    `--seed ${o.seed}`,
    ...(o.scenario === undefined ? [`--steps ${o.steps}`] : []),
    `--step-ms ${o.stepMs}`,
    ...(o.scenario === undefined ? [`--faults ${o.faults.join(",")}`] : []),
    `--clients ${o.clients.join(",")}`,
    `--net ${o.net}`,
    ...(o.nodes !== undefined ? [`--nodes ${o.nodes}`] : []),
    ...(o.scenario !== undefined ? [`--scenario ${o.scenario}`] : []),
    ...(o.partitions !== undefined ? [`--partitions ${o.partitions}`] : []),
  ].join(" ");
}

export function renderReport(run: RunResult): string {
  const o = run.options;
  const r = run.result;
  const lines: string[] = [];
  lines.push(
    `# Chaos run: ${o.target}, ${o.scenario !== undefined ? `scenario ${o.scenario}` : `seed ${o.seed}`}`,
  );
  lines.push("");
  lines.push(
    `**${r.valid ? "VALID" : "INVALID"}**: ${r.valid ? "no anomaly outside the allowed types" : `found ${r.badTypes.join(", ")}`}`,
  );
  lines.push("");
  lines.push(`- Replay: \`${replayCommand(run)}\``);
  const scenario = o.scenario === undefined ? undefined : scenarioNamed(o.scenario);
  lines.push(
    scenario !== undefined
      ? `- Scenario: ${scenario.name} (${scenario.origin}): ${scenario.description} Steps of ${o.stepMs} ms; network ${o.net}`
      : `- Schedule: ${o.steps} steps of ${o.stepMs} ms; faults ${o.faults.join(", ")}; network ${o.net}`,
  );
  if (run.unsupported.length > 0)
    lines.push(`- Not possible here (left out of the schedule): ${run.unsupported.join(", ")}`);
  lines.push(
    `- Clients: ${o.clients.join(", ")}; exits ${run.clientExits.map((c) => `${c.name}=${c.code}`).join(" ")}`,
  );
  lines.push(`- Duration: ${(run.durationMs / 1000).toFixed(1)} s`);
  lines.push("");
  lines.push(`## Faults injected (${run.faults.length})`);
  lines.push("");
  const byKind = new Map<string, number>();
  for (const f of run.faults) byKind.set(f.fault.kind, (byKind.get(f.fault.kind) ?? 0) + 1);
  lines.push(`By kind: ${[...byKind].map(([k, n]) => `${k} ${n}`).join(", ") || "none"}.`);
  lines.push("");
  lines.push("| step | at (s) | fault | took (ms) | error |");
  lines.push("| --- | --- | --- | --- | --- |");
  for (const f of run.faults) {
    lines.push(
      `| ${f.step} | ${(f.atMs / 1000).toFixed(1)} | ${f.description} | ${f.tookMs} | ${f.error ?? ""} |`,
    );
  }
  lines.push("");
  lines.push("## Operations");
  lines.push("");
  lines.push("| f | ok | info | fail |");
  lines.push("| --- | --- | --- | --- |");
  for (const [f, t] of Object.entries(r.stats.byF)) lines.push(`| ${f} | ${t.ok} | ${t.info} | ${t.fail} |`);
  lines.push("");
  lines.push(
    `Sends: ${r.stats.sends.ok} ok, ${r.stats.sends.info} unknown, ${r.stats.sends.fail} failed; ` +
      `records polled: ${r.stats.polledRecords} (${r.stats.distinctValuesRead} distinct); keys: ${r.stats.keys}.`,
  );
  lines.push("");
  lines.push("## Anomalies");
  lines.push("");
  const found = ANOMALY_TYPES.filter((t) => r.counts[t] !== undefined);
  if (found.length === 0) lines.push("None.");
  for (const type of found) {
    const list = r.anomalies[type]!;
    const allowed = !r.badTypes.includes(type);
    lines.push(`### ${type}: ${list.length}${allowed ? " (allowed)" : ""}`);
    lines.push("");
    for (const a of list.slice(0, 20)) {
      lines.push(`- ${anomalyLine(a)}`);
      if (a.context !== undefined && a.context.length > 0) {
        lines.push("");
        lines.push("  ```");
        for (const c of a.context.slice(0, 40)) lines.push(contextLine(c));
        if (a.context.length > 40) lines.push(`    … ${a.context.length - 40} more ops`);
        lines.push("  ```");
      }
    }
    if (list.length > 20) lines.push(`- … ${list.length - 20} more (all in result.json)`);
    lines.push("");
  }
  return `${lines.join("\n")}\n`;
}

export function writeReport(run: RunResult): void {
  writeFileSync(run.reportPath, renderReport(run));
  const { history: _history, ...rest } = run;
  writeFileSync(join(run.reportPath, "..", "result.json"), `${JSON.stringify(rest, null, 1)}\n`);
}
