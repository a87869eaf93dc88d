/**
 * The `quorum-state` file of `__cluster_metadata-0/` (Kafka's FileQuorumStateStore): one line of
 * QuorumStateData JSON plus `data_version`. With static voters (kraft.version 0) Kafka writes
 * version 0:
 *   {"clusterId":"","leaderId":1,"leaderEpoch":2,"votedId":-1,"appliedOffset":0,"currentVoters":[{"voterId":1},...],"data_version":0}
 * and with kraft.version 1 version 1:
 *   {"leaderId":-1,"leaderEpoch":2,"votedId":1,"votedDirectoryId":"J8aAPcfLQt2bqs1JT_rMgQ","data_version":1}
 * Both are read. A write goes to `quorum-state.tmp`, is fsynced, renamed over `quorum-state`, and
 * the directory is fsynced, so a crash leaves the old or the new election, never a torn one, and
 * `write` returns only once the new one is durable. Synchronous on purpose: the quorum core runs one
 * event to completion, and a vote must be on disk before the answer that grants it is sent.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { KrillError } from "../errors.js";
import type { ElectionState, QuorumStateStore } from "./quorum-state.js";

export const QUORUM_STATE_FILE = "quorum-state";
const NO_DIRECTORY_ID = "AAAAAAAAAAAAAAAAAAAAAA";

export class FileQuorumStateStore implements QuorumStateStore {
  readonly file: string;

  /**
   * @param dir the metadata log directory (`<metadata.log.dir>/__cluster_metadata-0`)
   * @param voterIds written as currentVoters in version 0, as Kafka does
   * @param dataVersion 0 for static voters (kraft.version 0), 1 for kraft.version 1
   */
  constructor(
    readonly dir: string,
    private readonly voterIds: readonly number[],
    private readonly dataVersion: 0 | 1 = 0,
  ) {
    this.file = path.join(dir, QUORUM_STATE_FILE);
  }

  read(): ElectionState | null {
    let text: string;
    try {
      text = fs.readFileSync(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw new KrillError("LOG_IO", `cannot read ${this.file}`, { cause: err });
    }
    const line = text.split("\n")[0] ?? "";
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (err) {
      throw new KrillError(
        "CORRUPT_SEGMENT",
        `${this.file} is not JSON: ${JSON.stringify(line.slice(0, 200))}`,
        {
          cause: err,
        },
      );
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new KrillError("CORRUPT_SEGMENT", `${this.file} does not hold a JSON object`);
    }
    const data = parsed as Record<string, unknown>;
    const version = data.data_version;
    if (version !== 0 && version !== 1) {
      throw new KrillError(
        "CORRUPT_SEGMENT",
        `${this.file}: data_version ${JSON.stringify(version)} is not within the supported versions 0-1`,
      );
    }
    const int = (name: string): number => {
      const v = data[name];
      if (typeof v !== "number" || !Number.isSafeInteger(v)) {
        throw new KrillError(
          "CORRUPT_SEGMENT",
          `${this.file}: ${name} is ${JSON.stringify(v)}, not an integer`,
        );
      }
      return v;
    };
    return { epoch: int("leaderEpoch"), leaderId: int("leaderId"), votedId: int("votedId") };
  }

  write(election: ElectionState): void {
    const data =
      this.dataVersion === 0
        ? {
            clusterId: "",
            leaderId: election.leaderId,
            leaderEpoch: election.epoch,
            votedId: election.votedId,
            appliedOffset: 0,
            currentVoters: this.voterIds.map((voterId) => ({ voterId })),
            data_version: 0,
          }
        : {
            leaderId: election.leaderId,
            leaderEpoch: election.epoch,
            votedId: election.votedId,
            votedDirectoryId: NO_DIRECTORY_ID,
            data_version: 1,
          };
    const tmp = `${this.file}.tmp`;
    try {
      fs.rmSync(tmp, { force: true });
      const fd = fs.openSync(tmp, "w");
      try {
        fs.writeSync(fd, JSON.stringify(data));
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, this.file);
      const dirFd = fs.openSync(this.dir, "r");
      try {
        fs.fsyncSync(dirFd);
      } finally {
        fs.closeSync(dirFd);
      }
    } catch (err) {
      throw new KrillError("LOG_IO", `cannot write ${this.file}`, { cause: err });
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
}
