import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { KRILL_EQUIVALENT_OVERRIDES } from "../../bench/src/broker.js";

// Keys of broker.sh's Kafka server.properties that are about where and how the node listens, or
// about features Krill does not have (KRaft controller wiring, share groups): not behaviour that a
// benchmark could notice.
const NOT_COMPARED =
  /^(process\.roles|controller\.|listeners|advertised\.listeners|inter\.broker\.|listener\.security|log\.dirs|share\.coordinator\.)/;

describe("Krill's benchmark settings", () => {
  it("match every behaviour setting compat-tests/broker.sh gives Kafka", () => {
    const script = readFileSync(join(import.meta.dirname, "../../compat-tests/broker.sh"), "utf8");
    const block = /cat >"\$dir\/server\.properties" <<PROPS\n([\s\S]*?)\nPROPS/.exec(script);
    expect(block).not.toBeNull();
    const kafka = block![1]!
      .split("\n")
      .filter((l) => l.includes("=") && !l.startsWith("#"))
      .map((l) => l.trim());
    const compared = kafka.filter((l) => !NOT_COMPARED.test(l));
    expect(compared).toContain("group.initial.rebalance.delay.ms=0");
    for (const setting of compared) expect(KRILL_EQUIVALENT_OVERRIDES).toContain(setting);
  });
});
