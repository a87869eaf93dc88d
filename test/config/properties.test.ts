import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseProperties } from "../../src/config/properties.js";
import { isKrillError } from "../../src/errors.js";

describe("parseProperties", () => {
  it("reads keys, values, comments and the three separators", () => {
    const text = [
      "# comment",
      "! also a comment",
      "   ",
      "a=1",
      "b : 2",
      "c 3",
      "d",
      "  e  =  spaced value  ",
    ].join("\n");
    const props = parseProperties(text);
    expect([...props.entries()]).toEqual([
      ["a", "1"],
      ["b", "2"],
      ["c", "3"],
      ["d", ""],
      ["e", "spaced value  "],
    ]);
  });

  it("joins continuation lines and drops their leading whitespace", () => {
    const props = parseProperties("listeners=PLAINTEXT://:9092,\\\n    CONTROLLER://:9093\nx=y\\\\\nz=1");
    expect(props.get("listeners")).toBe("PLAINTEXT://:9092,CONTROLLER://:9093");
    // An even number of trailing backslashes is an escaped backslash, not a continuation.
    expect(props.get("x")).toBe("y\\");
    expect(props.get("z")).toBe("1");
  });

  it("decodes escapes in keys and values", () => {
    const props = parseProperties("my\\=key=a\\tb\\u0041\\:c\r\nother\\ key = v");
    expect(props.get("my=key")).toBe("a\tbA:c");
    expect(props.get("other key")).toBe("v");
  });

  it("later keys win and CRLF line ends are accepted", () => {
    const props = parseProperties("a=1\r\na=2\r\n");
    expect(props.get("a")).toBe("2");
  });

  it("rejects a malformed unicode escape with the line number", () => {
    try {
      parseProperties("a=1\nb=\\u12G4", "server.properties");
      expect.unreachable();
    } catch (err) {
      expect(isKrillError(err, "CONFIG_INVALID")).toBe(true);
      expect((err as Error).message).toContain("server.properties:2");
    }
  });

  it("round-trips simple key=value pairs (property)", () => {
    const key = fc.stringMatching(/^[a-z][a-z0-9.]{0,20}$/);
    const value = fc.stringMatching(/^[A-Za-z0-9,:/._-]{0,30}$/);
    fc.assert(
      fc.property(fc.dictionary(key, value), (dict) => {
        const text = Object.entries(dict)
          .map(([k, v]) => `${k}=${v}`)
          .join("\n");
        const parsed = parseProperties(text);
        expect(Object.fromEntries(parsed)).toEqual(dict);
      }),
      { numRuns: 200 },
    );
  });

  it("never throws anything but KrillError on arbitrary text (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        try {
          parseProperties(text);
        } catch (err) {
          expect(isKrillError(err, "CONFIG_INVALID")).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
