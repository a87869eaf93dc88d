/**
 * Option parsing for the admin commands: `--name value`, `--name=value`, flags, repeated options
 * and positional arguments, against a closed list per command. Anything else is a UsageError
 * (exit status 2) naming the option and listing the accepted ones.
 */

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface OptionSpec {
  readonly name: string;
  /** Takes a value (`--name v` or `--name=v`); otherwise a flag. */
  readonly value?: boolean;
  /** Other spellings (Kafka's tools' names, short forms). */
  readonly aliases?: readonly string[];
}

export interface ParsedOptions {
  readonly positional: readonly string[];
  /** Every value given for an option with a value, in order, under the option's name. */
  readonly values: ReadonlyMap<string, readonly string[]>;
  readonly flags: ReadonlySet<string>;
}

/** The options every admin command takes. */
export const COMMON_OPTIONS: readonly OptionSpec[] = [
  { name: "--bootstrap-server", value: true, aliases: ["-b", "--brokers"] },
  { name: "--bootstrap-controller", value: true },
  { name: "--timeout", value: true },
  { name: "--command-config", value: true },
  { name: "--help", aliases: ["-h"] },
];

export function parseOptions(argv: readonly string[], specs: readonly OptionSpec[]): ParsedOptions {
  const all = [...COMMON_OPTIONS, ...specs];
  const byName = new Map<string, OptionSpec>();
  for (const spec of all) {
    byName.set(spec.name, spec);
    for (const alias of spec.aliases ?? []) byName.set(alias, spec);
  }
  const positional: string[] = [];
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-") || arg === "-") {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const spec = byName.get(name);
    if (spec === undefined) {
      throw new UsageError(`unknown option "${name}"; accepted: ${all.map((s) => s.name).join(", ")}`);
    }
    if (spec.value !== true) {
      if (name !== arg) throw new UsageError(`${spec.name} takes no value`);
      flags.add(spec.name);
      continue;
    }
    let value: string;
    if (name !== arg) value = arg.slice(eq + 1);
    else {
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`${spec.name} needs a value`);
      value = next;
    }
    const list = values.get(spec.name) ?? [];
    list.push(value);
    values.set(spec.name, list);
  }
  return { positional, values, flags };
}

/** The last value of an option, or undefined. */
export function optionValue(parsed: ParsedOptions, name: string): string | undefined {
  const list = parsed.values.get(name);
  return list === undefined ? undefined : list[list.length - 1];
}

/** An option's value as an integer in [min, max], or undefined when not given. */
export function intOption(parsed: ParsedOptions, name: string, min: number, max: number): number | undefined {
  const text = optionValue(parsed, name);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${name} must be an integer from ${min} to ${max}, got "${text}"`);
  }
  return n;
}

/**
 * `key=value` pairs from repeated options, each value also allowed as Kafka's comma-separated list
 * (`--add-config a=1,b=2`); `[...]` keeps commas inside a value, as kafka-configs does.
 */
export function keyValues(parsed: ParsedOptions, names: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of names) {
    for (const text of parsed.values.get(name) ?? []) {
      for (const pair of splitOutsideBrackets(text)) {
        const eq = pair.indexOf("=");
        if (eq <= 0) throw new UsageError(`${name} expects key=value, got "${pair}"`);
        let value = pair.slice(eq + 1);
        if (value.startsWith("[") && value.endsWith("]")) value = value.slice(1, -1);
        out.set(pair.slice(0, eq).trim(), value);
      }
    }
  }
  return out;
}

/** Repeated and comma-separated names (`--delete-config a,b --delete-config c`). */
export function names(parsed: ParsedOptions, optionNames: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of optionNames) {
    for (const text of parsed.values.get(name) ?? []) {
      for (const part of text.split(",")) if (part.trim() !== "") out.push(part.trim());
    }
  }
  return out;
}

function splitOutsideBrackets(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "[") depth++;
    else if (c === "]") depth = Math.max(0, depth - 1);
    else if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.filter((p) => p.trim() !== "");
}

/** The list under `key` in `map`, made and stored first when there is none. */
export function bucket<K, V>(map: Map<K, V[]>, key: K): V[] {
  let list = map.get(key);
  if (list === undefined) {
    list = [];
    map.set(key, list);
  }
  return list;
}
