import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BROKER_CONFIG_DEFS } from "../../src/config/broker-config.js";
import { TOPIC_CONFIG_DEFS } from "../../src/config/topic-config.js";

describe("docs/config.md", () => {
  const doc = readFileSync(path.resolve(import.meta.dirname, "../../docs/config.md"), "utf8");

  it("documents every broker and topic key with its current default", () => {
    for (const d of [...BROKER_CONFIG_DEFS, ...TOPIC_CONFIG_DEFS]) {
      const row = doc.split("\n").find((line) => line.startsWith(`| \`${d.name}\` |`));
      expect(row, d.name).toBeDefined();
      if (d.defaultValue !== null) expect(row, d.name).toContain(`\`${d.defaultValue}\``);
    }
  });
});
