import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { crc32c, crc32cImplementation, crc32cJs } from "../../src/protocol/crc32c.js";

describe("crc32c", () => {
  it("uses the native implementation on this platform", () => {
    expect(crc32cImplementation).toBe("native");
  });

  it("matches the standard check value", () => {
    // The CRC-32C check value of "123456789" (RFC 3720, appendix B.4).
    expect(crc32c(Buffer.from("123456789"))).toBe(0xe3069283);
    expect(crc32cJs(Buffer.from("123456789"))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(0))).toBe(0);
  });

  it("pure-JS fallback agrees with native on random input, including continuation", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat({ max: 600 }), (bytes, cut) => {
        const buf = Buffer.from(bytes);
        const whole = crc32c(buf);
        expect(crc32cJs(buf)).toBe(whole);
        const at = Math.min(cut, buf.length);
        const first = crc32cJs(buf.subarray(0, at));
        expect(crc32cJs(buf.subarray(at), first)).toBe(whole);
        expect(crc32c(buf.subarray(at), crc32c(buf.subarray(0, at)))).toBe(whole);
      }),
      { numRuns: 300 },
    );
  });

  it("falls back to the pure-JS implementation when told to (KRILL_CRC32C=js)", async () => {
    vi.stubEnv("KRILL_CRC32C", "js");
    vi.resetModules();
    try {
      const fallback = await import("../../src/protocol/crc32c.js");
      expect(fallback.crc32cImplementation).toBe("js");
      const buf = Buffer.from("the quick brown fox jumps over the lazy dog");
      expect(fallback.crc32c(buf)).toBe(crc32c(buf));
      expect(fallback.crc32c(buf.subarray(10), fallback.crc32c(buf.subarray(0, 10)))).toBe(crc32c(buf));
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });
});
