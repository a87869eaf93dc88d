import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { isKrillError } from "../../../src/errors.js";
import { Reader } from "../../../src/protocol/primitives/reader.js";
import {
  isValidUuid,
  METADATA_TOPIC_ID,
  uuidFromBytes,
  uuidToBuffer,
  ZERO_UUID,
} from "../../../src/protocol/primitives/uuid.js";
import { Writer } from "../../../src/protocol/primitives/writer.js";

describe("uuid string form (Kafka's Uuid.toString)", () => {
  test("zero and metadata topic ids", () => {
    expect(uuidFromBytes(Buffer.alloc(16), 0)).toBe(ZERO_UUID);
    const one = Buffer.alloc(16);
    one[15] = 1;
    expect(uuidFromBytes(one, 0)).toBe(METADATA_TOPIC_ID);
    expect(uuidToBuffer(METADATA_TOPIC_ID)).toEqual(one);
  });

  test("most significant long first, URL-safe alphabet, no padding", () => {
    const b = Buffer.from("fbfffffffffffffffbfffffffffffff0", "hex");
    const s = uuidFromBytes(b, 0);
    expect(s).toHaveLength(22);
    expect(s).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(s.startsWith("-_")).toBe(true);
    expect(uuidToBuffer(s)).toEqual(b);
  });

  test("round trip of any 16 bytes through Writer and Reader", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const s = uuidFromBytes(Buffer.from(bytes), 0);
        const w = new Writer();
        w.writeUuid(s);
        const out = w.finish();
        expect(out).toEqual(Buffer.from(bytes));
        expect(new Reader(out).readUuid()).toBe(s);
      }),
    );
  });

  test("rejects strings that are not exactly one uuid", () => {
    for (const bad of [
      "",
      "AAAAAAAAAAAAAAAAAAAAA",
      "AAAAAAAAAAAAAAAAAAAAAAA",
      "AAAAAAAAAAAAAAAAAAAA==",
      "AAAAAAAAAAAAAAAAAAAA+/",
      "AAAAAAAAAAAAAAAAAAAAAB",
      "AAAAAAAAAAAAAAAAAAAAAé",
    ]) {
      expect(isValidUuid(bad), bad).toBe(false);
      let caught: unknown;
      try {
        new Writer().writeUuid(bad);
      } catch (err) {
        caught = err;
      }
      expect(isKrillError(caught, "ENCODE_ERROR")).toBe(true);
    }
  });
});
