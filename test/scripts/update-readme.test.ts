import { describe, expect, it } from "vitest";
import { benchHeadline, compatTable, tableUnder } from "../../scripts/update-readme.js";

const report = `# Compatibility report

## Client versions

| Client | Version |
| --- | --- |
| kcat | kcat 1.7.1 |

## Matrix

| Client | Scenario | Krill | Apache Kafka (reference) |
| --- | --- | --- | --- |
| kcat | metadata | pass (0.1 s) | pass (1.4 s) |
| kcat | codecs | fail (3.8 s) | pass (8.2 s) |
| tc | podman-run | pass (1.0 s) | not run |

## Failures
`;

describe("update-readme", () => {
  it("reads the first table under a heading, without its separator row", () => {
    expect(tableUnder(report, "Client versions")).toEqual([
      ["Client", "Version"],
      ["kcat", "kcat 1.7.1"],
    ]);
    expect(() => tableUnder(report, "Nope")).toThrow(/no "## Nope" section/);
  });

  it("summarises the compat matrix per client, counting passes on each target", () => {
    const table = compatTable(report);
    expect(table.split("\n")[2]).toBe("| kcat | kcat 1.7.1 | metadata, codecs | 1 / 2 pass | 2 / 2 pass |");
    expect(table.split("\n")[3]).toBe("| tc |  | podman-run | 1 / 1 pass | not run |");
  });

  it("copies the benchmark headline table", () => {
    const results = "## Headline\n\n| Figure | Kafka |\n| --- | --- |\n| Idle RSS | 313 |\n\n## Next\n";
    expect(benchHeadline(results)).toBe("| Figure | Kafka |\n| --- | --- |\n| Idle RSS | 313 |");
  });
});
