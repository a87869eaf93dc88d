/**
 * Emits error-codes.ts from tools/codegen/error-codes.json: Kafka's closed set of wire error codes
 * (taken from Kafka 4.4.0's `Errors` enum: name, code, default message, and whether its exception
 * is a RetriableException; java-crosscheck.test.ts re-checks names and retriability against the
 * Kafka jars present). These go in responses; they are never thrown.
 */
import { GENERATED_HEADER } from "./emit-message.js";

export interface ErrorCodeEntry {
  code: number;
  name: string;
  retriable: boolean;
  message: string;
}

export function validateErrorCodes(entries: readonly ErrorCodeEntry[]): void {
  const codes = new Set<number>();
  const names = new Set<string>();
  for (const e of entries) {
    if (!Number.isInteger(e.code) || e.code < -32768 || e.code > 32767)
      throw new Error(`bad error code ${e.code}`);
    if (!/^[A-Z][A-Z0-9_]*$/.test(e.name)) throw new Error(`bad error name ${e.name}`);
    if (codes.has(e.code)) throw new Error(`duplicate error code ${e.code}`);
    if (names.has(e.name)) throw new Error(`duplicate error name ${e.name}`);
    if (typeof e.retriable !== "boolean" || typeof e.message !== "string")
      throw new Error(`bad entry ${e.name}`);
    codes.add(e.code);
    names.add(e.name);
  }
}

export function emitErrorCodes(entries: readonly ErrorCodeEntry[]): string {
  validateErrorCodes(entries);
  const sorted = [...entries].sort((a, b) => a.code - b.code);
  const out: string[] = [
    GENERATED_HEADER,
    "// Source: tools/codegen/error-codes.json (Kafka 4.4.0's Errors enum)",
    "",
  ];
  out.push("/** Kafka wire error codes by name. */");
  out.push("export const ErrorCode = {");
  for (const e of sorted) out.push(`  ${e.name}: ${e.code},`);
  out.push("} as const;", "");
  out.push("export type ErrorCodeName = keyof typeof ErrorCode;");
  out.push("export type ErrorCodeValue = (typeof ErrorCode)[ErrorCodeName];", "");
  out.push("export interface ErrorCodeInfo {");
  out.push("  readonly code: number;");
  out.push("  readonly name: ErrorCodeName;");
  out.push("  /** The client may retry: Kafka's exception for it extends RetriableException. */");
  out.push("  readonly retriable: boolean;");
  out.push("  /** Kafka's default message (empty for NONE). */");
  out.push("  readonly message: string;");
  out.push("}", "");
  out.push("export const ERROR_CODES: readonly ErrorCodeInfo[] = [");
  for (const e of sorted) {
    out.push(
      `  { code: ${e.code}, name: "${e.name}", retriable: ${e.retriable}, message: ${JSON.stringify(e.message)} },`,
    );
  }
  out.push("];", "");
  out.push("const BY_CODE = new Map<number, ErrorCodeInfo>(ERROR_CODES.map((e) => [e.code, e]));", "");
  out.push("/** The error with this code, or undefined for a code Kafka does not define. */");
  out.push("export function errorCodeInfo(code: number): ErrorCodeInfo | undefined {");
  out.push("  return BY_CODE.get(code);");
  out.push("}", "");
  out.push("/** The name of an error code, or `UNKNOWN(<code>)` for a code Kafka does not define. */");
  out.push("export function errorCodeName(code: number): string {");
  out.push(`  return BY_CODE.get(code)?.name ?? \`UNKNOWN($\{code})\`;`);
  out.push("}", "");
  out.push("export function isRetriableErrorCode(code: number): boolean {");
  out.push("  return BY_CODE.get(code)?.retriable ?? false;");
  out.push("}");
  return `${out.join("\n")}\n`;
}
