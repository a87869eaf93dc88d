// The nemesis: applies a schedule's faults to a cluster and undoes them.
//
// It keeps what it changed (nodes killed, nodes paused, network rules) so that healAll() can put
// everything back whatever happened in between: a failed step, an exception in the workload, a
// signal to the runner. The runner calls healAll() in a finally block and from its signal handlers;
// a network namespace that outlives even that is removed by removeStaleNamespaces().
//
// Concurrency: one fault at a time per node (the runner awaits each apply(); a scenario may restart
// several nodes at once); healAll() may be called while
// an apply() is in flight (from a signal handler) and only touches state apply() has recorded.
import { type Cluster, type ClusterNode, NotAnsweringError } from "./cluster.js";
import type { Network } from "./net.js";
import { describeFault, type Fault } from "./schedule.js";

/** How long a restart waits for the node to answer while a network fault is in effect. */
const RESTART_WAIT_FAULTY_NET_MS = 15_000;

export interface FaultRecord {
  step: number;
  fault: Fault;
  description: string;
  /** Wall-clock ms since the run started when the fault was applied. */
  atMs: number;
  /** How long applying it took (a restart waits for the node to answer). */
  tookMs: number;
  error?: string;
}

export class Nemesis {
  readonly log: FaultRecord[] = [];
  private readonly killed = new Set<number>();
  private readonly paused = new Set<number>();

  constructor(
    private readonly cluster: Cluster,
    private readonly net: Network,
    private readonly startedMs: number,
  ) {}

  private node(id: number): ClusterNode {
    const n = this.cluster.nodes.find((x) => x.id === id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  async apply(step: number, fault: Fault): Promise<FaultRecord> {
    const started = Date.now();
    const record: FaultRecord = {
      step,
      fault,
      description: describeFault(fault),
      atMs: started - this.startedMs,
      tookMs: 0,
    };
    try {
      switch (fault.kind) {
        case "kill": {
          const n = this.node(fault.node);
          this.killed.add(fault.node);
          n.signal("SIGCONT");
          n.signal("SIGKILL");
          await n.exited();
          break;
        }
        case "lose-unflushed": {
          const n = this.node(fault.node);
          this.killed.add(fault.node);
          n.signal("SIGCONT");
          n.signal("SIGKILL");
          await n.exited();
          const cut = n.loseUnflushed();
          const bytes = cut.reduce((sum, t) => sum + t.from - t.to, 0);
          record.description += `: ${bytes} unflushed bytes lost from ${cut.length} segment(s)`;
          break;
        }
        case "wipe": {
          const gone = this.node(fault.node).wipeWorkloadData();
          record.description += `: ${gone.length} partition directories deleted`;
          break;
        }
        case "restart": {
          // A node cut off from the majority cannot answer (it waits for a quorum of controllers)
          // until a later step heals the network: with a network fault in effect the restart
          // waits a bounded time, and the schedule goes on with the node still starting.
          const faulty = this.net.active().length > 0;
          try {
            await this.node(fault.node).start(faulty ? RESTART_WAIT_FAULTY_NET_MS : undefined);
          } catch (err) {
            if (!(err instanceof NotAnsweringError) || !faulty) throw err;
            record.description += `: started, not answering within ${RESTART_WAIT_FAULTY_NET_MS} ms (network fault in effect)`;
          }
          this.killed.delete(fault.node);
          break;
        }
        case "pause":
          this.paused.add(fault.node);
          this.node(fault.node).signal("SIGSTOP");
          break;
        case "resume":
          this.node(fault.node).signal("SIGCONT");
          this.paused.delete(fault.node);
          break;
        case "partition":
          this.net.partition(fault.sides);
          break;
        case "loss":
          this.net.loss(fault.node, fault.percent);
          break;
        case "delay":
          this.net.delay(fault.node, fault.ms, fault.jitterMs);
          break;
        case "heal-net":
          this.net.heal();
          break;
      }
    } catch (err) {
      record.error = (err as Error).message.split("\n")[0];
    }
    record.tookMs = Date.now() - started;
    this.log.push(record);
    return record;
  }

  /** Resumes paused nodes, heals the network, restarts killed nodes. Returns what it undid. */
  async healAll(): Promise<string[]> {
    const undone: string[] = [];
    for (const id of [...this.paused]) {
      this.node(id).signal("SIGCONT");
      this.paused.delete(id);
      undone.push(`resume node ${id}`);
    }
    const rules = this.net.active();
    this.net.heal();
    if (rules.length > 0) undone.push(`removed ${rules.length} network rule(s)`);
    for (const id of [...this.killed]) {
      const n = this.node(id);
      if (n.pid() === undefined) await n.start();
      this.killed.delete(id);
      undone.push(`restart node ${id}`);
    }
    return undone;
  }

  /** True when nothing the nemesis did is still in effect. */
  clean(): boolean {
    return this.killed.size === 0 && this.paused.size === 0 && this.net.active().length === 0;
  }
}
