/**
 * Parser for Java `.properties` text (the format of Kafka's server.properties), following
 * java.util.Properties#load: `#` or `!` comment lines, `=`, `:` or whitespace between key and
 * value, backslash escapes (\t \n \r \f \uXXXX, anything else stands for itself), and a line
 * ending in an odd number of backslashes continues on the next line with its leading whitespace
 * dropped. Later keys replace earlier ones, as in Java.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { KrillError } from "../errors.js";

/** Refuse files far larger than any real configuration, so a wrong path cannot eat memory. */
export const PROPERTIES_TEXT_LENGTH_MAX = 4 * 1024 * 1024;

export function parseProperties(text: string, source = "properties"): Map<string, string> {
  return parsePropertiesWithLines(text, source).values;
}

/**
 * A properties file as read, with the line each key was set on (the last setting wins, as its
 * line does), so errors can name `file:line`.
 */
export class PropertiesFile {
  constructor(
    /** The file actually read, as an absolute path. */
    readonly path: string,
    readonly values: ReadonlyMap<string, string>,
    readonly lineOf: ReadonlyMap<string, number>,
  ) {}

  /** `path:line` for a key of this file. */
  origin(key: string): string {
    const line = this.lineOf.get(key);
    return line === undefined ? this.path : `${this.path}:${line}`;
  }

  static read(filePath: string): PropertiesFile {
    const absolute = path.resolve(filePath);
    let text: string;
    try {
      text = readFileSync(absolute, "utf8");
    } catch (err) {
      throw new KrillError(
        "CONFIG_INVALID",
        `cannot read config file ${absolute}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    const { values, lineOf } = parsePropertiesWithLines(text, absolute);
    return new PropertiesFile(absolute, values, lineOf);
  }
}

export function parsePropertiesWithLines(
  text: string,
  source = "properties",
): { values: Map<string, string>; lineOf: Map<string, number> } {
  if (text.length > PROPERTIES_TEXT_LENGTH_MAX) {
    throw new KrillError(
      "CONFIG_INVALID",
      `${source}: ${text.length} characters exceeds the ${PROPERTIES_TEXT_LENGTH_MAX} limit`,
    );
  }
  const result = new Map<string, string>();
  const lineOf = new Map<string, number>();
  const lines = text.split(/\r\n|\r|\n/);
  let lineIndex = 0;
  while (lineIndex < lines.length) {
    const firstLineNumber = lineIndex + 1;
    let logical = stripLeadingWhitespace(lines[lineIndex] ?? "");
    lineIndex++;
    if (logical.length === 0 || logical[0] === "#" || logical[0] === "!") continue;
    // Join continuation lines: an odd count of trailing backslashes escapes the line break.
    while (endsWithOddBackslashes(logical)) {
      logical = logical.slice(0, -1);
      if (lineIndex >= lines.length) break;
      logical += stripLeadingWhitespace(lines[lineIndex] ?? "");
      lineIndex++;
    }
    const { key, value } = splitKeyValue(logical, source, firstLineNumber);
    result.delete(key);
    result.set(key, value);
    lineOf.set(key, firstLineNumber);
  }
  return { values: result, lineOf };
}

function stripLeadingWhitespace(line: string): string {
  let i = 0;
  while (i < line.length && isPropertiesWhitespace(line.charCodeAt(i))) i++;
  return line.slice(i);
}

function isPropertiesWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0c;
}

function endsWithOddBackslashes(s: string): boolean {
  let count = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === "\\"; i--) count++;
  return count % 2 === 1;
}

function splitKeyValue(logical: string, source: string, lineNumber: number): { key: string; value: string } {
  // The key ends at the first unescaped '=', ':' or whitespace.
  let i = 0;
  while (i < logical.length) {
    const ch = logical[i];
    if (ch === "\\") {
      i += 2;
      continue;
    }
    if (ch === "=" || ch === ":" || isPropertiesWhitespace(logical.charCodeAt(i))) break;
    i++;
  }
  const rawKey = logical.slice(0, Math.min(i, logical.length));
  // Skip whitespace, then at most one separator, then whitespace again.
  let j = i;
  while (j < logical.length && isPropertiesWhitespace(logical.charCodeAt(j))) j++;
  if (j < logical.length && (logical[j] === "=" || logical[j] === ":")) j++;
  while (j < logical.length && isPropertiesWhitespace(logical.charCodeAt(j))) j++;
  const rawValue = logical.slice(j);
  return {
    key: unescapeProperties(rawKey, source, lineNumber),
    value: unescapeProperties(rawValue, source, lineNumber),
  };
}

function unescapeProperties(raw: string, source: string, lineNumber: number): string {
  if (!raw.includes("\\")) return raw;
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (ch !== "\\") {
      out += ch;
      continue;
    }
    i++;
    const next = raw[i];
    if (next === undefined) break;
    switch (next) {
      case "t":
        out += "\t";
        break;
      case "n":
        out += "\n";
        break;
      case "r":
        out += "\r";
        break;
      case "f":
        out += "\f";
        break;
      case "u": {
        const hex = raw.slice(i + 1, i + 5);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
          throw new KrillError("CONFIG_INVALID", `${source}:${lineNumber}: malformed \\uXXXX escape`);
        }
        out += String.fromCharCode(Number.parseInt(hex, 16));
        i += 4;
        break;
      }
      default:
        out += next;
    }
  }
  return out;
}
