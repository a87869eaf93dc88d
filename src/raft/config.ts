/**
 * The quorum's settings under Kafka's keys, with Kafka's defaults (QuorumConfig.java). Static
 * voters only (kraft.version 0): `controller.quorum.voters` lists every voter as id@host:port.
 */
import { KrillError } from "../errors.js";

export interface VoterEndpoint {
  readonly id: number;
  readonly host: string;
  readonly port: number;
}

export interface QuorumConfig {
  /** controller.quorum.voters */
  readonly voters: readonly VoterEndpoint[];
  /** controller.quorum.bootstrap.servers (host:port), used by observers when voters is empty */
  readonly bootstrapServers: readonly string[];
  /** controller.quorum.election.timeout.ms: a voter's timeout is drawn from [T, 2T) */
  readonly electionTimeoutMs: number;
  /** controller.quorum.fetch.timeout.ms: a follower that hears nothing for this long stands */
  readonly fetchTimeoutMs: number;
  /** controller.quorum.election.backoff.max.ms: cap of the binary exponential backoff */
  readonly electionBackoffMaxMs: number;
  /** controller.quorum.request.timeout.ms */
  readonly requestTimeoutMs: number;
  /** controller.quorum.retry.backoff.ms */
  readonly retryBackoffMs: number;
  /** controller.quorum.append.linger.ms: how long the leader gathers proposals into one batch */
  readonly appendLingerMs: number;
}

export const QUORUM_CONFIG_DEFAULTS = {
  "controller.quorum.voters": "",
  "controller.quorum.bootstrap.servers": "",
  "controller.quorum.election.timeout.ms": 1000,
  "controller.quorum.fetch.timeout.ms": 2000,
  "controller.quorum.election.backoff.max.ms": 1000,
  "controller.quorum.request.timeout.ms": 2000,
  "controller.quorum.retry.backoff.ms": 20,
  "controller.quorum.append.linger.ms": 25,
} as const;

/** Kafka's fixed long-poll of a Raft Fetch (KafkaRaftClient.MAX_FETCH_WAIT_MS). */
export const FETCH_MAX_WAIT_MS = 500;
/** The base of the binary exponential election backoff (KafkaRaftClient.RETRY_BACKOFF_BASE_MS). */
export const ELECTION_BACKOFF_BASE_MS = 100;
/** A leader resigns when a majority has not fetched within this many fetch timeouts. */
export const CHECK_QUORUM_TIMEOUT_FACTOR = 1.5;

export function parseVoters(value: string): VoterEndpoint[] {
  const voters: VoterEndpoint[] = [];
  for (const entry of value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")) {
    const m = /^(\d+)@(.+):(\d+)$/.exec(entry);
    if (m === null) {
      throw new KrillError(
        "CONFIG_INVALID",
        `controller.quorum.voters: "${entry}" is not of the form id@host:port (e.g. 1@localhost:9093)`,
      );
    }
    const id = Number(m[1]);
    const port = Number(m[3]);
    if (!Number.isSafeInteger(id) || id < 0 || port < 0 || port > 65535) {
      throw new KrillError(
        "CONFIG_INVALID",
        `controller.quorum.voters: "${entry}" has an invalid id or port`,
      );
    }
    if (voters.some((v) => v.id === id)) {
      throw new KrillError("CONFIG_INVALID", `controller.quorum.voters: voter id ${id} is listed twice`);
    }
    voters.push({ id, host: m[2]!.replace(/^\[(.*)\]$/, "$1"), port });
  }
  return voters;
}

function intSetting(props: Readonly<Record<string, string | number | undefined>>, key: string, dflt: number) {
  const raw = props[key];
  if (raw === undefined) return dflt;
  const n = typeof raw === "number" ? raw : Number(String(raw).trim());
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new KrillError("CONFIG_INVALID", `${key}: "${raw}" is not a non-negative integer`);
  }
  return n;
}

/** Reads the controller.quorum.* keys of a server.properties (missing keys take Kafka's defaults). */
export function quorumConfigFromProperties(
  props: Readonly<Record<string, string | number | undefined>>,
): QuorumConfig {
  const d = QUORUM_CONFIG_DEFAULTS;
  const config: QuorumConfig = {
    voters: parseVoters(String(props["controller.quorum.voters"] ?? d["controller.quorum.voters"])),
    bootstrapServers: String(props["controller.quorum.bootstrap.servers"] ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
    electionTimeoutMs: intSetting(
      props,
      "controller.quorum.election.timeout.ms",
      d["controller.quorum.election.timeout.ms"],
    ),
    fetchTimeoutMs: intSetting(
      props,
      "controller.quorum.fetch.timeout.ms",
      d["controller.quorum.fetch.timeout.ms"],
    ),
    electionBackoffMaxMs: intSetting(
      props,
      "controller.quorum.election.backoff.max.ms",
      d["controller.quorum.election.backoff.max.ms"],
    ),
    requestTimeoutMs: intSetting(
      props,
      "controller.quorum.request.timeout.ms",
      d["controller.quorum.request.timeout.ms"],
    ),
    retryBackoffMs: intSetting(
      props,
      "controller.quorum.retry.backoff.ms",
      d["controller.quorum.retry.backoff.ms"],
    ),
    appendLingerMs: intSetting(
      props,
      "controller.quorum.append.linger.ms",
      d["controller.quorum.append.linger.ms"],
    ),
  };
  if (config.voters.length === 0 && config.bootstrapServers.length === 0) {
    throw new KrillError(
      "CONFIG_INVALID",
      "controller.quorum.voters or controller.quorum.bootstrap.servers must be set for a KRaft quorum",
    );
  }
  return config;
}

/** Kafka's defaults with the given voters (ids only; tests and the simulation need no endpoints). */
export function defaultQuorumConfig(voterIds: readonly number[]): QuorumConfig {
  const d = QUORUM_CONFIG_DEFAULTS;
  return {
    voters: voterIds.map((id) => ({ id, host: "localhost", port: 0 })),
    bootstrapServers: [],
    electionTimeoutMs: d["controller.quorum.election.timeout.ms"],
    fetchTimeoutMs: d["controller.quorum.fetch.timeout.ms"],
    electionBackoffMaxMs: d["controller.quorum.election.backoff.max.ms"],
    requestTimeoutMs: d["controller.quorum.request.timeout.ms"],
    retryBackoffMs: d["controller.quorum.retry.backoff.ms"],
    appendLingerMs: d["controller.quorum.append.linger.ms"],
  };
}
