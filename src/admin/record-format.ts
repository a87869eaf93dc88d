/**
 * How `krill produce` reads records from lines and `krill consume` writes them: pure functions,
 * unit-tested apart from the network.
 *
 * Output (`consume --format`):
 * - default: the value, one a line, `null` for a null value (kafka-console-consumer's default);
 * - `json`: one JSON object a line, rpk's shape:
 *   `{"topic":"t","key":"k","value":"v","headers":[{"key":"h","value":"x"}],"timestamp":1700000000000,"partition":0,"offset":5}`
 *   (key, value and header values are UTF-8 strings, or null);
 * - a format string with kcat's `-f` tokens: %t topic, %p partition, %o offset, %k key, %s value
 *   (%v too, rpk's name), %K / %S key / value length (-1 when null), %T timestamp (ms), %h headers
 *   (`k=v` comma-separated), %% a percent sign; \n \r \t \\ escapes. A null key or value prints
 *   as nothing, as in kcat.
 *
 * Input (`produce --format`):
 * - default (`text`): each line is a value; with `--key-separator SEP` (kcat's -K, the console
 *   producer's parse.key/key.separator) the part before the first SEP is the key, and a line
 *   without SEP is refused;
 * - `json`: each line is an object as `consume --format json` prints it (key, value, headers as
 *   an array of {key, value} or an object, partition, timestamp; other fields ignored), so
 *   `krill consume --format json | krill produce --format json` copies records, headers included.
 */
import { UsageError } from "./args.js";

export interface OutRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly timestamp: bigint;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly { readonly key: string; readonly value: Buffer | null }[];
}

export interface InRecord {
  key: string | null;
  value: string | null;
  headers: { key: string; value: string | null }[];
  /** From a JSON line; undefined: the partitioner chooses. */
  partition?: number;
  /** From a JSON line (ms); undefined: now. */
  timestamp?: number;
}

export type RecordFormatter = (r: OutRecord) => string;

const utf8 = (b: Buffer | null): string | null => (b === null ? null : b.toString("utf8"));

/** The formatter for `--format` (undefined: the default), or a UsageError. */
export function recordFormatter(format: string | undefined): RecordFormatter {
  if (format === undefined || format === "text") return (r) => `${utf8(r.value) ?? "null"}\n`;
  if (format === "json") {
    return (r) =>
      `${JSON.stringify({
        topic: r.topic,
        key: utf8(r.key),
        value: utf8(r.value),
        headers: r.headers.map((h) => ({ key: h.key, value: utf8(h.value) })),
        timestamp: Number(r.timestamp),
        partition: r.partition,
        offset: Number(r.offset),
      })}\n`;
  }
  if (!format.includes("%")) {
    throw new UsageError(
      `--format must be text, json or a format string with %-tokens (%k %s %t %p %o ...), got "${format}"`,
    );
  }
  const parts = compileFormat(format);
  return (r) => {
    let out = "";
    for (const p of parts) out += typeof p === "string" ? p : p(r);
    return out;
  };
}

type Part = string | ((r: OutRecord) => string);

function compileFormat(format: string): Part[] {
  const parts: Part[] = [];
  let literal = "";
  const flush = () => {
    if (literal !== "") parts.push(literal);
    literal = "";
  };
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c === "\\" && i + 1 < format.length) {
      const n = format[++i]!;
      literal += n === "n" ? "\n" : n === "r" ? "\r" : n === "t" ? "\t" : n;
      continue;
    }
    if (c !== "%") {
      literal += c;
      continue;
    }
    const token = format[++i];
    let part: ((r: OutRecord) => string) | undefined;
    switch (token) {
      case "%":
        literal += "%";
        continue;
      case "t":
        part = (r) => r.topic;
        break;
      case "p":
        part = (r) => String(r.partition);
        break;
      case "o":
        part = (r) => String(r.offset);
        break;
      case "k":
        part = (r) => utf8(r.key) ?? "";
        break;
      case "s":
      case "v":
        part = (r) => utf8(r.value) ?? "";
        break;
      case "K":
        part = (r) => String(r.key === null ? -1 : r.key.length);
        break;
      case "S":
        part = (r) => String(r.value === null ? -1 : r.value.length);
        break;
      case "T":
        part = (r) => String(r.timestamp);
        break;
      case "h":
        part = (r) => r.headers.map((h) => `${h.key}=${utf8(h.value) ?? ""}`).join(",");
        break;
      default:
        throw new UsageError(
          `--format: unknown token %${token ?? ""}; accepted: %t %p %o %k %s (%v) %K %S %T %h %%`,
        );
    }
    flush();
    parts.push(part);
  }
  flush();
  return parts;
}

/** `--header K=V` (repeatable, kcat's -H): the headers every produced record gets. */
export function parseHeaderOptions(values: readonly string[]): { key: string; value: string }[] {
  return values.map((text) => {
    const eq = text.indexOf("=");
    if (eq <= 0) throw new UsageError(`--header expects KEY=VALUE, got "${text}"`);
    return { key: text.slice(0, eq), value: text.slice(eq + 1) };
  });
}

/** The record a line holds, or an error message for the line. */
export type LineParser = (line: string) => InRecord | string;

/** The parser of `produce --format` lines. */
export function lineParser(
  format: string | undefined,
  keySeparator: string | undefined,
  headers: readonly { key: string; value: string }[],
): LineParser {
  if (format === "json") {
    if (keySeparator !== undefined)
      throw new UsageError("--key-separator is for --format text; JSON lines carry their key");
    return (line) => parseJsonLine(line, headers);
  }
  if (format !== undefined && format !== "text") {
    throw new UsageError(`produce --format must be text or json, got "${format}"`);
  }
  if (keySeparator === "") throw new UsageError("--key-separator must not be empty");
  return (line) => {
    if (keySeparator === undefined) return { key: null, value: line, headers: [...headers] };
    const at = line.indexOf(keySeparator);
    if (at < 0) return `no key separator "${keySeparator}" in the line`;
    return { key: line.slice(0, at), value: line.slice(at + keySeparator.length), headers: [...headers] };
  };
}

function parseJsonLine(line: string, extra: readonly { key: string; value: string }[]): InRecord | string {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch (err) {
    return `not JSON: ${(err as Error).message}`;
  }
  if (o === null || typeof o !== "object" || Array.isArray(o)) return "not a JSON object";
  const obj = o as Record<string, unknown>;
  const str = (name: string): string | null | string[] => {
    const v = obj[name];
    if (v === undefined || v === null) return null;
    if (typeof v === "string") return v;
    // A JSON value that is not a string is produced as its JSON text.
    return JSON.stringify(v);
  };
  const headers: { key: string; value: string | null }[] = [...extra];
  const h = obj.headers;
  if (Array.isArray(h)) {
    for (const item of h) {
      if (item === null || typeof item !== "object" || typeof (item as { key?: unknown }).key !== "string") {
        return 'headers must be [{"key": "...", "value": "..."}] or {"key": "value"}';
      }
      const v = (item as { value?: unknown }).value;
      headers.push({
        key: (item as { key: string }).key,
        value: v === null || v === undefined ? null : String(v),
      });
    }
  } else if (h !== undefined && h !== null) {
    if (typeof h !== "object") return 'headers must be [{"key": "...", "value": "..."}] or {"key": "value"}';
    for (const [k, v] of Object.entries(h)) headers.push({ key: k, value: v === null ? null : String(v) });
  }
  const record: InRecord = {
    key: str("key") as string | null,
    value: str("value") as string | null,
    headers,
  };
  if (obj.partition !== undefined && obj.partition !== null) {
    if (!Number.isInteger(obj.partition) || (obj.partition as number) < 0)
      return "partition must be a non-negative integer";
    record.partition = obj.partition as number;
  }
  if (obj.timestamp !== undefined && obj.timestamp !== null) {
    if (!Number.isInteger(obj.timestamp) || (obj.timestamp as number) < 0)
      return "timestamp must be milliseconds since the epoch";
    record.timestamp = obj.timestamp as number;
  }
  return record;
}

/**
 * `--offset` of consume: where each partition starts.
 * beginning|earliest, end|latest, N (absolute), -N (N before the end, kcat's negative offset),
 * @TIME (the first offset at or after TIME: milliseconds since the epoch or an ISO-8601 date).
 */
export type StartSpec =
  | { readonly kind: "earliest" }
  | { readonly kind: "latest" }
  | { readonly kind: "offset"; readonly offset: bigint }
  | { readonly kind: "fromEnd"; readonly count: bigint }
  | { readonly kind: "timestamp"; readonly timestampMs: bigint };

export function parseStartSpec(text: string): StartSpec {
  const t = text.trim();
  if (t === "beginning" || t === "earliest") return { kind: "earliest" };
  if (t === "end" || t === "latest") return { kind: "latest" };
  if (/^\d+$/.test(t)) return { kind: "offset", offset: BigInt(t) };
  if (/^-\d+$/.test(t)) return { kind: "fromEnd", count: -BigInt(t) };
  if (t.startsWith("@")) return { kind: "timestamp", timestampMs: parseTime(t.slice(1), "--offset @TIME") };
  throw new UsageError(`--offset must be beginning, end, N, -N or @TIME, got "${text}"`);
}

/** Milliseconds since the epoch, or an ISO-8601 date/time (UTC unless it names a zone). */
export function parseTime(text: string, what: string): bigint {
  if (/^\d+$/.test(text)) return BigInt(text);
  // As Kafka's Utils.getDateTime: a date-time without a zone is UTC.
  const iso = /[zZ]|[+-]\d\d:?\d\d$/.test(text) || !text.includes("T") ? text : `${text}Z`;
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms))
    throw new UsageError(`${what}: "${text}" is neither milliseconds nor an ISO-8601 date`);
  return BigInt(ms);
}

/** Kafka's default partitioner for keyed records: murmur2 of the key, positive, modulo the count. */
export function partitionForKey(key: Buffer, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

/** Kafka's Utils.murmur2 (seed 0x9747b28c), as a signed 32-bit integer. */
export function murmur2(data: Buffer): number {
  const length = data.length;
  const m = 0x5bd1e995;
  const r = 24;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k =
      (data[i4]! & 0xff) +
      ((data[i4 + 1]! & 0xff) << 8) +
      ((data[i4 + 2]! & 0xff) << 16) +
      ((data[i4 + 3]! & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const rest = length & 3;
  const base = length & ~3;
  if (rest === 3) h ^= (data[base + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (data[base + 1]! & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[base]! & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}
