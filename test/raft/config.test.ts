import { describe, expect, it } from "vitest";
import { isKrillError } from "../../src/errors.js";
import { parseVoters, quorumConfigFromProperties } from "../../src/raft/config.js";

describe("quorum config", () => {
  it("reads controller.quorum.* with Kafka's defaults", () => {
    const c = quorumConfigFromProperties({ "controller.quorum.voters": "1@localhost:9093,2@[::1]:9094" });
    expect(c.voters).toEqual([
      { id: 1, host: "localhost", port: 9093 },
      { id: 2, host: "::1", port: 9094 },
    ]);
    expect(c.electionTimeoutMs).toBe(1000);
    expect(c.fetchTimeoutMs).toBe(2000);
    expect(c.electionBackoffMaxMs).toBe(1000);
    expect(c.requestTimeoutMs).toBe(2000);
    expect(c.retryBackoffMs).toBe(20);
    expect(c.appendLingerMs).toBe(25);
    const o = quorumConfigFromProperties({
      "controller.quorum.bootstrap.servers": "a:1,b:2",
      "controller.quorum.election.timeout.ms": "300",
    });
    expect(o.bootstrapServers).toEqual(["a:1", "b:2"]);
    expect(o.electionTimeoutMs).toBe(300);
  });

  it("rejects malformed voters and values with the key named", () => {
    for (const bad of ["1@localhost", "x@h:1", "1@h:1,1@h:2", "1@h:70000"]) {
      expect(() => parseVoters(bad)).toThrow(/controller.quorum.voters/);
    }
    expect(() => quorumConfigFromProperties({})).toThrow(/must be set/);
    try {
      quorumConfigFromProperties({
        "controller.quorum.voters": "1@h:1",
        "controller.quorum.fetch.timeout.ms": "-5",
      });
    } catch (err) {
      expect(isKrillError(err, "CONFIG_INVALID")).toBe(true);
      expect(String(err)).toContain("controller.quorum.fetch.timeout.ms");
    }
  });
});
