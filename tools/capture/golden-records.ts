/**
 * The records every capture program produces, so golden tests can check decoded contents exactly.
 * tools/capture/java/CaptureBatches.java repeats them by hand (Java cannot import this file); the
 * golden test for the Java files fails if the two drift apart.
 */
export const GOLDEN_TOPIC = "golden";
export const GOLDEN_TIMESTAMP_MS = 1_700_000_000_000;

export interface GoldenRecord {
  key: string | null;
  value: string | null;
  headers: [string, string][];
  timestampMs: number;
}

export const GOLDEN_RECORDS: GoldenRecord[] = [
  {
    key: "key-0",
    value: `value-0 ${"the quick brown fox jumps over the lazy dog ".repeat(20)}`,
    headers: [
      ["h1", "v1"],
      ["h2", ""],
    ],
    timestampMs: GOLDEN_TIMESTAMP_MS,
  },
  { key: null, value: "value-1", headers: [], timestampMs: GOLDEN_TIMESTAMP_MS + 1 },
  { key: "key-2", value: null, headers: [], timestampMs: GOLDEN_TIMESTAMP_MS + 2 },
  { key: "ключ-3", value: "", headers: [["empty", ""]], timestampMs: GOLDEN_TIMESTAMP_MS + 3 },
  { key: "key-4", value: "0123456789".repeat(300), headers: [], timestampMs: GOLDEN_TIMESTAMP_MS + 4 },
];

/**
 * What kcat can express: one line per record as key:value, the same headers on every record
 * (-H), no per-record timestamps (librdkafka stamps the produce time), and -Z turns an empty
 * value into null.
 */
export const KCAT_LINES = [
  `key-0:value-0 ${"the quick brown fox jumps over the lazy dog ".repeat(20)}`,
  "key-1:value-1",
  "key-2:",
  `key-4:${"0123456789".repeat(300)}`,
];
export const KCAT_HEADERS: [string, string][] = [
  ["h1", "v1"],
  ["source", "kcat"],
];
