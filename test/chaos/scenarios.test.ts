import { describe, expect, it } from "vitest";
import { type Roles, SCENARIOS, type ScenarioContext, scenarioNamed } from "../../chaos/src/scenarios.js";
import { describeFault, type Fault } from "../../chaos/src/schedule.js";

/**
 * A toy three-node cluster that reacts to faults the way a correct one would, at once: a dead or
 * cut-off node leaves the ISR, the leader is the first in-sync live replica in replica order (no
 * unclean election), the controller stays until it goes (then the lowest live voter, with a majority), a restarted node
 * rejoins the ISR. Enough to check what each script aims at and that it undoes what it does.
 */
class ToyCluster {
  readonly replicas = [2, 3, 1];
  readonly down = new Set<number>();
  readonly cut = new Set<number>();
  isr = [2, 3, 1];
  leader = 2;
  controller: number | undefined = 1;
  readonly faults: Fault[] = [];

  private reachable(id: number): boolean {
    return !this.down.has(id) && !this.cut.has(id);
  }

  private settle(): void {
    const live = [1, 2, 3].filter((id) => this.reachable(id));
    if (live.length < 2) return; // no quorum: nothing changes
    const inSync = this.isr.filter((id) => this.reachable(id));
    if (!this.reachable(this.leader)) this.leader = this.replicas.find((id) => inSync.includes(id)) ?? -1;
    if (this.leader < 0) {
      // A replica of the last ISR comes back: it leads again.
      this.leader = this.replicas.find((id) => this.isr.includes(id) && this.reachable(id)) ?? -1;
    }
    this.isr = this.leader < 0 ? this.isr : this.replicas.filter((id) => this.reachable(id));
  }

  roles(): Roles {
    this.settle();
    const live = [1, 2, 3].filter((id) => this.reachable(id));
    if (live.length < 2) this.controller = undefined;
    else if (this.controller === undefined || !live.includes(this.controller)) this.controller = live[0];
    return { leader: this.leader, replicas: this.replicas, isr: this.isr, controller: this.controller };
  }

  apply(f: Fault): void {
    this.faults.push(f);
    if (f.kind === "kill" || f.kind === "lose-unflushed") this.down.add(f.node);
    else if (f.kind === "restart") this.down.delete(f.node);
    else if (f.kind === "wipe") expect(this.down.has(f.node)).toBe(true);
    else if (f.kind === "partition") for (const id of f.sides[0]!) this.cut.add(id);
    else if (f.kind === "heal-net") this.cut.clear();
  }

  context(): ScenarioContext {
    return {
      nodes: [1, 2, 3],
      roles: async () => this.roles(),
      apply: async (f) => this.apply(f),
      applyTogether: async (fs) => {
        for (const f of fs) this.apply(f);
      },
      until: async (_what, ok) => ok(this.roles()),
      steps: async () => {},
      log: () => {},
    };
  }
}

async function play(name: string): Promise<{ toy: ToyCluster; faults: string[] }> {
  const toy = new ToyCluster();
  await scenarioNamed(name)!.run(toy.context());
  return { toy, faults: toy.faults.map(describeFault) };
}

describe("named chaos scenarios", () => {
  it("hw-truncation restarts the first in-sync follower, then kills the leader at once", async () => {
    const { faults } = await play("hw-truncation");
    expect(faults).toEqual(["kill node 3", "restart node 3", "kill node 2", "restart node 2"]);
  });

  it("double-crash kills the leader and a follower together and brings the follower back first", async () => {
    const { faults } = await play("double-crash");
    expect(faults).toEqual(["kill node 2", "kill node 3", "restart node 3", "restart node 2"]);
  });

  it("back-to-back kills the leader and then the one elected after it", async () => {
    const { faults } = await play("back-to-back");
    expect(faults).toEqual(["kill node 2", "kill node 3", "restart node 2", "restart node 3"]);
  });

  it("zombie-leader cuts the leader off from the other nodes, then heals", async () => {
    const { faults } = await play("zombie-leader");
    expect(faults).toEqual(["partition {2} | {1,3}", "heal network"]);
  });

  it("last-replica-standing takes the followers down first and brings the leader back last", async () => {
    const { faults } = await play("last-replica-standing");
    expect(faults).toEqual([
      "kill node 3",
      "kill node 1",
      "kill node 2",
      "restart node 3",
      "restart node 1",
      "restart node 2",
    ]);
  });

  it("empty-disk-follower wipes the follower an election would pick, then kills the leader", async () => {
    const { faults } = await play("empty-disk-follower");
    expect(faults).toEqual(["kill node 3", "wipe node 3", "restart node 3", "kill node 2", "restart node 2"]);
  });

  it("controller-unflushed takes the active controller's unflushed data twice", async () => {
    const { faults } = await play("controller-unflushed");
    expect(faults).toEqual([
      "lose-unflushed node 1",
      "restart node 1",
      "lose-unflushed node 2",
      "restart node 2",
    ]);
  });

  it("every scenario restarts every node it stops and heals every cut", async () => {
    for (const s of SCENARIOS) {
      const { toy } = await play(s.name);
      expect({ scenario: s.name, down: [...toy.down], cut: [...toy.cut] }).toEqual({
        scenario: s.name,
        down: [],
        cut: [],
      });
    }
  });
});
