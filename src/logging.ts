/**
 * The broker's logger: pino, configured so that every line an operator reads has an ISO-8601
 * timestamp and a level name (`{"level":"info","time":"2026-12-03T13:45:08.123Z",...}`), in one of
 * two formats (`krill.log.format`):
 *
 * - `json`: one JSON object per line, for log collectors (the default when stdout is not a
 *   terminal, as in a container);
 * - `pretty`: `2026-12-03T13:45:08.123Z INFO  broker started nodeId=1 ...`, for terminals and
 *   `make run` (the default on a TTY), made here from the same JSON line, so no pretty-printing
 *   dependency is needed.
 *
 * The level comes from KRILL_LOG_LEVEL (trace, debug, info, warn, error, fatal, silent).
 *
 * Also `RateLimitedWarning`: warnings caused by clients (a malformed frame, an unsupported
 * version) are logged at most once per interval and key, with the count of the ones held back, so
 * a misbehaving client cannot flood the log.
 */
import { type DestinationStream, type Logger, pino } from "pino";
import type { Clock } from "./clock.js";

export type LogFormat = "json" | "pretty";

export interface LoggerOptions {
  readonly level?: string;
  /** `json`, `pretty`, or `auto`/undefined: pretty when `destination` is stdout and a terminal. */
  readonly format?: LogFormat | "auto";
  readonly name?: string;
  /** Where lines go (default stdout). */
  readonly destination?: { write(line: string): unknown; isTTY?: boolean };
}

/** Resolves `auto` as the CLI does: pretty on a terminal, JSON elsewhere. */
export function resolveLogFormat(format: string | undefined, isTTY: boolean): LogFormat {
  if (format === "json" || format === "pretty") return format;
  return isTTY ? "pretty" : "json";
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const out = options.destination ?? process.stdout;
  const format = resolveLogFormat(options.format, out.isTTY === true);
  const pinoOptions = {
    name: options.name ?? "krill",
    level: options.level ?? process.env.KRILL_LOG_LEVEL ?? "info",
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (format === "json") {
    return options.destination === undefined
      ? pino(pinoOptions)
      : pino(pinoOptions, options.destination as DestinationStream);
  }
  const color = out.isTTY === true && process.env.NO_COLOR === undefined;
  return pino(pinoOptions, { write: (line: string) => out.write(prettyLine(line, color)) });
}

const LEVEL_COLORS: Readonly<Record<string, string>> = {
  trace: "\x1b[90m",
  debug: "\x1b[36m",
  info: "\x1b[32m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
  fatal: "\x1b[41m",
};
/** Fields every line has, shown in the prefix or not at all. */
const PREFIX_FIELDS = new Set(["level", "time", "msg", "pid", "hostname", "name", "err"]);

/** One JSON line as `TIME LEVEL message key=value ...`, an error's stack on the lines below. */
export function prettyLine(json: string, color = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith("\n") ? json : `${json}\n`;
  }
  const level = String(entry.level ?? "");
  const label = level.toUpperCase().padEnd(5);
  const shownLevel = color ? `${LEVEL_COLORS[level] ?? ""}${label}\x1b[0m` : label;
  const fields: string[] = [];
  for (const [key, value] of Object.entries(entry)) {
    if (PREFIX_FIELDS.has(key)) continue;
    const text = typeof value === "string" ? value : JSON.stringify(value);
    fields.push(`${key}=${typeof value === "string" && /[\s"=]/.test(value) ? JSON.stringify(value) : text}`);
  }
  let line = `${String(entry.time ?? "")} ${shownLevel} ${String(entry.msg ?? "")}`;
  if (fields.length > 0) line += ` ${fields.join(" ")}`;
  const err = entry.err as { stack?: string; message?: string } | undefined;
  if (err !== undefined)
    line += `\n    ${(err.stack ?? err.message ?? JSON.stringify(err)).replaceAll("\n", "\n    ")}`;
  return `${line}\n`;
}

/**
 * Warnings about what clients send, at most one per `intervalMs` per key; the next one logged
 * says how many were held back since (`suppressed`). Keys are bounded: past `maxKeys` the oldest
 * is forgotten (its next warning is then logged at once).
 *
 * Concurrency: single-threaded, called on the event loop.
 */
export class RateLimitedWarning {
  readonly #last = new Map<string, { atMs: number; suppressed: number }>();

  constructor(
    private readonly clock: Pick<Clock, "nowMs">,
    private readonly intervalMs = 10_000,
    private readonly maxKeys = 1_000,
  ) {}

  /** Logs `message` on `logger` unless one with the same key was logged less than the interval ago. */
  warn(
    logger: { warn(fields: object, message: string): void },
    key: string,
    fields: object,
    message: string,
  ): void {
    const now = this.clock.nowMs();
    const last = this.#last.get(key);
    if (last !== undefined && now - last.atMs < this.intervalMs) {
      last.suppressed++;
      return;
    }
    const suppressed = last?.suppressed ?? 0;
    this.#last.delete(key);
    this.#last.set(key, { atMs: now, suppressed: 0 });
    if (this.#last.size > this.maxKeys) this.#last.delete(this.#last.keys().next().value!);
    logger.warn(suppressed > 0 ? { ...fields, suppressed } : fields, message);
  }
}
