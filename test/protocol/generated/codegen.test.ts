/**
 * Unit tests of the code generator (tools/codegen) on small synthetic specs, plus checks of the
 * generated tables (apis.ts, error-codes.ts, record tables) against Kafka's rules.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { isKrillError } from "../../../src/errors.js";
import { API_DESCRIPTORS, ApiKey, apiDescriptor } from "../../../src/protocol/generated/apis.js";
import {
  GROUP_COORDINATOR_RECORD_CODECS,
  TRANSACTION_COORDINATOR_RECORD_CODECS,
} from "../../../src/protocol/generated/coordinator-records.js";
import {
  ERROR_CODES,
  ErrorCode,
  errorCodeInfo,
  errorCodeName,
  isRetriableErrorCode,
} from "../../../src/protocol/generated/error-codes.js";
import {
  defaultJoinGroupRequest,
  encodeJoinGroupRequest,
} from "../../../src/protocol/generated/join-group-request.js";
import { MetadataRecordType, metadataRecordCodec } from "../../../src/protocol/generated/metadata-records.js";
import { Writer } from "../../../src/protocol/primitives/writer.js";
import { compareFolders } from "../../../tools/codegen/check.js";
import { emitMessage, versionCond } from "../../../tools/codegen/emit-message.js";
import { generateAll } from "../../../tools/codegen/generate.js";
import { parseArgs, writeOutput } from "../../../tools/codegen/main.js";
import { kebabCase, parseMessage, parseVersions, VERSION_MAX } from "../../../tools/codegen/spec.js";
import { SPEC_DIR, SPEC_PRESENT } from "./schema-arbitraries.js";

const GENERATED_DIR = join(import.meta.dirname, "../../../src/protocol/generated");

function spec(fields: unknown[], extra: Record<string, unknown> = {}): string {
  return `// a comment, as in Kafka's files
  ${JSON.stringify({ type: "data", name: "TestMessage", validVersions: "0-5", flexibleVersions: "3+", fields, ...extra })}`;
}

describe("spec model", () => {
  test("version ranges", () => {
    expect(parseVersions("3+", "x")).toEqual({ lo: 3, hi: VERSION_MAX });
    expect(parseVersions("0-4", "x")).toEqual({ lo: 0, hi: 4 });
    expect(parseVersions("7", "x")).toEqual({ lo: 7, hi: 7 });
    expect(parseVersions("none", "x").lo).toBeGreaterThan(parseVersions("none", "x").hi);
    expect(() => parseVersions("1-", "field X")).toThrow(/field X/);
  });

  test("version conditions fold to constants within the versions code can run at", () => {
    const ctx = { lo: 0, hi: 11 };
    expect(versionCond({ lo: 0, hi: VERSION_MAX }, ctx)).toBe(true);
    expect(versionCond({ lo: 12, hi: VERSION_MAX }, ctx)).toBe(false);
    expect(versionCond({ lo: 9, hi: VERSION_MAX }, ctx)).toBe("version >= 9");
    expect(versionCond({ lo: 0, hi: 4 }, ctx)).toBe("version <= 4");
    expect(versionCond({ lo: 3, hi: 4 }, ctx)).toBe("version >= 3 && version <= 4");
    expect(versionCond({ lo: 3, hi: VERSION_MAX }, { lo: 5, hi: 11 })).toBe(true);
  });

  test("module and field names", () => {
    expect(kebabCase("KRaftVersionRecord")).toBe("kraft-version-record");
    expect(kebabCase("AddOffsetsToTxnRequest")).toBe("add-offsets-to-txn-request");
    expect(kebabCase("OffsetForLeaderEpochRequest")).toBe("offset-for-leader-epoch-request");
    const m = parseMessage(spec([{ name: "TopicID", type: "uuid", versions: "0+" }]), "clients", "t.json");
    expect(m.root.fields[0]?.name).toBe("topicID");
    expect(m.moduleName).toBe("test-message");
  });

  test("structs are prefixed by the message name unless they already start with it", () => {
    const m = parseMessage(
      spec([
        {
          name: "Topics",
          type: "[]Topic",
          versions: "0+",
          fields: [{ name: "Name", type: "string", versions: "0+" }],
        },
        { name: "Other", type: "TestMessageOther", versions: "0+", fields: [] },
      ]),
      "clients",
      "t.json",
    );
    expect(m.structs.map((s) => s.tsName)).toEqual(["TestMessageTopic", "TestMessageOther"]);
  });

  test("a struct's reachable versions come from the fields that use it", () => {
    const m = parseMessage(
      spec([
        {
          name: "Later",
          type: "[]Later",
          versions: "2-4",
          fields: [{ name: "X", type: "int8", versions: "0+" }],
        },
      ]),
      "clients",
      "t.json",
    );
    expect(m.structs[0]?.versions).toEqual({ lo: 2, hi: 4 });
  });

  test("invalid specs are rejected with the field named", () => {
    const cases: [unknown[], RegExp][] = [
      [
        [{ name: "A", type: "int32", versions: "0+", nullableVersions: "0+" }],
        /A: type int32 cannot be nullable/,
      ],
      [[{ name: "A", type: "int32", versions: "0+", tag: 0 }], /tag and taggedVersions/],
      [
        [{ name: "A", type: "int32", versions: "0+", tag: 0, taggedVersions: "1+" }],
        /tagged versions must be flexible/,
      ],
      [
        [
          { name: "A", type: "int32", versions: "3+", tag: 0, taggedVersions: "3+" },
          { name: "B", type: "int32", versions: "3+", tag: 0, taggedVersions: "3+" },
        ],
        /duplicate tag 0/,
      ],
      [
        [{ name: "A", type: "string", versions: "0+", default: "null" }],
        /default null needs the field nullable/,
      ],
      [[{ name: "A", type: "[]Missing", versions: "0+" }], /unknown struct type Missing/],
      [
        [
          { name: "A", type: "int8", versions: "0+" },
          { name: "A", type: "int8", versions: "0+" },
        ],
        /duplicate field/,
      ],
    ];
    for (const [fields, pattern] of cases) {
      expect(() => emitMessage(parseMessage(spec(fields), "clients", "t.json"))).toThrow(pattern);
    }
    expect(() =>
      emitMessage(
        parseMessage(spec([{ name: "A", type: "int8", versions: "0+", default: "200" }]), "c", "t.json"),
      ),
    ).toThrow(/out of range for int8/);
  });

  test("a tagged field without `versions` exists in its tagged versions", () => {
    const m = parseMessage(
      spec([{ name: "T", type: "int64", taggedVersions: "3+", tag: 0, default: -1 }]),
      "c",
      "t.json",
    );
    expect(m.root.fields[0]?.versions).toEqual({ lo: 3, hi: VERSION_MAX });
  });
});

describe("emitted code", () => {
  const code = emitMessage(
    parseMessage(
      spec([
        { name: "Name", type: "string", versions: "0+", about: "SECRET ABOUT TEXT" },
        { name: "Limit", type: "int32", versions: "2+", default: "0x7fffffff", about: "more about text" },
        { name: "Epoch", type: "int64", versions: "3+", taggedVersions: "3+", tag: 1, default: "-1" },
        { name: "Ratio", type: "float64", versions: "0+", default: "0.5" },
        { name: "Enabled", type: "bool", versions: "0+", default: "true" },
        { name: "Ids", type: "[]int32", versions: "0+", nullableVersions: "1+" },
      ]),
      "clients",
      "t.json",
    ),
  );

  test("has the DO NOT EDIT header and no text from the spec's `about` or comments", () => {
    expect(code.startsWith("// DO NOT EDIT")).toBe(true);
    expect(code).not.toMatch(/SECRET ABOUT TEXT|more about text|a comment, as in/);
  });

  test("is straight-line code with integer version comparisons and parsed defaults", () => {
    expect(code).toContain("limit: 2147483647,");
    expect(code).toContain("epoch: -1n,");
    expect(code).toContain("ratio: 0.5,");
    expect(code).toContain("enabled: true,");
    expect(code).toContain(
      'version >= 3 ? r.readCompactString("TestMessage.name") : r.readString("TestMessage.name")',
    );
    expect(code).toContain("const t_epoch = m.epoch !== -1n;");
    expect(code).not.toMatch(/JSON\.parse|fields\[|schema/);
  });

  test("is deterministic", () => {
    const again = emitMessage(
      parseMessage(spec([{ name: "Name", type: "string", versions: "0+" }]), "clients", "t.json"),
    );
    const once = emitMessage(
      parseMessage(spec([{ name: "Name", type: "string", versions: "0+" }]), "clients", "t.json"),
    );
    expect(again).toBe(once);
  });
});

describe.skipIf(!SPEC_PRESENT)("generation over Kafka's specs", () => {
  test("the committed generated folder is up to date and generation is reproducible", () => {
    const temp = mkdtempSync(join(tmpdir(), "krill-codegen-test-"));
    try {
      const files = generateAll(SPEC_DIR);
      writeOutput(files, temp);
      expect(compareFolders(temp, GENERATED_DIR)).toEqual([]);
      const second = generateAll(SPEC_DIR);
      expect([...second.entries()]).toEqual([...files.entries()]);
    } finally {
      rmSync(temp, { recursive: true, force: true });
    }
  });

  test("no generated module carries comments beyond the header", () => {
    for (const name of readdirSync(GENERATED_DIR)) {
      const lines = readFileSync(join(GENERATED_DIR, name), "utf8").split("\n");
      const comments = lines
        .filter((l) => l.trimStart().startsWith("//"))
        .filter((l) => !/^\/\/ (DO NOT EDIT|Source:)/.test(l));
      expect(comments, name).toEqual([]);
    }
  });
});

describe("check and CLI helpers", () => {
  test("compareFolders reports differing, missing and extra files", () => {
    const a = mkdtempSync(join(tmpdir(), "krill-a-"));
    const b = mkdtempSync(join(tmpdir(), "krill-b-"));
    try {
      writeFileSync(join(a, "same.ts"), "x");
      writeFileSync(join(b, "same.ts"), "x");
      writeFileSync(join(a, "changed.ts"), "1");
      writeFileSync(join(b, "changed.ts"), "2");
      writeFileSync(join(a, "gone.ts"), "");
      writeFileSync(join(b, "stale.ts"), "");
      expect(compareFolders(a, b)).toEqual(["differs: changed.ts", "missing: gone.ts", "extra: stale.ts"]);
    } finally {
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
    }
  });

  test("arguments", () => {
    expect(parseArgs(["--spec", "s", "--out", "o"])).toEqual({ spec: "s", out: "o" });
    const saved = process.env.KAFKA_SPEC_DIR;
    try {
      delete process.env.KAFKA_SPEC_DIR;
      expect(parseArgs(["--out", "o"], () => "cached")).toEqual({ spec: "cached", out: "o" });
      process.env.KAFKA_SPEC_DIR = "env";
      expect(parseArgs(["--out", "o"], () => "cached")).toEqual({ spec: "env", out: "o" });
    } finally {
      if (saved === undefined) delete process.env.KAFKA_SPEC_DIR;
      else process.env.KAFKA_SPEC_DIR = saved;
    }
    expect(() => parseArgs(["--out", "o", "--bogus"])).toThrow(/unknown argument/);
  });
});

describe("generated tables", () => {
  test("header versions follow Kafka's rules", () => {
    const produce = apiDescriptor(ApiKey.Produce)!;
    expect([produce.requestHeaderVersion(8), produce.requestHeaderVersion(9)]).toEqual([1, 2]);
    expect([produce.responseHeaderVersion(8), produce.responseHeaderVersion(9)]).toEqual([0, 1]);
    const apiVersions = apiDescriptor(ApiKey.ApiVersions)!;
    expect(apiVersions.requestHeaderVersion(3)).toBe(2);
    expect(apiVersions.responseHeaderVersion(3)).toBe(0);
    expect(API_DESCRIPTORS.map((a) => a.apiKey)).toEqual(
      [...API_DESCRIPTORS.map((a) => a.apiKey)].sort((x, y) => x - y),
    );
    expect(apiDescriptor(9999)).toBeUndefined();
    expect(apiDescriptor(ApiKey.Fetch)?.firstFlexibleVersion).toBe(12);
  });

  test("error codes", () => {
    expect(ErrorCode.NONE).toBe(0);
    expect(ErrorCode.UNKNOWN_SERVER_ERROR).toBe(-1);
    expect(ErrorCode.NOT_LEADER_OR_FOLLOWER).toBe(6);
    expect(isRetriableErrorCode(ErrorCode.NOT_LEADER_OR_FOLLOWER)).toBe(true);
    expect(isRetriableErrorCode(ErrorCode.TOPIC_AUTHORIZATION_FAILED)).toBe(false);
    expect(errorCodeInfo(ErrorCode.UNSUPPORTED_VERSION)?.message).toBe(
      "The version of API is not supported.",
    );
    expect(errorCodeName(12345)).toBe("UNKNOWN(12345)");
    const codes = ERROR_CODES.map((e) => e.code);
    expect(codes).toEqual(Array.from({ length: codes.length }, (_, i) => i - 1));
    expect(Math.max(...codes)).toBeGreaterThanOrEqual(133);
  });

  test("record tables", () => {
    expect(metadataRecordCodec(MetadataRecordType.TopicRecord)?.name).toBe("TopicRecord");
    expect(GROUP_COORDINATOR_RECORD_CODECS.map((c) => c.type).slice(0, 4)).toEqual([0, 1, 2, 3]);
    expect(GROUP_COORDINATOR_RECORD_CODECS.find((c) => c.type === 2)?.name).toBe("GroupMetadata");
    expect(TRANSACTION_COORDINATOR_RECORD_CODECS[0]?.name).toBe("TransactionLog");
  });

  test("a non-ignorable field cannot be dropped silently at an older version", () => {
    const msg = defaultJoinGroupRequest();
    msg.groupInstanceId = "instance";
    let caught: unknown;
    try {
      encodeJoinGroupRequest(new Writer(), msg, 4);
    } catch (err) {
      caught = err;
    }
    expect(isKrillError(caught, "ENCODE_ERROR")).toBe(true);
    expect((caught as Error).message).toMatch(/JoinGroupRequest\.groupInstanceId/);
    expect(() => encodeJoinGroupRequest(new Writer(), msg, 5)).not.toThrow();
  });
});
