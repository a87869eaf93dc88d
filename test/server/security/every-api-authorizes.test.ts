import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

/**
 * Fail closed: with an authorizer configured, every API must check what Kafka's KafkaApis and
 * ControllerApis check. A handler that does not import the authorization helpers must be listed
 * here with where its check is made (or why Kafka makes none), so a new API cannot be served
 * unchecked by accident.
 */
const CHECKED_ELSEWHERE: Record<string, string> = {
  "017-sasl-handshake.ts": "no check in Kafka (before authentication)",
  "018-api-versions.ts": "no check in Kafka",
  "036-sasl-authenticate.ts": "no check in Kafka (before authentication)",
  "033-alter-configs.ts": "src/server/alter-configs.ts (ALTER_CONFIGS)",
  "044-incremental-alter-configs.ts": "src/server/alter-configs.ts (ALTER_CONFIGS)",
  "052-vote.ts": "src/server/raft-apis.ts (CLUSTER_ACTION)",
  "053-begin-quorum-epoch.ts": "src/server/raft-apis.ts (CLUSTER_ACTION)",
  "054-end-quorum-epoch.ts": "src/server/raft-apis.ts (CLUSTER_ACTION)",
  "059-fetch-snapshot.ts": "src/server/raft-apis.ts (CLUSTER_ACTION)",
};

describe("authorization coverage", () => {
  it("every handler authorizes its request, or is listed with where it does", () => {
    const dir = path.join(import.meta.dirname, "../../../src/server/handlers");
    const unchecked = readdirSync(dir)
      .filter((f) => /^\d{3}-.*\.ts$/.test(f))
      .filter((f) => !readFileSync(path.join(dir, f), "utf8").includes('from "../auth.js"'))
      .filter((f) => CHECKED_ELSEWHERE[f] === undefined);
    expect(unchecked).toEqual([]);
    for (const [file, where] of Object.entries(CHECKED_ELSEWHERE)) {
      const source = where.match(/^(src\/\S+)/)?.[1];
      if (source !== undefined)
        expect(readFileSync(path.join(dir, "../../..", source), "utf8")).toContain("authoriz");
      expect(readdirSync(dir)).toContain(file);
    }
  });
});
