/**
 * The spec source of the generator: the zip reader that takes the JSON specs out of Kafka's jars,
 * and the extracted cache's layout (checked when the cache is present, as after make generate).
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { deflateRawSync } from "node:zlib";
import { describe, expect, test } from "vitest";
import { cachedSpecDir, readZip, SPEC_SOURCES } from "../../../tools/codegen/kafka-specs.js";
import { SPEC_GROUPS } from "../../../tools/codegen/spec.js";

/** A zip holding `entries`, each stored (method 0) or deflated (method 8), as a jar tool writes them. */
function zip(entries: { name: string; data: Buffer; deflate: boolean }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, "utf8");
    const body = e.deflate ? deflateRawSync(e.data) : e.data;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(e.deflate ? 8 : 0, 8);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(e.deflate ? 8 : 0, 10);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

describe("reading Kafka's jars", () => {
  test("stored and deflated entries come back byte for byte", () => {
    const spec = Buffer.from('{ "apiKey": 0, "type": "request", "name": "ProduceRequest" }\n'.repeat(20));
    const jar = zip([
      { name: "META-INF/MANIFEST.MF", data: Buffer.from("Manifest-Version: 1.0\n"), deflate: false },
      { name: "common/message/ProduceRequest.json", data: spec, deflate: true },
    ]);
    const entries = readZip(jar);
    expect(entries.map((e) => e.name)).toEqual([
      "META-INF/MANIFEST.MF",
      "common/message/ProduceRequest.json",
    ]);
    expect(entries[0]!.data().toString()).toBe("Manifest-Version: 1.0\n");
    expect(entries[1]!.data().equals(spec)).toBe(true);
  });

  test("a file that is not a zip is refused with the reason", () => {
    expect(() => readZip(Buffer.alloc(100))).toThrow(/not a zip file/);
    const jar = zip([{ name: "a.json", data: Buffer.from("{}"), deflate: false }]);
    jar.writeUInt32LE(0, jar.readUInt32LE(jar.length - 22 + 16)); // the directory entry's signature
    expect(() => readZip(jar)).toThrow(/corrupt zip central directory/);
  });

  test("every spec group the generator reads comes from one jar", () => {
    expect(SPEC_SOURCES.map((s) => s.group).sort()).toEqual([...SPEC_GROUPS].sort());
  });

  const cached = cachedSpecDir();
  test.skipIf(cached === undefined)("the extracted cache holds every group's JSON specs", () => {
    for (const { group } of SPEC_SOURCES) {
      const dir = join(cached!, group);
      expect(existsSync(dir), dir).toBe(true);
      expect(readdirSync(dir).filter((f) => f.endsWith(".json")).length).toBeGreaterThan(0);
    }
    expect(readdirSync(join(cached!, "clients"))).toContain("ProduceRequest.json");
  });
});
