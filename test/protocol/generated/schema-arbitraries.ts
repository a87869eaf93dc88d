/**
 * Test support: fast-check arbitraries for every generated message at a given version, driven by
 * the same spec model the generator uses (tools/codegen/spec.ts), and a lookup of the generated
 * codec functions by name. Values are version-appropriate: fields absent from the version hold
 * their default, null appears only where the version allows it, and unknown tagged fields only in
 * flexible versions (with tags no spec uses, in ascending order, as an encoder emits them).
 */
import { existsSync } from "node:fs";
import fc from "fast-check";
import * as generated from "../../../src/protocol/generated/index.js";
import type { Reader } from "../../../src/protocol/primitives/reader.js";
import type { RawTaggedField } from "../../../src/protocol/primitives/tagged.js";
import type { Writer } from "../../../src/protocol/primitives/writer.js";
import { defaultSpecDir } from "../../../tools/codegen/kafka-specs.js";
import {
  type FieldModel,
  type FieldType,
  hasVersion,
  loadSpecs,
  type MessageModel,
  type PrimitiveName,
  type StructModel,
  specGroupDir,
} from "../../../tools/codegen/spec.js";

/** The specs the codecs were generated from (KAFKA_SPEC_DIR, else the pinned Kafka jars' specs). */
export const SPEC_DIR = specDirOrEmpty();
export const SPEC_PRESENT = SPEC_DIR !== "" && existsSync(specGroupDir(SPEC_DIR, "clients"));

function specDirOrEmpty(): string {
  try {
    return defaultSpecDir();
  } catch (err) {
    // No Maven here (make deps installs it): the spec-driven suites skip, saying why.
    console.warn(
      `Kafka message specs unavailable, spec-driven codec tests skipped: ${(err as Error).message}`,
    );
    return "";
  }
}

let cached: MessageModel[] | undefined;
export function messages(): MessageModel[] {
  cached ??= SPEC_PRESENT ? loadSpecs(SPEC_DIR) : [];
  return cached;
}

export interface Codec {
  encode(w: Writer, msg: unknown, version: number): void;
  decode(r: Reader, version: number): unknown;
}

const table = generated as unknown as Record<string, unknown>;

export function codecOf(m: MessageModel): Codec {
  const encode = table[`encode${m.name}`];
  const decode = table[`decode${m.name}`];
  if (typeof encode !== "function" || typeof decode !== "function") throw new Error(`no codec for ${m.name}`);
  return { encode: encode as Codec["encode"], decode: decode as Codec["decode"] };
}

function defaultOf(s: StructModel): Record<string, unknown> {
  const f = table[`default${s.tsName}`];
  if (typeof f !== "function") throw new Error(`no default factory for ${s.tsName}`);
  return f() as Record<string, unknown>;
}

export function versionsOf(m: MessageModel): number[] {
  const out: number[] = [];
  for (let v = m.validVersions.lo; v <= m.validVersions.hi; v++) out.push(v);
  return out;
}

function isFlexible(m: MessageModel, version: number): boolean {
  return hasVersion(m.flexibleVersions, version);
}

const UNKNOWN_TAG_BASE = 1000;

function primitiveArb(name: PrimitiveName): fc.Arbitrary<unknown> {
  switch (name) {
    case "bool":
      return fc.boolean();
    case "int8":
      return fc.integer({ min: -128, max: 127 });
    case "int16":
      return fc.integer({ min: -32768, max: 32767 });
    case "uint16":
      return fc.integer({ min: 0, max: 65535 });
    case "int32":
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case "uint32":
      return fc.integer({ min: 0, max: 2 ** 32 - 1 });
    case "int64":
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case "float64":
      return fc.double();
    case "string":
      return fc.string({ unit: "grapheme", maxLength: 8 });
    case "uuid":
      return fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString("base64url"));
    case "bytes":
    case "records":
      return fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b));
  }
}

function unknownTaggedArb(): fc.Arbitrary<RawTaggedField[] | undefined> {
  return fc.option(
    fc
      .uniqueArray(fc.integer({ min: UNKNOWN_TAG_BASE, max: UNKNOWN_TAG_BASE + 50 }), {
        minLength: 1,
        maxLength: 3,
      })
      .chain((tags) =>
        fc.tuple(
          ...[...tags]
            .sort((a, b) => a - b)
            .map((tag) => fc.uint8Array({ maxLength: 6 }).map((d) => ({ tag, data: Buffer.from(d) }))),
        ),
      ),
    { nil: undefined, freq: 3 },
  );
}

export class ArbitraryBuilder {
  private readonly m: MessageModel;
  private readonly version: number;

  constructor(message: MessageModel, version: number) {
    this.m = message;
    this.version = version;
  }

  message(): fc.Arbitrary<Record<string, unknown>> {
    return this.struct(this.m.root);
  }

  private struct(s: StructModel): fc.Arbitrary<Record<string, unknown>> {
    const defaults = defaultOf(s);
    const shape: Record<string, fc.Arbitrary<unknown>> = {};
    for (const f of s.fields) {
      shape[f.name] = hasVersion(f.versions, this.version) ? this.field(f) : fc.constant(defaults[f.name]);
    }
    if (`unknownTaggedFields` in defaults) {
      shape.unknownTaggedFields = isFlexible(this.m, this.version)
        ? unknownTaggedArb()
        : fc.constant(undefined);
    }
    return fc.record(shape) as fc.Arbitrary<Record<string, unknown>>;
  }

  private field(f: FieldModel): fc.Arbitrary<unknown> {
    const nullable = hasVersion(f.nullableVersions, this.version);
    const base = this.type(f.type);
    return nullable ? fc.option(base, { nil: null, freq: 4 }) : base;
  }

  private type(t: FieldType): fc.Arbitrary<unknown> {
    if (t.kind === "primitive") return primitiveArb(t.name);
    if (t.kind === "struct") return this.struct(t.struct);
    const element =
      t.element.kind === "struct" ? this.struct(t.element.struct) : primitiveArb(t.element.name);
    return fc.array(element, { maxLength: 3 });
  }
}
