/**
 * Rewrites the generated parts of README.md from the reports they summarise, so the README
 * never drifts from them:
 *   - the compatibility table, from compat-tests/REPORT.md (written by `make compat`);
 *   - the benchmark headline, from bench/RESULTS.md (written by `make bench` / `make bench-quick`).
 * Each part sits between `<!-- NAME:begin -->` and `<!-- NAME:end -->` markers.
 *
 *   tsx scripts/update-readme.ts [--check]   (--check: exit 1 when README.md is out of date)
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The rows of the first Markdown table under `## heading` in `text`, cells trimmed. */
export function tableUnder(text: string, heading: string): string[][] {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.trim() === `## ${heading}`);
  if (start < 0) throw new Error(`no "## ${heading}" section`);
  const rows: string[][] = [];
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line.startsWith("## ")) break;
    if (!line.startsWith("|")) {
      if (rows.length > 0) break;
      continue;
    }
    const cells = line
      .slice(1, -1)
      .split("|")
      .map((c) => c.trim());
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue;
    rows.push(cells);
  }
  return rows;
}

interface TargetCount {
  passed: number;
  ran: number;
}

function countCell(count: TargetCount, cell: string | undefined): void {
  if (cell === undefined || cell.startsWith("not run")) return;
  count.ran++;
  if (cell.startsWith("pass")) count.passed++;
}

function formatCount(count: TargetCount, total: number): string {
  if (count.ran === 0) return "not run";
  const notRun = total - count.ran;
  return `${count.passed} / ${count.ran} pass${notRun > 0 ? ` (${notRun} not run)` : ""}`;
}

export function compatTable(report: string): string {
  const versions = new Map(
    tableUnder(report, "Client versions")
      .slice(1)
      .map((r) => [r[0]!, r[1]!]),
  );
  const matrix = tableUnder(report, "Matrix").slice(1);
  const byClient = new Map<string, { scenarios: string[]; krill: TargetCount; kafka: TargetCount }>();
  for (const [client, scenario, krill, kafka] of matrix) {
    if (client === undefined || scenario === undefined) continue;
    const entry = byClient.get(client) ?? {
      scenarios: [],
      krill: { passed: 0, ran: 0 },
      kafka: { passed: 0, ran: 0 },
    };
    entry.scenarios.push(scenario);
    countCell(entry.krill, krill);
    countCell(entry.kafka, kafka);
    byClient.set(client, entry);
  }
  const out = ["| Client | Version | Scenarios | Krill | Apache Kafka |", "| --- | --- | --- | --- | --- |"];
  for (const [client, e] of byClient) {
    const total = e.scenarios.length;
    out.push(
      `| ${client} | ${versions.get(client) ?? ""} | ${e.scenarios.join(", ")} | ${formatCount(e.krill, total)} | ${formatCount(e.kafka, total)} |`,
    );
  }
  return out.join("\n");
}

export function benchHeadline(results: string): string {
  const rows = tableUnder(results, "Headline");
  return rows
    .map((r, i) => {
      const line = `| ${r.join(" | ")} |`;
      return i === 0 ? `${line}\n|${" --- |".repeat(r.length)}` : line;
    })
    .join("\n");
}

function replaceSection(text: string, name: string, body: string): string {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`README.md lacks the ${begin} ... ${end} markers`);
  return `${text.slice(0, a + begin.length)}\n${body}\n${text.slice(b)}`;
}

function main(): void {
  const readmePath = join(root, "README.md");
  const readme = readFileSync(readmePath, "utf8");
  let next = replaceSection(
    readme,
    "compat-table",
    compatTable(readFileSync(join(root, "compat-tests/REPORT.md"), "utf8")),
  );
  next = replaceSection(
    next,
    "bench-headline",
    benchHeadline(readFileSync(join(root, "bench/RESULTS.md"), "utf8")),
  );
  if (process.argv.includes("--check")) {
    if (next !== readme) {
      console.error("README.md is out of date: run `tsx scripts/update-readme.ts`");
      process.exit(1);
    }
    return;
  }
  writeFileSync(readmePath, next);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
