/**
 * `krill acl list|create|delete`: kafka-acls.sh's --list, --add and --remove (DescribeAcls,
 * CreateAcls, DeleteAcls), with its options and its output:
 *
 *   Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=t, patternType=LITERAL)`:
 *    	(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)
 *
 * Resources: --topic, --group, --cluster, --transactional-id, --delegation-token, --user-principal
 * (each repeatable), with --resource-pattern-type (literal by default; create takes literal or
 * prefixed, list and delete also any and match). Entries: --allow-principal / --deny-principal
 * (with --allow-host / --deny-host, `*` by default) times --operation; --producer and --consumer
 * are kafka-acls' role shortcuts. delete without principals removes every ACL of the resources.
 * Unlike kafka-acls, delete does not ask for confirmation (a script cannot answer it); --force is
 * accepted and changes nothing.
 *
 * Output is sorted (kafka-acls prints in hash order). Exit status: 0 done; 1 the broker refused
 * (SECURITY_DISABLED without an authorizer, CLUSTER_AUTHORIZATION_FAILED, INVALID_REQUEST...);
 * 2 usage.
 */

import {
  AclOperation,
  AclPermission,
  CLUSTER_NAME,
  codeName,
  PatternType,
  ResourceType,
  WILDCARD,
} from "../metadata/acls.js";
import { CREATE_ACLS_API, DELETE_ACLS_API, DESCRIBE_ACLS_API } from "../protocol/generated/apis.js";
import { type OptionSpec, type ParsedOptions, UsageError } from "./args.js";
import { check } from "./client.js";
import type { CommandContext } from "./topics.js";

const RESOURCE_OPTIONS: readonly OptionSpec[] = [
  { name: "--topic", value: true, aliases: ["-t"] },
  { name: "--group", value: true, aliases: ["-g"] },
  { name: "--cluster" },
  { name: "--transactional-id", value: true },
  { name: "--delegation-token", value: true },
  { name: "--user-principal", value: true },
  { name: "--resource-pattern-type", value: true },
];
const ENTRY_OPTIONS: readonly OptionSpec[] = [
  { name: "--allow-principal", value: true },
  { name: "--deny-principal", value: true },
  { name: "--allow-host", value: true },
  { name: "--deny-host", value: true },
  { name: "--operation", value: true },
  { name: "--producer" },
  { name: "--consumer" },
  { name: "--idempotent" },
];

export const ACL_OPTIONS: Readonly<Record<string, readonly OptionSpec[]>> = {
  list: [...RESOURCE_OPTIONS, { name: "--principal", value: true }],
  create: [...RESOURCE_OPTIONS, ...ENTRY_OPTIONS],
  delete: [...RESOURCE_OPTIONS, ...ENTRY_OPTIONS, { name: "--force" }],
};

export const ACL_USAGE = `Usage: krill acl <action> [options] [--bootstrap-server HOST:PORT] [--command-config FILE]

  list   [RESOURCE...] [--principal P] [--resource-pattern-type literal|prefixed|any|match]
  create RESOURCE... (--allow-principal P | --deny-principal P)... --operation OP...
         [--allow-host H] [--deny-host H] [--resource-pattern-type literal|prefixed]
         [--producer | --consumer [--idempotent]]
  delete RESOURCE... [--allow-principal P | --deny-principal P]... [--operation OP]...
         [--resource-pattern-type ...] [--force]

RESOURCE: --topic T, --group G, --cluster, --transactional-id ID, --delegation-token ID,
--user-principal P (each repeatable). Principals are TYPE:NAME (User:alice); operations are
Kafka's names (Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs,
AlterConfigs, IdempotentWrite, CreateTokens, DescribeTokens, TwoPhaseCommit, All). As
kafka-acls.sh --list / --add / --remove; delete asks no confirmation.`;

interface Pattern {
  readonly resourceType: number;
  readonly resourceName: string | null;
  readonly patternType: number;
}

interface Entry {
  readonly principal: string;
  readonly host: string;
  readonly operation: number;
  readonly permissionType: number;
}

export async function runAcl(action: string, ctx: CommandContext): Promise<number> {
  switch (action) {
    case "list":
      return listAcls(ctx);
    case "create":
      return createAcls(ctx);
    case "delete":
      return deleteAcls(ctx);
    default:
      throw new UsageError(`unknown acl action "${action}"; accepted: list, create, delete`);
  }
}

function patternTypeOption(parsed: ParsedOptions, specificOnly: boolean): number {
  const text = (parsed.values.get("--resource-pattern-type")?.at(-1) ?? "literal").toUpperCase();
  const code = (PatternType as Record<string, number>)[text];
  if (code === undefined || code === PatternType.UNKNOWN) {
    throw new UsageError(
      `--resource-pattern-type must be literal, prefixed, any or match, got "${text.toLowerCase()}"`,
    );
  }
  if (specificOnly && code !== PatternType.LITERAL && code !== PatternType.PREFIXED) {
    throw new UsageError(`A '--resource-pattern-type' value of '${text}' is not valid when adding acls.`);
  }
  return code;
}

/** The resources named by the options (kafka-acls' getResourceFilter). */
export function resourcePatterns(parsed: ParsedOptions, patternType: number): Pattern[] {
  const out: Pattern[] = [];
  const add = (option: string, resourceType: number) => {
    for (const name of parsed.values.get(option) ?? [])
      out.push({ resourceType, resourceName: name.trim(), patternType });
  };
  add("--topic", ResourceType.TOPIC);
  if (
    patternType === PatternType.LITERAL &&
    (parsed.flags.has("--cluster") || parsed.flags.has("--idempotent"))
  ) {
    out.push({ resourceType: ResourceType.CLUSTER, resourceName: CLUSTER_NAME, patternType });
  }
  add("--group", ResourceType.GROUP);
  add("--transactional-id", ResourceType.TRANSACTIONAL_ID);
  add("--delegation-token", ResourceType.DELEGATION_TOKEN);
  add("--user-principal", ResourceType.USER);
  return out;
}

/** Kafka's SecurityUtils.operation: `DescribeConfigs`, `describe_configs` and `DESCRIBE-CONFIGS` alike. */
export function parseOperation(text: string): number {
  const normalized = text
    .trim()
    .replace(/([a-z])([A-Z])/g, "$1_$2")
    .replace(/-/g, "_")
    .toUpperCase();
  const code = (AclOperation as Record<string, number>)[normalized];
  if (code === undefined || code === AclOperation.UNKNOWN || code === AclOperation.ANY) {
    throw new UsageError(`unknown operation "${text}"`);
  }
  return code;
}

function principals(parsed: ParsedOptions, option: string): string[] {
  return (parsed.values.get(option) ?? []).map((p) => {
    const t = p.trim();
    const colon = t.indexOf(":");
    if (colon <= 0 || colon === t.length - 1)
      throw new UsageError(`${option}: a principal is TYPE:NAME (User:alice), got "${p}"`);
    return t;
  });
}

function hosts(parsed: ParsedOptions, hostOption: string, principalOption: string): string[] {
  const given = (parsed.values.get(hostOption) ?? []).map((h) => h.trim());
  if (given.length > 0) return given;
  return (parsed.values.get(principalOption) ?? []).length > 0 ? [WILDCARD] : [];
}

function entries(parsed: ParsedOptions, operations: readonly number[]): Entry[] {
  const out: Entry[] = [];
  const kinds: [string, string, number][] = [
    ["--allow-principal", "--allow-host", AclPermission.ALLOW],
    ["--deny-principal", "--deny-host", AclPermission.DENY],
  ];
  for (const [pOpt, hOpt, permissionType] of kinds) {
    for (const principal of principals(parsed, pOpt)) {
      for (const operation of operations) {
        for (const host of hosts(parsed, hOpt, pOpt))
          out.push({ principal, host, operation, permissionType });
      }
    }
  }
  return out;
}

/** kafka-acls' getResourceFilterToAcls: each resource with its entries (roles included). */
export function bindingsFromOptions(parsed: ParsedOptions, patternType: number): [Pattern, Entry[]][] {
  const patterns = resourcePatterns(parsed, patternType);
  const producer = parsed.flags.has("--producer");
  const consumer = parsed.flags.has("--consumer");
  const result = new Map<Pattern, Entry[]>();
  const put = (p: Pattern, es: Entry[]) => result.set(p, [...(result.get(p) ?? []), ...es]);
  if (!producer && !consumer) {
    const ops = (parsed.values.get("--operation") ?? []).map(parseOperation);
    for (const p of patterns) put(p, entries(parsed, ops));
  }
  if (producer) {
    for (const p of patterns) {
      if (p.resourceType === ResourceType.TOPIC)
        put(p, entries(parsed, [AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE]));
      if (p.resourceType === ResourceType.TRANSACTIONAL_ID)
        put(p, entries(parsed, [AclOperation.WRITE, AclOperation.DESCRIBE]));
      if (p.resourceType === ResourceType.CLUSTER && parsed.flags.has("--idempotent"))
        put(p, entries(parsed, [AclOperation.IDEMPOTENT_WRITE]));
    }
  }
  if (consumer) {
    for (const p of patterns) {
      if (p.resourceType === ResourceType.TOPIC)
        put(p, entries(parsed, [AclOperation.READ, AclOperation.DESCRIBE]));
      if (p.resourceType === ResourceType.GROUP) put(p, entries(parsed, [AclOperation.READ]));
    }
  }
  return [...result];
}

export function formatPattern(p: Pattern): string {
  return `ResourcePattern(resourceType=${codeName("resourceType", p.resourceType)}, name=${p.resourceName}, patternType=${codeName("patternType", p.patternType)})`;
}

export function formatEntry(e: Entry): string {
  return `(principal=${e.principal}, host=${e.host}, operation=${codeName("operation", e.operation)}, permissionType=${codeName("permissionType", e.permissionType)})`;
}

/** Kafka 4.4's AclCommand.printResourceAcls: "Current ACLs for resource `P`:" NL entries NL, println. */
function printResource(out: (text: string) => void, pattern: Pattern, es: readonly Entry[]): void {
  const lines = es.map(formatEntry).sort();
  out(
    `Current ACLs for resource \`${formatPattern(pattern)}\`:\n${lines.map((l) => `\t${l}`).join("\n")}\n\n`,
  );
}

async function listAcls({ admin, io, parsed }: CommandContext): Promise<number> {
  const patternType = patternTypeOption(parsed, false);
  const filters: Pattern[] = resourcePatterns(parsed, patternType);
  if (filters.length === 0)
    filters.push({ resourceType: ResourceType.ANY, resourceName: null, patternType: PatternType.ANY });
  const found = new Map<string, { pattern: Pattern; entries: Map<string, Entry> }>();
  for (const f of filters) {
    const res = await admin.any(DESCRIBE_ACLS_API, {
      resourceTypeFilter: f.resourceType,
      resourceNameFilter: f.resourceName,
      patternTypeFilter: f.patternType,
      principalFilter: null,
      hostFilter: null,
      operation: AclOperation.ANY,
      permissionType: AclPermission.ANY,
    });
    check(res.errorCode, res.errorMessage, "DescribeAcls");
    for (const r of res.resources) {
      const pattern = {
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        patternType: r.patternType,
      };
      const k = formatPattern(pattern);
      let slot = found.get(k);
      if (slot === undefined) {
        slot = { pattern, entries: new Map() };
        found.set(k, slot);
      }
      for (const a of r.acls) slot.entries.set(formatEntry(a), a);
    }
  }
  const sorted = [...found.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const wanted = parsed.values.get("--principal") ?? [];
  if (wanted.length === 0) {
    for (const [, { pattern, entries: es }] of sorted) printResource(io.out, pattern, [...es.values()]);
    return 0;
  }
  for (const principal of wanted) {
    io.out(`ACLs for principal \`${principal.trim()}\`\n`);
    for (const [, { pattern, entries: es }] of sorted) {
      const mine = [...es.values()].filter((e) => e.principal === principal.trim());
      if (mine.length > 0) printResource(io.out, pattern, mine);
    }
  }
  return 0;
}

async function createAcls({ admin, io, parsed }: CommandContext): Promise<number> {
  const patternType = patternTypeOption(parsed, true);
  const bindings = bindingsFromOptions(parsed, patternType);
  if (bindings.length === 0) {
    throw new UsageError(
      "You must provide at least one resource: --topic <topic> or --cluster or --group <group> or --delegation-token <Delegation Token ID>",
    );
  }
  if (bindings.some(([, es]) => es.length === 0)) {
    throw new UsageError(
      "You must specify one of: --allow-principal, --deny-principal when trying to add ACLs.",
    );
  }
  let failed = 0;
  for (const [pattern, all] of bindings) {
    // Kafka 4.4's AclCommand.addAcls: bindings that exist already are named and left alone.
    const existing = await admin.any(DESCRIBE_ACLS_API, {
      resourceTypeFilter: pattern.resourceType,
      resourceNameFilter: pattern.resourceName,
      patternTypeFilter: pattern.patternType,
      principalFilter: null,
      hostFilter: null,
      operation: AclOperation.ANY,
      permissionType: AclPermission.ANY,
    });
    check(existing.errorCode, existing.errorMessage, "DescribeAcls");
    const have = new Set(existing.resources.flatMap((r) => r.acls.map(formatEntry)));
    const es: Entry[] = [];
    for (const e of all) {
      if (have.has(formatEntry(e))) {
        io.out(`Acl (pattern=${formatPattern(pattern)}, entry=${formatEntry(e)}) already exists.\n`);
      } else es.push(e);
    }
    if (es.length === 0) continue;
    const lines = es.map(formatEntry).sort();
    // Kafka 4.4: "Adding ACLs for resource `P`: " NL " " entries NL, println.
    io.out(
      `Adding ACLs for resource \`${formatPattern(pattern)}\`: \n ${lines.map((l) => `\t${l}`).join("\n")}\n\n`,
    );
    const res = await admin.any(CREATE_ACLS_API, {
      creations: es.map((e) => ({
        resourceType: pattern.resourceType,
        resourceName: pattern.resourceName ?? "",
        resourcePatternType: pattern.patternType,
        principal: e.principal,
        host: e.host,
        operation: e.operation,
        permissionType: e.permissionType,
      })),
    });
    res.results.forEach((r, i) => {
      if (r.errorCode === 0) return;
      failed++;
      try {
        check(r.errorCode, r.errorMessage, `CreateAcls ${formatEntry(es[i]!)}`);
      } catch (err) {
        io.err(`Error: ${(err as Error).message}\n`);
      }
    });
  }
  return failed === 0 ? 0 : 1;
}

async function deleteAcls({ admin, io, parsed }: CommandContext): Promise<number> {
  const patternType = patternTypeOption(parsed, false);
  const bindings = bindingsFromOptions(parsed, patternType);
  if (bindings.length === 0) {
    throw new UsageError(
      "You must provide at least one resource: --topic <topic> or --cluster or --group <group> or --delegation-token <Delegation Token ID>",
    );
  }
  let failed = 0;
  for (const [pattern, es] of bindings) {
    const filters =
      es.length === 0
        ? [
            {
              principalFilter: null,
              hostFilter: null,
              operation: AclOperation.ANY,
              permissionType: AclPermission.ANY,
            },
          ]
        : es.map((e) => ({
            principalFilter: e.principal,
            hostFilter: e.host,
            operation: e.operation,
            permissionType: e.permissionType,
          }));
    const res = await admin.any(DELETE_ACLS_API, {
      filters: filters.map((f) => ({
        resourceTypeFilter: pattern.resourceType,
        resourceNameFilter: pattern.resourceName,
        patternTypeFilter: pattern.patternType,
        ...f,
      })),
    });
    for (const r of res.filterResults) {
      try {
        check(r.errorCode, r.errorMessage, "DeleteAcls");
        for (const m of r.matchingAcls) check(m.errorCode, m.errorMessage, `DeleteAcls ${formatEntry(m)}`);
      } catch (err) {
        failed++;
        io.err(`Error: ${(err as Error).message}\n`);
      }
    }
  }
  return failed === 0 ? 0 : 1;
}
