/**
 * The shape of a configuration key, shared by broker and topic configs: Kafka's name, type,
 * default, validator, documentation (our own words) and how it may be changed at run time. A
 * value is parsed from its string form once; the string form is kept too, because
 * DescribeConfigs reports strings.
 */
import { KrillError } from "../errors.js";

/** Kafka's ConfigDef types; the numeric codes are DescribeConfigs' ConfigType (v3+). */
export const CONFIG_TYPE_CODES = {
  BOOLEAN: 1,
  STRING: 2,
  INT: 3,
  SHORT: 4,
  LONG: 5,
  DOUBLE: 6,
  LIST: 7,
  CLASS: 8,
  PASSWORD: 9,
} as const;
export type ConfigType = keyof typeof CONFIG_TYPE_CODES;

/** Parsed value. LONG values are JS numbers: exact up to 2^53, which covers every real setting. */
export type ConfigValue = boolean | number | string | readonly string[] | null;

export type UpdateMode = "read-only" | "per-broker" | "cluster-wide";

export interface Validator {
  /** Returns undefined when valid, else nothing: the caller reports `accepted`. */
  check(value: ConfigValue): boolean;
  /** Human description of accepted values, used in error messages and documentation. */
  readonly accepted: string;
}

export interface ConfigDef {
  readonly name: string;
  readonly type: ConfigType;
  /** Default as Kafka would print it; null means "no default" (unset). */
  readonly defaultValue: string | null;
  readonly doc: string;
  readonly validator?: Validator;
  readonly updateMode: UpdateMode;
  readonly sensitive?: boolean;
}

export const INT32_MAX = 2147483647;
export const INT32_MIN = -2147483648;
/** Long.MAX_VALUE as Kafka prints it; parses to 2^63 as a JS number, i.e. "no limit". */
export const LONG_MAX_TEXT = "9223372036854775807";

export function atLeast(min: number): Validator {
  return { check: (v) => v === null || (typeof v === "number" && v >= min), accepted: `[${min},...]` };
}

export function between(min: number, max: number): Validator {
  return {
    check: (v) => v === null || (typeof v === "number" && v >= min && v <= max),
    accepted: `[${min},...,${max}]`,
  };
}

export function oneOf(values: readonly string[], caseInsensitive = false): Validator {
  const allowed = new Set(caseInsensitive ? values.map((s) => s.toLowerCase()) : values);
  return {
    check: (v) => v === null || (typeof v === "string" && allowed.has(caseInsensitive ? v.toLowerCase() : v)),
    accepted: `[${values.join(", ")}]`,
  };
}

/** Every element of a LIST must be one of `values`. */
export function listOf(values: readonly string[], allowEmpty: boolean): Validator {
  const allowed = new Set(values);
  return {
    check: (v) =>
      v === null ||
      (Array.isArray(v) && (allowEmpty || v.length > 0) && v.every((item) => allowed.has(item))),
    accepted: `a comma-separated list of [${values.join(", ")}]${allowEmpty ? "" : " (not empty)"}`,
  };
}

export function nonEmptyString(): Validator {
  return {
    check: (v) => v === null || (typeof v === "string" && v.length > 0),
    accepted: "a non-empty string",
  };
}

/**
 * Parses the string form of a value for `def`, throwing CONFIG_INVALID with the key and the
 * accepted values on failure. Leading and trailing whitespace is trimmed as Kafka does.
 */
export function parseConfigValue(def: ConfigDef, text: string | null, origin: string): ConfigValue {
  if (text === null) return null;
  const trimmed = def.type === "PASSWORD" ? text : text.trim();
  const fail = (why: string): never => {
    const accepted = def.validator ? `; accepted values: ${def.validator.accepted}` : "";
    throw new KrillError(
      "CONFIG_INVALID",
      `Invalid value "${text}" for configuration ${def.name} (${origin}): ${why}${accepted}`,
    );
  };
  let value: ConfigValue;
  switch (def.type) {
    case "BOOLEAN": {
      const lower = trimmed.toLowerCase();
      if (lower !== "true" && lower !== "false") fail("expected true or false");
      value = lower === "true";
      break;
    }
    case "INT":
    case "SHORT":
    case "LONG": {
      if (!/^[+-]?\d+$/.test(trimmed)) fail(`expected a whole number (${def.type.toLowerCase()})`);
      const big = BigInt(trimmed);
      const [lo, hi] =
        def.type === "INT"
          ? [BigInt(INT32_MIN), BigInt(INT32_MAX)]
          : def.type === "SHORT"
            ? [-32768n, 32767n]
            : [-(2n ** 63n), 2n ** 63n - 1n];
      if (big < lo || big > hi) fail(`out of range for a ${def.type.toLowerCase()}`);
      value = Number(big);
      break;
    }
    case "DOUBLE": {
      const n = Number(trimmed);
      if (trimmed === "" || !Number.isFinite(n)) fail("expected a number");
      value = n;
      break;
    }
    case "LIST":
      value =
        trimmed === ""
          ? []
          : trimmed
              .split(",")
              .map((s) => s.trim())
              .filter((s) => s.length > 0);
      break;
    case "STRING":
    case "CLASS":
    case "PASSWORD":
      value = trimmed;
      break;
  }
  if (def.validator && !def.validator.check(value)) fail("not an accepted value");
  return value;
}

/** Kafka's canonical string form of a parsed value (lists joined by ","). */
export function formatConfigValue(value: ConfigValue): string | null {
  if (value === null) return null;
  if (Array.isArray(value)) return value.join(",");
  // Long.MAX_VALUE parses to 2^63 as a double; print it as Kafka does rather than 9223372036854776000.
  if (typeof value === "number" && value >= 2 ** 63) return LONG_MAX_TEXT;
  return String(value);
}
