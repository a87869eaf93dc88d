import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type Cluster, type ClusterNode, KrillCluster } from "../../chaos/src/cluster.js";
import { Nemesis } from "../../chaos/src/nemesis.js";
import { LoopbackNetwork, NetnsNetwork } from "../../chaos/src/net.js";

/** A node that is just an idle process, so signals can be observed in /proc. */
class IdleNode implements ClusterNode {
  readonly host = "127.0.0.1";
  readonly port = 0;
  child: ChildProcess | undefined;
  starts = 0;
  private exit: Promise<void> = Promise.resolve();
  constructor(readonly id: number) {}
  pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }
  async start(): Promise<void> {
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], {
      detached: true,
      stdio: "ignore",
    });
    this.child = child;
    this.starts++;
    this.exit = new Promise((r) => child.once("exit", () => r()));
  }
  signal(signal: NodeJS.Signals): void {
    const pid = this.pid();
    if (pid !== undefined) process.kill(-pid, signal);
  }
  exited(): Promise<void> {
    return this.exit;
  }
  loseUnflushed(): never {
    throw new Error("an idle node has no data");
  }
  wipeWorkloadData(): never {
    throw new Error("an idle node has no data");
  }
  /** The process state letter from /proc (S sleeping, R running, T stopped). */
  state(): string {
    const stat = readFileSync(`/proc/${this.pid()}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  }
}

function idleCluster(n: number): Cluster & { nodes: IdleNode[] } {
  const nodes = Array.from({ length: n }, (_, i) => new IdleNode(i + 1));
  return {
    target: "krill",
    nodes,
    replicationFactor: 1,
    minInsyncReplicas: 1,
    bootstrap: () => "",
    start: async () => {
      for (const x of nodes) await x.start();
    },
    stop: async () => {
      for (const x of nodes) {
        x.signal("SIGCONT");
        x.signal("SIGKILL");
      }
      await Promise.all(nodes.map((x) => x.exited()));
    },
  };
}

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("nemesis (process faults)", () => {
  let cluster: ReturnType<typeof idleCluster> | undefined;
  afterEach(async () => {
    await cluster?.stop();
  });

  it("kills and restarts, pauses and resumes, and records each fault", async () => {
    cluster = idleCluster(2);
    await cluster.start();
    const [n1, n2] = cluster.nodes;
    const nemesis = new Nemesis(cluster, new LoopbackNetwork(), Date.now());
    await nemesis.apply(0, { kind: "pause", node: 2 });
    await waitFor(() => n2!.state() === "T", "node 2 to stop");
    const firstPid = n1!.pid();
    await nemesis.apply(1, { kind: "kill", node: 1 });
    expect(n1!.pid()).toBeUndefined();
    await nemesis.apply(2, { kind: "restart", node: 1 });
    expect(n1!.pid()).not.toBe(firstPid);
    expect(n1!.starts).toBe(2);
    await nemesis.apply(3, { kind: "resume", node: 2 });
    await waitFor(() => n2!.state() !== "T", "node 2 to continue");
    expect(nemesis.log.map((r) => r.description)).toEqual([
      "pause node 2",
      "kill node 1",
      "restart node 1",
      "resume node 2",
    ]);
    expect(nemesis.clean()).toBe(true);
  });

  it("wipes a stopped node's replicas of the workload topics and nothing else", async () => {
    const dir = mkdtempSync(join(tmpdir(), "krill-chaos-wipe-"));
    try {
      const krill = new KrillCluster({ dir, net: new LoopbackNetwork(), portBase: 30_000, partitions: 3 });
      const data = join(dir, "node-1", "data");
      for (const name of ["chaos-queue-0", "chaos-txn-2", "chaos-queue-extra", "__consumer_offsets-0"])
        mkdirSync(join(data, name), { recursive: true });
      writeFileSync(join(data, "chaos-queue-0", "00000000000000000000.log"), "x");
      writeFileSync(join(data, "meta.properties"), "version=1\n");
      const nemesis = new Nemesis(krill, new LoopbackNetwork(), Date.now());
      const record = await nemesis.apply(0, { kind: "wipe", node: 1 });
      expect(record.error).toBeUndefined();
      expect(record.description).toBe("wipe node 1: 2 partition directories deleted");
      expect(readdirSync(data).sort()).toEqual([
        "__consumer_offsets-0",
        "chaos-queue-extra",
        "meta.properties",
      ]);
      expect(existsSync(join(data, "chaos-queue-0"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("healAll undoes what is still in effect, also after a fault that failed", async () => {
    cluster = idleCluster(2);
    await cluster.start();
    const [n1, n2] = cluster.nodes;
    const nemesis = new Nemesis(cluster, new LoopbackNetwork(), Date.now());
    await nemesis.apply(0, { kind: "pause", node: 1 });
    await nemesis.apply(1, { kind: "kill", node: 2 });
    // A network fault on loopback fails; the failure is recorded, not thrown.
    const failed = await nemesis.apply(2, { kind: "partition", sides: [[1], [2]] });
    expect(failed.error).toMatch(/netns/);
    expect(nemesis.clean()).toBe(false);
    const undone = await nemesis.healAll();
    expect(undone).toEqual(["resume node 1", "restart node 2"]);
    await waitFor(() => n1!.state() !== "T", "node 1 to continue");
    expect(n2!.pid()).toBeDefined();
    expect(nemesis.clean()).toBe(true);
  });
});

const isRoot = process.getuid?.() === 0;
const hasTools = (() => {
  try {
    execFileSync("ip", ["-V"], { stdio: "ignore" });
    execFileSync("iptables", ["-V"], { stdio: "ignore" });
    // Root is not enough in every container: creating a namespace needs CAP_SYS_ADMIN.
    const probe = `kchaosprobe${process.pid}`;
    execFileSync("ip", ["netns", "add", probe], { stdio: "ignore" });
    execFileSync("ip", ["netns", "del", probe], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** Whether a TCP connection from node `from`'s namespace to address:port succeeds within 1.5 s. */
function canConnect(owner: number, from: number, address: string, port: number): boolean {
  const script = `const s=require("net").connect(${port},"${address}");s.on("connect",()=>process.exit(0));s.on("error",()=>process.exit(1));setTimeout(()=>process.exit(2),1500)`;
  try {
    execFileSync(
      "ip",
      ["netns", "exec", NetnsNetwork.nodeName(owner, from), process.execPath, "-e", script],
      {
        stdio: "ignore",
      },
    );
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!isRoot || !hasTools)("network namespaces (root)", () => {
  it("partitions nodes with iptables inside their namespaces, heals, and deletes everything", async () => {
    // A distinct owner id per test process, so parallel runs never share namespaces.
    const owner = process.pid;
    const net = NetnsNetwork.create(owner, [1, 2]);
    let server: ChildProcess | undefined;
    try {
      server = spawn(
        "ip",
        [
          "netns",
          "exec",
          NetnsNetwork.nodeName(owner, 1),
          process.execPath,
          "-e",
          `require("net").createServer(()=>{}).listen(7777,"${net.address(1)}")`,
        ],
        { stdio: "ignore" },
      );
      await waitFor(() => canConnect(owner, 2, net.address(1), 7777), "the server in node 1");
      net.partition([[1], [2]]);
      expect(net.active()).toHaveLength(4);
      expect(canConnect(owner, 2, net.address(1), 7777)).toBe(false);
      net.heal();
      expect(net.active()).toEqual([]);
      expect(canConnect(owner, 2, net.address(1), 7777)).toBe(true);
      net.loss(1, 20);
      const rules = execFileSync("ip", ["netns", "exec", NetnsNetwork.nodeName(owner, 1), "iptables", "-S"], {
        encoding: "utf8",
      });
      expect(rules).toMatch(/statistic --mode random --probability 0\.2/);
      net.heal();
    } finally {
      server?.kill("SIGKILL");
      NetnsNetwork.destroy(owner, [1, 2]);
    }
    const left = execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
    expect(left).not.toContain(`kchaos${owner}-`);
  });
});
