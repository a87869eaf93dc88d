import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  coordinatorPartitionFor,
  javaStringHashCode,
  kafkaAbs,
} from "../../../src/server/group/java-hash.js";

describe("Java String.hashCode and Kafka's partitionFor", () => {
  it("matches values the JVM gives", () => {
    // Values from `"...".hashCode()` on a JVM.
    expect(javaStringHashCode("")).toBe(0);
    expect(javaStringHashCode("hello")).toBe(99162322);
    expect(javaStringHashCode("Aa")).toBe(2112);
    expect(javaStringHashCode("BB")).toBe(2112);
    expect(javaStringHashCode("polygenelubricants")).toBe(-2147483648);
    // UTF-16 code units: a character outside the BMP counts as its two surrogates.
    expect(javaStringHashCode("\u{1F600}")).toBe(0xd83d * 31 + 0xde00);
  });

  it("Utils.abs maps Integer.MIN_VALUE to 0, not to a negative number", () => {
    expect(kafkaAbs(-2147483648)).toBe(0);
    expect(kafkaAbs(-1)).toBe(1);
    expect(kafkaAbs(-2147483647)).toBe(2147483647);
    // Kafka places a group whose id hashes negative by the absolute value (checked with Java's
    // String.hashCode and Utils.abs): -168632561 % 10 = 1, where n & 0x7fffffff would give 7.
    expect(javaStringHashCode("cluster-cli-group-1796327413311-11008")).toBe(-168632561);
    expect(coordinatorPartitionFor("cluster-cli-group-1796327413311-11008", 10)).toBe(1);
    expect(coordinatorPartitionFor("polygenelubricants", 50)).toBe(0);
    expect(coordinatorPartitionFor("hello", 50)).toBe(99162322 % 50);
  });

  it("always lands inside the partition range", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), fc.integer({ min: 1, max: 1000 }), (key, n) => {
        const p = coordinatorPartitionFor(key, n);
        return Number.isInteger(p) && p >= 0 && p < n;
      }),
    );
  });
});
