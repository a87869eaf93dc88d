/**
 * Kafka's listener syntax: `listeners` / `advertised.listeners` entries NAME://host:port and the
 * `listener.security.protocol.map` NAME:PROTOCOL pairs.
 */
import { KrillError } from "../errors.js";

export interface ListenerSpec {
  /** Listener name, e.g. PLAINTEXT. */
  readonly name: string;
  readonly securityProtocol: string;
  /** Empty string = every interface. */
  readonly host: string;
  readonly port: number;
}

/** Parses `NAME://host:port,...`, as Kafka's listeners and advertised.listeners. */
export function parseListeners(key: string, text: string, protocolMap: Map<string, string>): ListenerSpec[] {
  const result: ListenerSpec[] = [];
  const names = new Set<string>();
  for (const raw of text.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    const m = /^([A-Za-z0-9_-]+):\/\/(\[[0-9a-fA-F:.]+\]|[^:/[\]]*):(\d+)$/.exec(item);
    if (!m) {
      throw new KrillError(
        "CONFIG_INVALID",
        `Invalid value "${item}" in ${key}: accepted values are NAME://host:port entries, e.g. PLAINTEXT://127.0.0.1:9092 or PLAINTEXT://:9092`,
      );
    }
    const name = m[1]!.toUpperCase();
    const hostPart = m[2]!;
    const port = Number(m[3]);
    if (port > 65535) {
      throw new KrillError(
        "CONFIG_INVALID",
        `Invalid port ${port} in ${key} entry "${item}": accepted values are [0,...,65535]`,
      );
    }
    if (names.has(name)) {
      throw new KrillError(
        "CONFIG_INVALID",
        `${key} names listener ${name} twice: each listener name must be unique`,
      );
    }
    names.add(name);
    const securityProtocol = protocolMap.get(name);
    if (securityProtocol === undefined) {
      throw new KrillError(
        "CONFIG_INVALID",
        `${key} entry "${item}" uses listener name ${name}, which listener.security.protocol.map does not map; mapped names: [${[...protocolMap.keys()].join(", ")}]`,
      );
    }
    const host = hostPart.startsWith("[") ? hostPart.slice(1, -1) : hostPart;
    result.push({ name, securityProtocol, host, port });
  }
  if (result.length === 0) {
    throw new KrillError("CONFIG_INVALID", `${key} is empty: accepted values are NAME://host:port entries`);
  }
  return result;
}

export const SECURITY_PROTOCOLS = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] as const;

export function parseProtocolMap(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const raw of text.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    const [name, protocol, extra] = item.split(":").map((s) => s.trim());
    if (
      !name ||
      !protocol ||
      extra !== undefined ||
      !(SECURITY_PROTOCOLS as readonly string[]).includes(protocol.toUpperCase())
    ) {
      throw new KrillError(
        "CONFIG_INVALID",
        `Invalid entry "${item}" in listener.security.protocol.map: accepted values are NAME:PROTOCOL with PROTOCOL one of [${SECURITY_PROTOCOLS.join(", ")}]`,
      );
    }
    map.set(name.toUpperCase(), protocol.toUpperCase());
  }
  return map;
}
