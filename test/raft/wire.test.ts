import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ApiDescriptor } from "../../src/protocol/generated/apis.js";
import { Reader } from "../../src/protocol/primitives/reader.js";
import { METADATA_TOPIC_ID } from "../../src/protocol/primitives/uuid.js";
import { Writer } from "../../src/protocol/primitives/writer.js";
import { Errors, type RaftBatch, type RaftRequest, type RaftResponse } from "../../src/raft/types.js";
import {
  decodeRaftBatches,
  encodeRaftBatch,
  encodeRaftBatches,
  fromWireRequest,
  fromWireResponse,
  RAFT_APIS,
  type RaftEndpoints,
  raftApiName,
  toWireRequest,
  toWireResponse,
} from "../../src/raft/wire.js";

/** Encodes with the generated codec and decodes again: what the peer's codec sees. */
function overTheWire(
  api: ApiDescriptor,
  side: "request" | "response",
  body: unknown,
  version: number,
): unknown {
  const w = new Writer();
  if (side === "request") api.encodeRequest(w, body, version);
  else api.encodeResponse(w, body, version);
  const r = new Reader(w.finish());
  const decoded = side === "request" ? api.decodeRequest(r, version) : api.decodeResponse(r, version);
  r.expectEnd(`${api.name} ${side} v${version}`);
  return decoded;
}

function encoded(api: ApiDescriptor, side: "request" | "response", body: unknown, version: number): Buffer {
  const w = new Writer();
  if (side === "request") api.encodeRequest(w, body, version);
  else api.encodeResponse(w, body, version);
  return w.finish();
}

const endpoints: RaftEndpoints = new Map([
  [1, { name: "CONTROLLER", host: "127.0.0.1", port: 19091 }],
  [2, { name: "CONTROLLER", host: "127.0.0.1", port: 19092 }],
  [3, { name: "CONTROLLER", host: "127.0.0.1", port: 19093 }],
]);

const requests: RaftRequest[] = [
  {
    api: "Vote",
    clusterId: "MkU3OEVBNTcwNTJENDM2Qk",
    voterId: 2,
    replicaEpoch: 7,
    replicaId: 1,
    lastOffsetEpoch: 6,
    lastOffset: 1234,
    preVote: true,
  },
  {
    api: "Vote",
    clusterId: null,
    voterId: 3,
    replicaEpoch: 8,
    replicaId: 1,
    lastOffsetEpoch: 6,
    lastOffset: 1234,
    preVote: false,
  },
  { api: "BeginQuorumEpoch", clusterId: "c", voterId: 2, leaderId: 1, leaderEpoch: 8 },
  { api: "EndQuorumEpoch", clusterId: "c", leaderId: 1, leaderEpoch: 8, preferredCandidates: [3, 2] },
  {
    api: "Fetch",
    clusterId: "c",
    replicaId: 2,
    maxWaitMs: 500,
    maxBytes: 8 * 1024 * 1024,
    currentLeaderEpoch: 8,
    fetchOffset: 4096,
    lastFetchedEpoch: 7,
    highWatermark: 4000,
  },
  {
    api: "FetchSnapshot",
    clusterId: "c",
    replicaId: 3,
    maxBytes: 1 << 20,
    currentLeaderEpoch: 8,
    snapshotId: { offset: 3000, epoch: 7 },
    position: 65536,
  },
  { api: "DescribeQuorum" },
];

const batches: RaftBatch[] = [
  {
    baseOffset: 10,
    epoch: 4,
    appendTimeMs: 1_700_000_000_456,
    records: [{ type: "leaderChange", leaderId: 2, voters: [1, 2, 3], grantingVoters: [2, 3] }],
  },
  {
    baseOffset: 11,
    epoch: 4,
    appendTimeMs: 1_700_000_000_500,
    records: [
      { type: "data", value: Buffer.from("first") },
      { type: "data", value: Buffer.alloc(0) },
      { type: "data", value: Buffer.from([0, 1, 2, 3]) },
    ],
  },
];

const responses: RaftResponse[] = [
  { api: "Vote", errorCode: Errors.NONE, leaderId: -1, leaderEpoch: 8, voteGranted: true },
  { api: "Vote", errorCode: Errors.FENCED_LEADER_EPOCH, leaderId: 3, leaderEpoch: 9, voteGranted: false },
  { api: "BeginQuorumEpoch", errorCode: Errors.NONE, leaderId: 1, leaderEpoch: 8 },
  { api: "EndQuorumEpoch", errorCode: Errors.NOT_LEADER_OR_FOLLOWER, leaderId: 2, leaderEpoch: 9 },
  {
    api: "Fetch",
    errorCode: Errors.NONE,
    leaderId: 2,
    leaderEpoch: 4,
    highWatermark: 11,
    logStartOffset: 0,
    divergingEpoch: null,
    snapshotId: null,
    batches,
  },
  {
    api: "Fetch",
    errorCode: Errors.NONE,
    leaderId: 2,
    leaderEpoch: 4,
    highWatermark: 11,
    logStartOffset: 0,
    divergingEpoch: { epoch: 3, endOffset: 9 },
    snapshotId: null,
    batches: [],
  },
  {
    api: "Fetch",
    errorCode: Errors.NONE,
    leaderId: 2,
    leaderEpoch: 4,
    highWatermark: 11,
    logStartOffset: 5,
    divergingEpoch: null,
    snapshotId: { offset: 5, epoch: 3 },
    batches: [],
  },
  {
    api: "FetchSnapshot",
    errorCode: Errors.NONE,
    leaderId: 2,
    leaderEpoch: 4,
    snapshotId: { offset: 5, epoch: 3 },
    size: 300,
    position: 100,
    unalignedRecords: Buffer.from("some snapshot bytes"),
  },
  {
    api: "DescribeQuorum",
    errorCode: Errors.NONE,
    leaderId: 2,
    leaderEpoch: 4,
    highWatermark: 11,
    currentVoters: [
      {
        replicaId: 2,
        logEndOffset: 14,
        lastFetchTimestamp: 1_700_000_001_000,
        lastCaughtUpTimestamp: 1_700_000_001_000,
      },
      {
        replicaId: 1,
        logEndOffset: 11,
        lastFetchTimestamp: 1_700_000_000_900,
        lastCaughtUpTimestamp: 1_700_000_000_800,
      },
      { replicaId: 3, logEndOffset: -1, lastFetchTimestamp: -1, lastCaughtUpTimestamp: -1 },
    ],
    observers: [
      { replicaId: 4, logEndOffset: 9, lastFetchTimestamp: 1_700_000_000_950, lastCaughtUpTimestamp: -1 },
    ],
  },
];

/** Versions of each RPC Kafka 4.4's raft client sends, and the lowest the mapping supports. */
const VERSIONS: Record<RaftRequest["api"], readonly number[]> = {
  Vote: [0, 1, 2],
  BeginQuorumEpoch: [0, 1],
  EndQuorumEpoch: [0, 1],
  Fetch: [13, 15, 16, 17, 18],
  FetchSnapshot: [0, 1],
  DescribeQuorum: [0, 1, 2],
};

describe("quorum RPCs on the wire", () => {
  it("round-trips every request through the generated codecs at every version that can carry it", () => {
    let checked = 0;
    for (const request of requests) {
      const api = RAFT_APIS[request.api] as ApiDescriptor;
      for (const version of VERSIONS[request.api]) {
        if (request.api === "Vote" && request.preVote && version < 2) {
          // A pre-vote needs Vote v2: the codec refuses to drop it.
          expect(() => encoded(api, "request", toWireRequest(request, version, endpoints), version)).toThrow(
            /preVote/,
          );
          continue;
        }
        const decoded = overTheWire(api, "request", toWireRequest(request, version, endpoints), version);
        const back = fromWireRequest(request.api, decoded, version);
        let expected: RaftRequest = request;
        // Vote and BeginQuorumEpoch v0 have no VoterId; Fetch before v18 no HighWatermark (never
        // answered early on it).
        if ((request.api === "Vote" || request.api === "BeginQuorumEpoch") && version === 0) {
          expected = { ...request, voterId: -1 };
        }
        if (request.api === "Fetch" && version < 18)
          expected = { ...request, highWatermark: Number.MAX_SAFE_INTEGER };
        expect(back, `${request.api} v${version}`).toEqual({ ok: true, request: expected });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(15);
  });

  it("round-trips every response, records included", () => {
    for (const response of responses) {
      const api = RAFT_APIS[response.api] as ApiDescriptor;
      for (const version of VERSIONS[response.api]) {
        const decoded = overTheWire(api, "response", toWireResponse(response, version, endpoints), version);
        let expected = response;
        if (response.api === "DescribeQuorum" && version === 0) {
          // DescribeQuorum v0 has no timestamps.
          const untimed = <T>(r: T) => ({ ...r, lastFetchTimestamp: -1, lastCaughtUpTimestamp: -1 });
          expected = {
            ...response,
            currentVoters: response.currentVoters.map(untimed),
            observers: response.observers.map(untimed),
          };
        }
        expect(fromWireResponse(response.api, decoded), `${response.api} v${version}`).toEqual(expected);
      }
    }
  });

  it("names the leader's endpoint in NodeEndpoints and every voter's in DescribeQuorum v2 Nodes", () => {
    const fetch = toWireResponse(responses[4]!, 18, endpoints) as { nodeEndpoints: unknown[] };
    expect(fetch.nodeEndpoints).toEqual([{ nodeId: 2, host: "127.0.0.1", port: 19092, rack: null }]);
    const vote = toWireResponse(responses[0]!, 2, endpoints) as { nodeEndpoints: unknown[] };
    expect(vote.nodeEndpoints).toEqual([]); // no leader known
    const describe = toWireResponse(responses[8]!, 2, endpoints) as { nodes: { nodeId: number }[] };
    expect(describe.nodes.map((n) => n.nodeId)).toEqual([2, 1, 3]);
    const begin = toWireRequest(requests[2]!, 1, endpoints) as { leaderEndpoints: unknown[] };
    expect(begin.leaderEndpoints).toEqual([{ name: "CONTROLLER", host: "127.0.0.1", port: 19091 }]);
  });

  it("puts INCONSISTENT_CLUSTER_ID and a wrong topic or partition at the top level, as Kafka does", () => {
    const mismatch: RaftResponse = {
      api: "Vote",
      errorCode: Errors.INCONSISTENT_CLUSTER_ID,
      leaderId: 2,
      leaderEpoch: 4,
      voteGranted: false,
    };
    const wire = overTheWire(RAFT_APIS.Vote as ApiDescriptor, "response", toWireResponse(mismatch, 2), 2);
    expect(wire).toMatchObject({ errorCode: Errors.INCONSISTENT_CLUSTER_ID, topics: [] });
    expect(fromWireResponse("Vote", wire)).toEqual({ ...mismatch, leaderId: -1, leaderEpoch: -1 });

    const fetch = toWireRequest(requests[4]!, 18) as { topics: { topicId: string }[] };
    fetch.topics[0]!.topicId = "AAAAAAAAAAAAAAAAAAAAAg";
    expect(fromWireRequest("Fetch", fetch, 18)).toEqual({
      ok: false,
      response: {
        throttleTimeMs: 0,
        errorCode: Errors.INVALID_REQUEST,
        sessionId: 0,
        responses: [],
        nodeEndpoints: [],
      },
    });
    const vote = toWireRequest(requests[1]!, 2) as { topics: { partitions: { partitionIndex: number }[] }[] };
    vote.topics[0]!.partitions[0]!.partitionIndex = 1;
    expect(fromWireRequest("Vote", vote, 2)).toMatchObject({
      ok: false,
      response: { errorCode: Errors.INVALID_REQUEST },
    });
    const describe = fromWireRequest(
      "DescribeQuorum",
      { topics: [{ topicName: "other", partitions: [{ partitionIndex: 0 }] }] },
      2,
    );
    expect(describe).toMatchObject({
      ok: false,
      response: {
        errorCode: 0,
        topics: [{ topicName: "other", partitions: [{ partitionIndex: 0, errorCode: 3 }] }],
      },
    });
  });

  it("uses Kafka's metadata topic id for Fetch and maps api keys", () => {
    const fetch = toWireRequest(requests[4]!, 17) as { topics: { topic: string; topicId: string }[] };
    expect(fetch.topics[0]).toMatchObject({ topic: "", topicId: METADATA_TOPIC_ID });
    expect(METADATA_TOPIC_ID).toBe("AAAAAAAAAAAAAAAAAAAAAQ");
    expect([1, 52, 53, 54, 55, 59].map(raftApiName)).toEqual([
      "Fetch",
      "Vote",
      "BeginQuorumEpoch",
      "EndQuorumEpoch",
      "DescribeQuorum",
      "FetchSnapshot",
    ]);
    expect(raftApiName(0)).toBeUndefined();
  });

  it("decodes record batches: CRC checked, a partial batch at the end left out", () => {
    const bytes = encodeRaftBatches(batches);
    expect(decodeRaftBatches(bytes)).toEqual(batches);
    expect(decodeRaftBatches(bytes.subarray(0, bytes.length - 5))).toEqual(batches.slice(0, 1));
    expect(decodeRaftBatches(Buffer.alloc(0))).toEqual([]);
    const corrupt = Buffer.from(bytes);
    corrupt[corrupt.length - 1]! ^= 0xff;
    expect(() => decodeRaftBatches(corrupt)).toThrow();
  });
});

// ---- against Kafka's own classes -------------------------------------------------------------

const ROOT = resolve(import.meta.dirname, "../..");
const CLASSPATH_FILE = join(ROOT, "compat-tests/.cache/kafka-4.4.0.classpath");
const CP = existsSync(CLASSPATH_FILE) ? readFileSync(CLASSPATH_FILE, "utf8").trim() : undefined;
const HAS_JAVAC = spawnSync("javac", ["-version"], { stdio: "ignore" }).status === 0;

/** Compiles the two harnesses once (javac is the slow part) and runs a main class. */
let classes: string | undefined;
function runJava(mainClass: string, input?: string): string {
  if (classes === undefined) {
    classes = mkdtempSync(join(tmpdir(), "krill-raft-java-"));
    const sources = [
      join(ROOT, "test/raft/java/RaftBatchParity.java"),
      join(ROOT, "tools/codegen/crosscheck/KafkaCrossCheck.java"),
    ];
    const javac = spawnSync("javac", ["-cp", CP!, "-d", classes, ...sources], { encoding: "utf8" });
    if (javac.status !== 0) throw new Error(`javac failed: ${javac.stderr}`);
  }
  const java = spawnSync("java", ["-cp", `${classes}:${CP}`, mainClass], {
    input,
    encoding: "utf8",
    timeout: 60_000,
  });
  if (java.status !== 0) throw new Error(`java failed: ${java.stderr}`);
  return java.stdout;
}

describe.skipIf(CP === undefined || !HAS_JAVAC)("quorum RPCs against Kafka 4.4's classes", () => {
  afterAll(() => {
    if (classes !== undefined) rmSync(classes, { recursive: true, force: true });
  });

  it("writes data and LeaderChangeMessage batches byte for byte as Kafka's raft client does", () => {
    const [data, leaderChange] = runJava("RaftBatchParity").trim().split("\n");
    const ours = encodeRaftBatch({
      baseOffset: 7,
      epoch: 3,
      appendTimeMs: 1_700_000_000_123,
      records: [
        { type: "data", value: Buffer.from([1, 2, 3]) },
        { type: "data", value: Buffer.alloc(0) },
        { type: "data", value: Buffer.from("metadata") },
      ],
    });
    expect(ours.toString("hex")).toBe(data);
    expect(encodeRaftBatch(batches[0]!).toString("hex")).toBe(leaderChange);
  }, 120_000);

  it("Kafka decodes and re-encodes every request and response body identically", () => {
    const cases: { name: string; version: number; hex: string }[] = [];
    for (const request of requests) {
      const api = RAFT_APIS[request.api] as ApiDescriptor;
      for (const version of VERSIONS[request.api]) {
        if (request.api === "Vote" && request.preVote && version < 2) continue;
        const hex = encoded(api, "request", toWireRequest(request, version, endpoints), version).toString(
          "hex",
        );
        cases.push({ name: `${api.name}Request`, version, hex });
      }
    }
    for (const response of responses) {
      const api = RAFT_APIS[response.api] as ApiDescriptor;
      for (const version of VERSIONS[response.api]) {
        const hex = encoded(api, "response", toWireResponse(response, version, endpoints), version).toString(
          "hex",
        );
        cases.push({ name: `${api.name}Response`, version, hex });
      }
    }
    const out = runJava(
      "KafkaCrossCheck",
      cases.map((c, i) => `${i} ${c.name} ${c.version} ${c.hex}`).join("\n"),
    );
    const results = out
      .trim()
      .split("\n")
      .map((line) => line.split(" "));
    expect(results.length).toBe(cases.length);
    for (const [i, status, hex, left] of results) {
      const c = cases[Number(i)]!;
      expect({ case: `${c.name} v${c.version}`, status, hex, left }).toEqual({
        case: `${c.name} v${c.version}`,
        status: "OK",
        hex: c.hex,
        left: "0",
      });
    }
  }, 120_000);
});
