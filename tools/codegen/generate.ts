/**
 * Turns the spec folder into the full set of generated files (name -> content), in memory and
 * deterministically: specs are read in sorted order and every table is sorted, so the same specs
 * always give byte-identical output (check.ts relies on this).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ErrorCodeEntry, emitErrorCodes } from "./emit-errors.js";
import { emitMessage, GENERATED_HEADER } from "./emit-message.js";
import { isEmpty, loadSpecs, type MessageModel } from "./spec.js";

const HERE = dirname(fileURLToPath(import.meta.url));
export const ERROR_CODES_FILE = join(HERE, "error-codes.json");

export function generateAll(specDir: string): Map<string, string> {
  const messages = loadSpecs(specDir);
  if (messages.length === 0) throw new Error(`no message specs found under ${specDir}`);
  const files = new Map<string, string>();
  for (const m of messages) files.set(`${m.moduleName}.ts`, emitMessage(m));
  files.set("apis.ts", emitApis(messages));
  files.set("metadata-records.ts", emitMetadataRecords(messages));
  files.set("coordinator-records.ts", emitCoordinatorRecords(messages));
  const errorCodes = JSON.parse(readFileSync(ERROR_CODES_FILE, "utf8")) as ErrorCodeEntry[];
  files.set("error-codes.ts", emitErrorCodes(errorCodes));
  files.set("index.ts", emitIndex(messages));
  return new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function firstFlexible(m: MessageModel): number {
  return isEmpty(m.flexibleVersions) ? -1 : Math.max(m.flexibleVersions.lo, m.validVersions.lo);
}

function apiName(requestName: string): string {
  return requestName.replace(/Request$/, "");
}

function emitApis(messages: MessageModel[]): string {
  const requests = new Map<number, MessageModel>();
  const responses = new Map<number, MessageModel>();
  for (const m of messages) {
    if (m.group !== "clients" || m.apiKey === null) continue;
    if (m.kind === "request") requests.set(m.apiKey, m);
    if (m.kind === "response") responses.set(m.apiKey, m);
  }
  const keys = [...requests.keys()].sort((a, b) => a - b);
  const out: string[] = [GENERATED_HEADER, ""];
  out.push('import type { Reader } from "../primitives/reader.js";');
  out.push('import type { Writer } from "../primitives/writer.js";');
  for (const key of keys) {
    const req = requests.get(key)!;
    const res = responses.get(key);
    if (res === undefined) throw new Error(`api key ${key} has a request but no response spec`);
    out.push(
      `import { decode${req.name}, encode${req.name}, type ${req.name} } from "./${req.moduleName}.js";`,
    );
    out.push(
      `import { decode${res.name}, encode${res.name}, type ${res.name} } from "./${res.moduleName}.js";`,
    );
  }
  out.push(
    "",
    "/** One API of the wire protocol: its versions, header versions and codecs. */",
    "export interface ApiDescriptor<Req = unknown, Res = unknown> {",
    "  readonly apiKey: number;",
    "  readonly name: string;",
    "  readonly minVersion: number;",
    "  readonly maxVersion: number;",
    "  /** First flexible version (compact encodings, tagged fields), or -1 if none. */",
    "  readonly firstFlexibleVersion: number;",
    "  /** The spec marks the highest version unstable: not to be advertised by default. */",
    "  readonly latestVersionUnstable: boolean;",
    '  /** Listener kinds that serve this API ("broker", "controller", "zkBroker"). */',
    "  readonly listeners: readonly string[];",
    "  requestHeaderVersion(version: number): number;",
    "  responseHeaderVersion(version: number): number;",
    "  encodeRequest(w: Writer, msg: Req, version: number): void;",
    "  decodeRequest(r: Reader, version: number): Req;",
    "  encodeResponse(w: Writer, msg: Res, version: number): void;",
    "  decodeResponse(r: Reader, version: number): Res;",
    "}",
    "",
  );
  out.push("export const ApiKey = {");
  for (const key of keys) out.push(`  ${apiName(requests.get(key)!.name)}: ${key},`);
  out.push("} as const;", "");
  out.push("export type ApiKeyName = keyof typeof ApiKey;", "");
  for (const key of keys) {
    const req = requests.get(key)!;
    const res = responses.get(key)!;
    const name = apiName(req.name);
    const flex = firstFlexible(req);
    if (flex !== firstFlexible(res))
      throw new Error(`${name}: request and response disagree on flexible versions`);
    if (req.validVersions.lo !== res.validVersions.lo || req.validVersions.hi !== res.validVersions.hi) {
      throw new Error(`${name}: request and response disagree on valid versions`);
    }
    // Request header v2 in flexible versions, else v1; ControlledShutdown v0 predates the client
    // id and uses header v0. Response header v1 in flexible versions, else v0; ApiVersions
    // responses always use v0 so a client can parse them before it knows the broker's versions.
    let reqHeader: string;
    if (flex < 0) reqHeader = key === 7 ? "version === 0 ? 0 : 1" : "1";
    else
      reqHeader = key === 7 ? `version === 0 ? 0 : version >= ${flex} ? 2 : 1` : `version >= ${flex} ? 2 : 1`;
    const resHeader = key === 18 || flex < 0 ? "0" : `version >= ${flex} ? 1 : 0`;
    const constName = `${name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()}_API`;
    out.push(`export const ${constName}: ApiDescriptor<${req.name}, ${res.name}> = {`);
    out.push(`  apiKey: ${key},`);
    out.push(`  name: ${JSON.stringify(name)},`);
    out.push(`  minVersion: ${req.validVersions.lo},`);
    out.push(`  maxVersion: ${req.validVersions.hi},`);
    out.push(`  firstFlexibleVersion: ${flex},`);
    out.push(`  latestVersionUnstable: ${req.latestVersionUnstable},`);
    out.push(`  listeners: ${JSON.stringify(req.listeners)},`);
    out.push(
      `  requestHeaderVersion: (${reqHeader.includes("version") ? "version" : "_version"}: number) => ${reqHeader},`,
    );
    out.push(
      `  responseHeaderVersion: (${resHeader.includes("version") ? "version" : "_version"}: number) => ${resHeader},`,
    );
    out.push(`  encodeRequest: encode${req.name},`);
    out.push(`  decodeRequest: decode${req.name},`);
    out.push(`  encodeResponse: encode${res.name},`);
    out.push(`  decodeResponse: decode${res.name},`);
    out.push("};", "");
  }
  out.push("/** Every API, ordered by api key. */");
  out.push("export const API_DESCRIPTORS: readonly ApiDescriptor[] = [");
  for (const key of keys) {
    const name = apiName(requests.get(key)!.name);
    out.push(`  ${name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()}_API as ApiDescriptor,`);
  }
  out.push("];", "");
  // Built on first use, not at module load: a top-level loop is a side effect that stops a bundler
  // from dropping the codecs of APIs the broker never references (tools/build/bundle.ts).
  out.push("let byKey: (ApiDescriptor | undefined)[] | undefined;", "");
  out.push("/** The API with this key, or undefined for a key Kafka does not define. */");
  out.push("export function apiDescriptor(apiKey: number): ApiDescriptor | undefined {");
  out.push("  if (byKey === undefined) {");
  out.push("    byKey = [];");
  out.push("    for (const api of API_DESCRIPTORS) byKey[api.apiKey] = api;");
  out.push("  }");
  out.push("  return byKey[apiKey];");
  out.push("}");
  return `${out.join("\n")}\n`;
}

function emitMetadataRecords(messages: MessageModel[]): string {
  const records = messages
    .filter((m) => m.group === "metadata" && m.apiKey !== null)
    .sort((a, b) => a.apiKey! - b.apiKey!);
  const out: string[] = [GENERATED_HEADER, ""];
  out.push('import type { Reader } from "../primitives/reader.js";');
  out.push('import type { Writer } from "../primitives/writer.js";');
  for (const m of records)
    out.push(`import { decode${m.name}, encode${m.name}, type ${m.name} } from "./${m.moduleName}.js";`);
  out.push(
    "",
    "/** A KRaft metadata record type: its id (the spec's apiKey), versions and codec. */",
    "export interface MetadataRecordCodec<T = unknown> {",
    "  readonly type: number;",
    "  readonly name: string;",
    "  readonly minVersion: number;",
    "  readonly maxVersion: number;",
    "  readonly firstFlexibleVersion: number;",
    "  encode(w: Writer, msg: T, version: number): void;",
    "  decode(r: Reader, version: number): T;",
    "}",
    "",
    "export const MetadataRecordType = {",
  );
  for (const m of records) out.push(`  ${m.name}: ${m.apiKey},`);
  out.push("} as const;", "");
  out.push("export const METADATA_RECORD_CODECS: readonly MetadataRecordCodec[] = [");
  for (const m of records) {
    out.push(
      `  { type: ${m.apiKey}, name: ${JSON.stringify(m.name)}, minVersion: ${m.validVersions.lo}, maxVersion: ${m.validVersions.hi}, firstFlexibleVersion: ${firstFlexible(m)}, encode: encode${m.name}, decode: decode${m.name} } as MetadataRecordCodec<${m.name}> as MetadataRecordCodec,`,
    );
  }
  out.push("];", "");
  out.push("const BY_TYPE: (MetadataRecordCodec | undefined)[] = [];");
  out.push("for (const c of METADATA_RECORD_CODECS) BY_TYPE[c.type] = c;", "");
  out.push("export function metadataRecordCodec(type: number): MetadataRecordCodec | undefined {");
  out.push("  return BY_TYPE[type];");
  out.push("}");
  return `${out.join("\n")}\n`;
}

function emitCoordinatorRecords(messages: MessageModel[]): string {
  const groups = ["group-coordinator", "transaction-coordinator", "share-coordinator"];
  const out: string[] = [GENERATED_HEADER, ""];
  out.push('import type { Reader } from "../primitives/reader.js";');
  out.push('import type { Writer } from "../primitives/writer.js";');
  const tables: string[] = [];
  const imports: string[] = [];
  for (const group of groups) {
    const inGroup = messages.filter((m) => m.group === group);
    const keys = inGroup.filter((m) => m.name.endsWith("Key"));
    const entries: {
      type: number;
      base: string;
      key: MessageModel;
      value: MessageModel;
      keyVersion: number;
    }[] = [];
    for (const key of keys) {
      const base = key.name.slice(0, -"Key".length);
      const value = inGroup.find((m) => m.name === `${base}Value`);
      if (value === undefined) throw new Error(`${group}/${key.name} has no matching value spec`);
      imports.push(
        `import { decode${key.name}, encode${key.name}, type ${key.name} } from "./${key.moduleName}.js";`,
      );
      imports.push(
        `import { decode${value.name}, encode${value.name}, type ${value.name} } from "./${value.moduleName}.js";`,
      );
      // Kafka 4.x specs ("coordinator-key") give the record type as the key's apiKey and version
      // every key at 0; older ones ("data") used the key's version as the record type.
      if (key.kind === "coordinator-key") {
        if (key.apiKey === null) throw new Error(`${group}/${key.name} has no apiKey`);
        entries.push({ type: key.apiKey, base, key, value, keyVersion: key.validVersions.hi });
      } else {
        for (let t = key.validVersions.lo; t <= key.validVersions.hi; t++)
          entries.push({ type: t, base, key, value, keyVersion: t });
      }
    }
    entries.sort((a, b) => a.type - b.type);
    const constName = `${group.replace(/-/g, "_").toUpperCase()}_RECORD_CODECS`;
    tables.push(`/** Records of ${group}: the record type is the key's version. */`);
    tables.push(`export const ${constName}: readonly CoordinatorRecordCodec[] = [`);
    for (const e of entries) {
      tables.push(
        `  { type: ${e.type}, name: ${JSON.stringify(e.base)}, keyVersion: ${e.keyVersion}, valueMinVersion: ${e.value.validVersions.lo}, valueMaxVersion: ${e.value.validVersions.hi}, valueFirstFlexibleVersion: ${firstFlexible(e.value)}, encodeKey: encode${e.key.name}, decodeKey: decode${e.key.name}, encodeValue: encode${e.value.name}, decodeValue: decode${e.value.name} } as CoordinatorRecordCodec<${e.key.name}, ${e.value.name}> as CoordinatorRecordCodec,`,
      );
    }
    tables.push("];", "");
  }
  out.push(...[...new Set(imports)].sort());
  out.push(
    "",
    "/**",
    " * A coordinator record type (__consumer_offsets, __transaction_state, share-group state): on",
    " * disk the key is the int16 type followed by the key encoded at keyVersion; the value is its",
    " * int16 version followed by the value encoded at that version.",
    " */",
    "export interface CoordinatorRecordCodec<K = unknown, V = unknown> {",
    "  readonly type: number;",
    "  readonly name: string;",
    "  readonly keyVersion: number;",
    "  readonly valueMinVersion: number;",
    "  readonly valueMaxVersion: number;",
    "  readonly valueFirstFlexibleVersion: number;",
    "  encodeKey(w: Writer, key: K, version: number): void;",
    "  decodeKey(r: Reader, version: number): K;",
    "  encodeValue(w: Writer, value: V, version: number): void;",
    "  decodeValue(r: Reader, version: number): V;",
    "}",
    "",
    ...tables,
  );
  return `${out.join("\n").trimEnd()}\n`;
}

function emitIndex(messages: MessageModel[]): string {
  const out: string[] = [GENERATED_HEADER, ""];
  const modules = [
    ...messages.map((m) => m.moduleName),
    "apis",
    "coordinator-records",
    "error-codes",
    "metadata-records",
  ].sort();
  for (const mod of modules) out.push(`export * from "./${mod}.js";`);
  return `${out.join("\n")}\n`;
}
