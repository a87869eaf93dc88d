import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isKrillError } from "../../src/errors.js";
import { FileQuorumStateStore } from "../../src/raft/file-quorum-state-store.js";

const dirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "krill-quorum-state-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe("FileQuorumStateStore", () => {
  it("writes Kafka's version 0 JSON for static voters and reads it back", () => {
    const dir = tempDir();
    const store = new FileQuorumStateStore(dir, [1, 2, 3]);
    expect(store.read()).toBeNull();
    store.write({ epoch: 2, leaderId: 1, votedId: -1 });
    expect(fs.readFileSync(path.join(dir, "quorum-state"), "utf8")).toBe(
      '{"clusterId":"","leaderId":1,"leaderEpoch":2,"votedId":-1,"appliedOffset":0,' +
        '"currentVoters":[{"voterId":1},{"voterId":2},{"voterId":3}],"data_version":0}',
    );
    expect(fs.existsSync(path.join(dir, "quorum-state.tmp"))).toBe(false);
    store.write({ epoch: 3, leaderId: -1, votedId: 2 });
    expect(new FileQuorumStateStore(dir, [1, 2, 3]).read()).toEqual({ epoch: 3, leaderId: -1, votedId: 2 });
  });

  it("reads the version 1 file Kafka writes with kraft.version 1", () => {
    const dir = tempDir();
    fs.writeFileSync(
      path.join(dir, "quorum-state"),
      '{"leaderId":-1,"leaderEpoch":2,"votedId":1,"votedDirectoryId":"J8aAPcfLQt2bqs1JT_rMgQ","data_version":1}',
    );
    expect(new FileQuorumStateStore(dir, [1]).read()).toEqual({ epoch: 2, leaderId: -1, votedId: 1 });
    new FileQuorumStateStore(dir, [1], 1).write({ epoch: 4, leaderId: 1, votedId: -1 });
    expect(JSON.parse(fs.readFileSync(path.join(dir, "quorum-state"), "utf8"))).toEqual({
      leaderId: 1,
      leaderEpoch: 4,
      votedId: -1,
      votedDirectoryId: "AAAAAAAAAAAAAAAAAAAAAA",
      data_version: 1,
    });
  });

  it("refuses a file it cannot trust, naming it", () => {
    const dir = tempDir();
    const file = path.join(dir, "quorum-state");
    for (const bad of [
      "{",
      '{"leaderId":1,"leaderEpoch":2,"votedId":-1,"data_version":7}',
      '{"data_version":1}',
    ]) {
      fs.writeFileSync(file, bad);
      try {
        new FileQuorumStateStore(dir, [1]).read();
        expect.unreachable();
      } catch (err) {
        expect(isKrillError(err, "CORRUPT_SEGMENT")).toBe(true);
        expect(String(err)).toContain(file);
      }
    }
  });

  it("ignores a leftover quorum-state.tmp from a crash mid-write", () => {
    const dir = tempDir();
    const store = new FileQuorumStateStore(dir, [1]);
    store.write({ epoch: 1, leaderId: 1, votedId: -1 });
    fs.writeFileSync(path.join(dir, "quorum-state.tmp"), '{"torn');
    expect(store.read()).toEqual({ epoch: 1, leaderId: 1, votedId: -1 });
    store.write({ epoch: 2, leaderId: -1, votedId: -1 });
    expect(store.read()?.epoch).toBe(2);
    expect(fs.existsSync(path.join(dir, "quorum-state.tmp"))).toBe(false);
  });
});
