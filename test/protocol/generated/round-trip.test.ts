/**
 * Property test: every generated message round-trips at every valid version. For arbitrary
 * version-appropriate values x: decode(encode(x)) deep-equals x, the decoder consumes exactly the
 * encoded bytes, and encode(decode(encode(x))) is byte-identical to encode(x). ROUNDTRIP_RUNS sets the
 * values per version (12 by default).
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Reader } from "../../../src/protocol/primitives/reader.js";
import { Writer } from "../../../src/protocol/primitives/writer.js";
import { ArbitraryBuilder, codecOf, messages, SPEC_PRESENT, versionsOf } from "./schema-arbitraries.js";

const RUNS_PER_VERSION = Number(process.env.ROUNDTRIP_RUNS ?? 12);

function encode(codec: ReturnType<typeof codecOf>, msg: unknown, version: number): Buffer {
  const w = new Writer(64);
  codec.encode(w, msg, version);
  return w.finish();
}

describe.skipIf(!SPEC_PRESENT)("generated codecs round-trip", () => {
  for (const m of messages()) {
    test(`${m.group}/${m.name} v${m.validVersions.lo}-${m.validVersions.hi}`, () => {
      const codec = codecOf(m);
      for (const version of versionsOf(m)) {
        fc.assert(
          fc.property(new ArbitraryBuilder(m, version).message(), (msg) => {
            const bytes = encode(codec, msg, version);
            const r = new Reader(bytes);
            const decoded = codec.decode(r, version);
            expect(r.remaining()).toBe(0);
            expect(decoded).toEqual(msg);
            const again = encode(codec, decoded, version);
            expect(again.equals(bytes)).toBe(true);
          }),
          { numRuns: RUNS_PER_VERSION },
        );
      }
    });
  }

  test("the spec folder yields every group", () => {
    const groups = new Set(messages().map((m) => m.group));
    expect([...groups].sort()).toEqual(
      [
        "clients",
        "group-coordinator",
        "metadata",
        "raft",
        "share-coordinator",
        "storage",
        "transaction-coordinator",
      ].sort(),
    );
  });
});
