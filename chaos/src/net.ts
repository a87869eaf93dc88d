// Where the nodes of a chaos cluster live on the network, and the network faults.
//
// loopback: every node on 127.0.0.1 with its own ports; no root needed; only process faults
//   (kill, pause) are possible, since the nodes cannot be told apart by address.
// netns: one network namespace per node plus a hub namespace holding a bridge; node i is
//   10.77.0.i on a veth whose other end is on the bridge, the runner and the clients live in the
//   hub (10.77.0.254). Partitions and packet loss are iptables rules inside the node namespaces,
//   delay is tc netem on the node's veth; nothing is changed in the host's own namespace, and
//   deleting the namespaces removes every rule, qdisc and interface. Needs root.
//
// Names carry the pid of the process that created them (kchaos<pid>-hub, kchaos<pid>-n<i>), so
// removeStaleNamespaces() can clean up after a runner that died without doing it itself.
import { execFileSync } from "node:child_process";
import type { FaultKind } from "./schedule.js";

export interface Network {
  readonly kind: "loopback" | "netns";
  /** The address node `node` listens on. */
  address(node: number): string;
  /** The command line that runs `argv` as node `node` (inside its namespace). */
  wrap(node: number, argv: string[]): string[];
  supports(kind: FaultKind): boolean;
  partition(sides: number[][]): void;
  loss(node: number, percent: number): void;
  delay(node: number, ms: number, jitterMs: number): void;
  /** Removes every partition, loss and delay. */
  heal(): void;
  /** Rules currently applied, for the report (what heal() will undo). */
  active(): string[];
}

export class LoopbackNetwork implements Network {
  readonly kind = "loopback";
  address(): string {
    return "127.0.0.1";
  }
  wrap(_node: number, argv: string[]): string[] {
    return argv;
  }
  supports(kind: FaultKind): boolean {
    return kind === "kill" || kind === "pause";
  }
  partition(): void {
    throw new Error("network faults need --net netns (per-node namespaces)");
  }
  loss(): void {
    throw new Error("network faults need --net netns (per-node namespaces)");
  }
  delay(): void {
    throw new Error("network faults need --net netns (per-node namespaces)");
  }
  heal(): void {}
  active(): string[] {
    return [];
  }
}

const SUBNET = "10.77.0";
const HUB_ADDRESS = `${SUBNET}.254`;
const NAME_PREFIX = "kchaos";

function run(argv: string[]): string {
  return execFileSync(argv[0]!, argv.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function tryRun(argv: string[]): boolean {
  try {
    run(argv);
    return true;
  } catch {
    return false;
  }
}

export class NetnsNetwork implements Network {
  readonly kind = "netns";
  private readonly rules: string[] = [];
  private readonly netemNodes = new Set<number>();

  private constructor(
    readonly owner: number,
    readonly nodes: number[],
    private readonly netem: boolean,
  ) {}

  static hubName(owner: number): string {
    return `${NAME_PREFIX}${owner}-hub`;
  }
  static nodeName(owner: number, node: number): string {
    return `${NAME_PREFIX}${owner}-n${node}`;
  }

  /**
   * Creates the hub and node namespaces, the bridge and one veth pair per node. On any failure
   * what was created is removed again before the error is thrown.
   */
  static create(owner: number, nodes: number[]): NetnsNetwork {
    const hub = NetnsNetwork.hubName(owner);
    try {
      run(["ip", "netns", "add", hub]);
      run(["ip", "-n", hub, "link", "set", "lo", "up"]);
      run(["ip", "-n", hub, "link", "add", "br0", "type", "bridge"]);
      run(["ip", "-n", hub, "addr", "add", `${HUB_ADDRESS}/24`, "dev", "br0"]);
      run(["ip", "-n", hub, "link", "set", "br0", "up"]);
      for (const node of nodes) {
        if (node < 1 || node > 250) throw new Error(`node id ${node} outside 1..250`);
        const ns = NetnsNetwork.nodeName(owner, node);
        run(["ip", "netns", "add", ns]);
        run(["ip", "-n", ns, "link", "set", "lo", "up"]);
        run([
          "ip",
          "-n",
          hub,
          "link",
          "add",
          `h${node}`,
          "type",
          "veth",
          "peer",
          "name",
          "eth0",
          "netns",
          ns,
        ]);
        run(["ip", "-n", ns, "addr", "add", `${SUBNET}.${node}/24`, "dev", "eth0"]);
        run(["ip", "-n", ns, "link", "set", "eth0", "up"]);
        run(["ip", "-n", hub, "link", "set", `h${node}`, "master", "br0"]);
        run(["ip", "-n", hub, "link", "set", `h${node}`, "up"]);
      }
    } catch (err) {
      NetnsNetwork.destroy(owner, nodes);
      throw new Error(`could not set up network namespaces (root needed): ${(err as Error).message}`);
    }
    return NetnsNetwork.attach(owner, nodes);
  }

  /** Uses namespaces created by create() (from inside the hub, in the re-executed runner). */
  static attach(owner: number, nodes: number[]): NetnsNetwork {
    // tc netem needs the kernel's sch_netem; find out once, in a node namespace, on its loopback.
    const probe = NetnsNetwork.nodeName(owner, nodes[0]!);
    const netem = tryRun([
      "ip",
      "netns",
      "exec",
      probe,
      "tc",
      "qdisc",
      "add",
      "dev",
      "lo",
      "root",
      "netem",
      "delay",
      "1ms",
    ]);
    if (netem) tryRun(["ip", "netns", "exec", probe, "tc", "qdisc", "del", "dev", "lo", "root"]);
    return new NetnsNetwork(owner, nodes, netem);
  }

  /** Kills whatever still runs in the namespaces and deletes them. Safe to call twice. */
  static destroy(owner: number, nodes: number[]): void {
    const names = [...nodes.map((n) => NetnsNetwork.nodeName(owner, n)), NetnsNetwork.hubName(owner)];
    for (const name of names) {
      let pids: number[] = [];
      try {
        pids = run(["ip", "netns", "pids", name]).split(/\s+/).filter(Boolean).map(Number);
      } catch {
        continue; // no such namespace
      }
      for (const pid of pids) {
        if (pid === process.pid) continue;
        try {
          process.kill(pid, "SIGCONT");
          process.kill(pid, "SIGKILL");
        } catch {}
      }
      tryRun(["ip", "netns", "del", name]);
    }
  }

  address(node: number): string {
    return `${SUBNET}.${node}`;
  }

  static hubAddress(): string {
    return HUB_ADDRESS;
  }

  wrap(node: number, argv: string[]): string[] {
    return ["ip", "netns", "exec", NetnsNetwork.nodeName(this.owner, node), ...argv];
  }

  supports(kind: FaultKind): boolean {
    return kind === "delay" ? this.netem : true;
  }

  private iptables(node: number, rule: string[]): void {
    run(["ip", "netns", "exec", NetnsNetwork.nodeName(this.owner, node), "iptables", "-w", "-A", ...rule]);
    this.rules.push(`node ${node}: iptables -A ${rule.join(" ")}`);
  }

  partition(sides: number[][]): void {
    for (const side of sides) {
      for (const node of side) {
        for (const other of sides.flat()) {
          if (side.includes(other)) continue;
          this.iptables(node, ["INPUT", "-s", this.address(other), "-j", "DROP"]);
          this.iptables(node, ["OUTPUT", "-d", this.address(other), "-j", "DROP"]);
        }
      }
    }
  }

  loss(node: number, percent: number): void {
    const p = (percent / 100).toFixed(3);
    for (const chain of ["INPUT", "OUTPUT"]) {
      this.iptables(node, [chain, "-m", "statistic", "--mode", "random", "--probability", p, "-j", "DROP"]);
    }
  }

  delay(node: number, ms: number, jitterMs: number): void {
    if (!this.netem) throw new Error("tc netem is not available in this kernel (no sch_netem)");
    const ns = NetnsNetwork.nodeName(this.owner, node);
    run([
      "ip",
      "netns",
      "exec",
      ns,
      "tc",
      "qdisc",
      "add",
      "dev",
      "eth0",
      "root",
      "netem",
      "delay",
      `${ms}ms`,
      `${jitterMs}ms`,
    ]);
    this.netemNodes.add(node);
    this.rules.push(`node ${node}: tc qdisc add dev eth0 root netem delay ${ms}ms ${jitterMs}ms`);
  }

  heal(): void {
    for (const node of this.nodes) {
      const ns = NetnsNetwork.nodeName(this.owner, node);
      run(["ip", "netns", "exec", ns, "iptables", "-w", "-F"]);
      if (this.netemNodes.has(node))
        tryRun(["ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", "eth0", "root"]);
    }
    this.netemNodes.clear();
    this.rules.length = 0;
  }

  active(): string[] {
    return [...this.rules];
  }
}

/**
 * Deletes the namespaces of runners that are no longer alive (a runner killed with -9 cannot clean
 * up after itself). Returns the names removed.
 */
export function removeStaleNamespaces(): string[] {
  let list = "";
  try {
    list = run(["ip", "netns", "list"]);
  } catch {
    return [];
  }
  const removed: string[] = [];
  const owners = new Set<number>();
  for (const line of list.split("\n")) {
    const m = new RegExp(`^${NAME_PREFIX}(\\d+)-`).exec(line.trim());
    if (m) owners.add(Number(m[1]));
  }
  for (const owner of owners) {
    let alive = true;
    try {
      process.kill(owner, 0);
    } catch {
      alive = false;
    }
    if (alive) continue;
    const names = list
      .split("\n")
      .map((l) => l.trim().split(" ")[0]!)
      .filter((n) => n.startsWith(`${NAME_PREFIX}${owner}-`));
    const nodes = names.map((n) => /-n(\d+)$/.exec(n)).flatMap((m) => (m ? [Number(m[1])] : []));
    NetnsNetwork.destroy(owner, nodes);
    removed.push(...names);
  }
  return removed;
}
