/**
 * Reads Kafka's JSON message specs (JSON with `//` comments) into a model the emitters walk:
 * version ranges, fields with their types, nullable and tagged versions, defaults, and the struct
 * tree with every struct's TypeScript name resolved. Nothing here knows about TypeScript syntax
 * beyond names; emit-message.ts turns the model into code.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import jsonc from "jsonc-parser";

/** Kafka's highest possible version; open ranges ("3+") end here. */
export const VERSION_MAX = 0x7fff;

/** An inclusive version range; `lo > hi` is the empty range ("none"). */
export interface Versions {
  lo: number;
  hi: number;
}

export const NO_VERSIONS: Versions = { lo: 1, hi: 0 };

export function parseVersions(text: string | undefined, what: string): Versions {
  if (text === undefined) throw new Error(`${what}: missing version range`);
  const s = text.trim();
  if (s === "none") return NO_VERSIONS;
  let m = /^(\d+)\+$/.exec(s);
  if (m) return { lo: Number(m[1]), hi: VERSION_MAX };
  m = /^(\d+)-(\d+)$/.exec(s);
  if (m) return { lo: Number(m[1]), hi: Number(m[2]) };
  m = /^(\d+)$/.exec(s);
  if (m) return { lo: Number(m[1]), hi: Number(m[1]) };
  throw new Error(`${what}: invalid version range ${JSON.stringify(text)}`);
}

export function isEmpty(v: Versions): boolean {
  return v.lo > v.hi;
}

export function intersect(a: Versions, b: Versions): Versions {
  const r = { lo: Math.max(a.lo, b.lo), hi: Math.min(a.hi, b.hi) };
  return isEmpty(r) ? NO_VERSIONS : r;
}

/** Smallest range covering both (struct versions reached from several places). */
export function hull(a: Versions, b: Versions): Versions {
  if (isEmpty(a)) return b;
  if (isEmpty(b)) return a;
  return { lo: Math.min(a.lo, b.lo), hi: Math.max(a.hi, b.hi) };
}

export function contains(outer: Versions, inner: Versions): boolean {
  return isEmpty(inner) || (outer.lo <= inner.lo && inner.hi <= outer.hi);
}

export function hasVersion(v: Versions, version: number): boolean {
  return v.lo <= version && version <= v.hi;
}

export type PrimitiveName =
  | "bool"
  | "int8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "float64"
  | "string"
  | "uuid"
  | "bytes"
  | "records";

const PRIMITIVES = new Set<string>([
  "bool",
  "int8",
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "float64",
  "string",
  "uuid",
  "bytes",
  "records",
]);

export type FieldType =
  | { kind: "primitive"; name: PrimitiveName }
  | { kind: "struct"; struct: StructModel }
  | {
      kind: "array";
      element: { kind: "primitive"; name: PrimitiveName } | { kind: "struct"; struct: StructModel };
    };

export interface FieldModel {
  /** The spec's name, e.g. "TopicData". */
  specName: string;
  /** The TypeScript property name, e.g. "topicData". */
  name: string;
  type: FieldType;
  versions: Versions;
  nullableVersions: Versions;
  /** Versions in which the field is sent as a tagged field (empty if never tagged). */
  taggedVersions: Versions;
  tag: number | null;
  ignorable: boolean;
  /** The raw `default` from the spec, as a string, or undefined. */
  defaultText: string | undefined;
  zeroCopy: boolean;
  /** Versions in which this field uses compact encodings (the message's, unless overridden). */
  flexibleVersions: Versions;
}

export interface StructModel {
  /** The spec's struct type name ("TopicProduceData"), or the message name for the root. */
  specName: string;
  /** The TypeScript interface name, prefixed by the message name. */
  tsName: string;
  fields: FieldModel[];
  /** Versions in which this struct can appear (hull over every place it is used). */
  versions: Versions;
}

export type MessageKind =
  | "request"
  | "response"
  | "header"
  | "data"
  | "metadata"
  | "coordinator-key"
  | "coordinator-value";

export interface MessageModel {
  /** "ProduceRequest" */
  name: string;
  kind: MessageKind;
  /** Folder of the spec ("clients", "metadata", ...). */
  group: string;
  apiKey: number | null;
  validVersions: Versions;
  flexibleVersions: Versions;
  latestVersionUnstable: boolean;
  listeners: string[];
  root: StructModel;
  /** Every struct of the message other than the root, in first-use order. */
  structs: StructModel[];
  /** Kebab-case module name without extension, e.g. "produce-request". */
  moduleName: string;
}

interface RawField {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  ignorable?: boolean;
  default?: string | number | boolean | null;
  zeroCopy?: boolean;
  flexibleVersions?: string;
  fields?: RawField[];
  mapKey?: boolean;
  entityType?: string;
  about?: string;
}

interface RawStruct {
  name: string;
  versions: string;
  fields: RawField[];
}

interface RawMessage {
  apiKey?: number;
  type: string;
  name: string;
  validVersions: string;
  flexibleVersions: string;
  latestVersionUnstable?: boolean;
  listeners?: string[];
  fields: RawField[];
  commonStructs?: RawStruct[];
}

export function camelCase(specName: string): string {
  return specName.charAt(0).toLowerCase() + specName.slice(1);
}

/** "OffsetForLeaderEpochRequest" -> "offset-for-leader-epoch-request"; "KRaftVersionRecord" -> "kraft-version-record". */
export function kebabCase(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1-$2")
    .toLowerCase()
    .split("-");
  // A lone capital starts a word with the next one ("KRaft"), as Kafka's own docs spell it.
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w.length === 1 && i + 1 < words.length) words[i + 1] = w + words[i + 1];
    else out.push(w);
  }
  return out.join("-");
}

/** Property names generated code uses itself; a spec field with one of these would clash. */
const RESERVED_PROPERTY_NAMES = new Set(["unknownTaggedFields"]);

export function parseMessage(text: string, group: string, file: string): MessageModel {
  const errors: jsonc.ParseError[] = [];
  const raw = jsonc.parse(text, errors, { allowTrailingComma: true }) as RawMessage;
  if (errors.length > 0 || raw === undefined || typeof raw !== "object") {
    throw new Error(
      `${file}: not valid JSON (${errors.map((e) => jsonc.printParseErrorCode(e.error)).join(", ")})`,
    );
  }
  const name = raw.name;
  const validVersions = parseVersions(raw.validVersions, `${file} validVersions`);
  // A removed API keeps its spec with validVersions "none" and nothing else.
  const flexibleVersions =
    isEmpty(validVersions) && raw.flexibleVersions === undefined
      ? NO_VERSIONS
      : parseVersions(raw.flexibleVersions, `${file} flexibleVersions`);
  const kind = raw.type as MessageKind;
  if (
    !["request", "response", "header", "data", "metadata", "coordinator-key", "coordinator-value"].includes(
      kind,
    )
  ) {
    throw new Error(`${file}: unknown message type ${raw.type}`);
  }

  // Struct definitions: common structs first (declared at the top level, referenced by type name),
  // then inline struct definitions found while walking fields.
  const structsByName = new Map<string, StructModel>();
  const structOrder: StructModel[] = [];
  const commonRaw = new Map<string, RawStruct>();
  for (const cs of raw.commonStructs ?? []) commonRaw.set(cs.name, cs);

  // Struct names are prefixed by the message name so two messages' "Topic" structs differ; a name
  // that already starts with the message name ("MetadataResponseTopic") is kept as it is.
  const tsNameOf = (specName: string): string =>
    specName.startsWith(name) ? specName : `${name}${specName}`;

  const makeStruct = (specName: string, fields: RawField[], where: string): StructModel => {
    if (structsByName.has(specName)) throw new Error(`${where}: struct ${specName} is defined twice`);
    const struct: StructModel = { specName, tsName: tsNameOf(specName), fields: [], versions: NO_VERSIONS };
    structsByName.set(specName, struct);
    structOrder.push(struct);
    struct.fields = fields.map((f) => parseField(f, `${where}.${f.name}`));
    checkFieldNames(struct, where);
    return struct;
  };

  const resolveStruct = (typeName: string, inline: RawField[] | undefined, where: string): StructModel => {
    if (inline !== undefined) return makeStruct(typeName, inline, where);
    const existing = structsByName.get(typeName);
    if (existing) return existing;
    const common = commonRaw.get(typeName);
    if (common) return makeStruct(typeName, common.fields, `${file} commonStructs.${typeName}`);
    throw new Error(`${where}: unknown struct type ${typeName}`);
  };

  const parseField = (f: RawField, where: string): FieldModel => {
    if (typeof f.name !== "string" || typeof f.type !== "string")
      throw new Error(`${where}: field needs name and type`);
    // A tagged field may leave out `versions`: it then exists in its tagged versions (as in Kafka).
    const versions = parseVersions(f.versions ?? f.taggedVersions, `${where} versions`);
    const nullableVersions =
      f.nullableVersions === undefined
        ? NO_VERSIONS
        : parseVersions(f.nullableVersions, `${where} nullableVersions`);
    const taggedVersions =
      f.taggedVersions === undefined
        ? NO_VERSIONS
        : parseVersions(f.taggedVersions, `${where} taggedVersions`);
    const tag = f.tag ?? null;
    if ((tag === null) !== isEmpty(taggedVersions)) {
      throw new Error(`${where}: tag and taggedVersions must be given together`);
    }
    const fieldFlexible =
      f.flexibleVersions === undefined
        ? flexibleVersions
        : parseVersions(f.flexibleVersions, `${where} flexibleVersions`);
    if (!contains(fieldFlexible, intersect(taggedVersions, versions))) {
      throw new Error(`${where}: tagged versions must be flexible versions`);
    }
    let type: FieldType;
    const t = f.type;
    if (t.startsWith("[]")) {
      const elem = t.slice(2);
      if (PRIMITIVES.has(elem)) {
        if (elem === "records" || elem === "bytes")
          throw new Error(`${where}: arrays of ${elem} are not supported`);
        type = { kind: "array", element: { kind: "primitive", name: elem as PrimitiveName } };
      } else {
        type = { kind: "array", element: { kind: "struct", struct: resolveStruct(elem, f.fields, where) } };
      }
    } else if (PRIMITIVES.has(t)) {
      type = { kind: "primitive", name: t as PrimitiveName };
    } else {
      type = { kind: "struct", struct: resolveStruct(t, f.fields, where) };
    }
    if (type.kind === "primitive" && f.fields !== undefined)
      throw new Error(`${where}: primitive field has fields`);
    const nullableAllowed =
      type.kind !== "primitive" || ["string", "bytes", "records", "uuid"].includes(type.name);
    if (!isEmpty(nullableVersions) && !nullableAllowed)
      throw new Error(`${where}: type ${t} cannot be nullable`);
    if (type.kind === "primitive" && type.name === "uuid" && !isEmpty(nullableVersions)) {
      throw new Error(`${where}: nullable uuid is not supported`);
    }
    // Kafka's generator reads `default` as a string: a JSON null (as opposed to the string "null")
    // is no default at all, so an array field defaults to empty, not to null.
    const defaultText = f.default === undefined || f.default === null ? undefined : String(f.default);
    if (defaultText === "null" && !contains(nullableVersions, versions)) {
      throw new Error(`${where}: default null needs the field nullable in all its versions`);
    }
    return {
      specName: f.name,
      name: camelCase(f.name),
      type,
      versions,
      nullableVersions,
      taggedVersions: intersect(taggedVersions, versions),
      tag,
      ignorable: f.ignorable === true,
      defaultText,
      zeroCopy: f.zeroCopy === true,
      flexibleVersions: fieldFlexible,
    };
  };

  const root: StructModel = { specName: name, tsName: name, fields: [], versions: validVersions };
  structsByName.set(name, root);
  root.fields = (raw.fields ?? []).map((f) => parseField(f, `${file} ${f.name}`));
  checkFieldNames(root, file);

  // Versions in which each struct is reachable: the hull of (field versions ∩ parent versions)
  // over all uses, computed top-down from the root.
  const visit = (struct: StructModel, versions: Versions): void => {
    for (const field of struct.fields) {
      const reach = intersect(field.versions, versions);
      if (isEmpty(reach)) continue;
      const target =
        field.type.kind === "struct"
          ? field.type.struct
          : field.type.kind === "array" && field.type.element.kind === "struct"
            ? field.type.element.struct
            : undefined;
      if (target === undefined) continue;
      const before = target.versions;
      target.versions = hull(target.versions, reach);
      if (before.lo !== target.versions.lo || before.hi !== target.versions.hi)
        visit(target, target.versions);
    }
  };
  visit(root, validVersions);

  return {
    name,
    kind,
    group,
    apiKey: raw.apiKey ?? null,
    validVersions,
    flexibleVersions,
    latestVersionUnstable: raw.latestVersionUnstable === true,
    listeners: [...(raw.listeners ?? [])].sort(),
    root,
    structs: structOrder.filter((s) => !isEmpty(s.versions)),
    moduleName: kebabCase(name),
  };
}

function checkFieldNames(struct: StructModel, where: string): void {
  const seen = new Set<string>();
  const tags = new Set<number>();
  for (const f of struct.fields) {
    if (seen.has(f.name)) throw new Error(`${where}: duplicate field ${f.specName}`);
    if (RESERVED_PROPERTY_NAMES.has(f.name))
      throw new Error(`${where}: field name ${f.specName} is reserved`);
    seen.add(f.name);
    if (f.tag !== null) {
      if (tags.has(f.tag)) throw new Error(`${where}: duplicate tag ${f.tag}`);
      tags.add(f.tag);
    }
  }
}

/** The spec folders the generator reads, in output order. */
export const SPEC_GROUPS = [
  "clients",
  "metadata",
  "raft",
  "group-coordinator",
  "transaction-coordinator",
  "share-coordinator",
  "storage",
] as const;

/** Where each group's specs live in a Kafka source checkout, for a spec folder that is one. */
const CHECKOUT_PATHS: Record<(typeof SPEC_GROUPS)[number], string> = {
  clients: "clients/src/main/resources/common/message",
  metadata: "metadata/src/main/resources/common/metadata",
  raft: "raft/src/main/resources/common/message",
  "group-coordinator": "group-coordinator/src/main/resources/common/message",
  "transaction-coordinator": "transaction-coordinator/src/main/resources/common/message",
  "share-coordinator": "share-coordinator/src/main/resources/common/message",
  storage: "storage/src/main/resources/message",
};

/**
 * The folder holding one group's specs: `<specDir>/<group>` (the layout of the extracted jars), or
 * the group's resources folder when `specDir` is a Kafka source checkout.
 */
export function specGroupDir(specDir: string, group: (typeof SPEC_GROUPS)[number]): string {
  const flat = join(specDir, group);
  if (existsSync(flat)) return flat;
  const checkout = join(specDir, CHECKOUT_PATHS[group]);
  return existsSync(checkout) ? checkout : flat;
}

export function loadSpecs(specDir: string): MessageModel[] {
  const messages: MessageModel[] = [];
  for (const group of SPEC_GROUPS) {
    const dir = specGroupDir(specDir, group);
    let files: string[];
    try {
      if (!statSync(dir).isDirectory()) continue;
      files = readdirSync(dir);
    } catch {
      continue;
    }
    for (const file of files.filter((f) => f.endsWith(".json")).sort()) {
      const path = join(dir, file);
      const m = parseMessage(readFileSync(path, "utf8"), group, `${group}/${file}`);
      // An API Kafka removed (ControlledShutdown in 4.0) has no versions left: no codec to generate.
      if (!isEmpty(m.validVersions)) messages.push(m);
    }
  }
  const seen = new Map<string, string>();
  for (const m of messages) {
    const other = seen.get(m.moduleName);
    if (other !== undefined) throw new Error(`${m.group}/${m.name} and ${other} map to the same module name`);
    seen.set(m.moduleName, `${m.group}/${m.name}`);
  }
  // Every module is re-exported from index.ts, so exported names must be unique across messages.
  const exported = new Map<string, string>();
  for (const m of messages) {
    for (const s of [m.root, ...m.structs]) {
      const other = exported.get(s.tsName);
      if (other !== undefined && other !== m.name) {
        throw new Error(`struct name ${s.tsName} is generated by both ${m.name} and ${other}`);
      }
      exported.set(s.tsName, m.name);
    }
  }
  return messages;
}
