/**
 * `${provider:path:key}` values, resolved as Kafka's AbstractConfig resolves them (KIP-297,
 * KIP-421) for the three config providers Kafka ships:
 *
 *   config.providers=file,dir,env
 *   config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider
 *   config.providers.dir.class=org.apache.kafka.common.config.provider.DirectoryConfigProvider
 *   config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider
 *   some.key=${file:/etc/kafka/secrets.properties:password}   # key of a properties file
 *   other.key=${dir:/run/secrets:db-password}                  # whole content of a file in a folder
 *   third.key=${env::HOME}                                     # an environment variable (no path)
 *
 * Providers take Kafka's parameters: `config.providers.NAME.param.allowed.paths` (file and
 * directory; a comma-separated list of folders the provider may read) and
 * `config.providers.NAME.param.allowlist.pattern` (env; a regular expression the variable's name
 * must match). Any other provider class stops start-up, naming it.
 *
 * Where Kafka leaves a variable it cannot resolve in the value unchanged (an undeclared provider,
 * a missing key, a path outside allowed.paths), Krill stops start-up naming the key and the
 * variable: a literal `${...}` used as a password or a directory is never what was meant.
 */
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { KrillError } from "../errors.js";
import { parseProperties } from "./properties.js";

const PROVIDER_PACKAGE = "org.apache.kafka.common.config.provider.";
const PROVIDER_CLASSES = ["FileConfigProvider", "DirectoryConfigProvider", "EnvVarConfigProvider"] as const;
type ProviderKind = (typeof PROVIDER_CLASSES)[number];

/** Kafka's ConfigTransformer.DEFAULT_PATTERN. */
const VARIABLE = /\$\{([^}]*?):(?:([^}]*?):)?([^}]*?)\}/g;

export interface RawEntry {
  readonly text: string;
  /** Where the value was set: `file:line` or `override`. */
  readonly origin: string;
}

interface Provider {
  readonly name: string;
  readonly kind: ProviderKind;
  readonly allowedPaths: readonly string[] | undefined;
  readonly allowlist: RegExp | undefined;
}

function fail(message: string): never {
  throw new KrillError("CONFIG_INVALID", message);
}

function providers(raw: ReadonlyMap<string, RawEntry>): Map<string, Provider> {
  const out = new Map<string, Provider>();
  const declared = raw.get("config.providers");
  if (declared === undefined) return out;
  for (const name of declared.text.split(",").map((s) => s.trim())) {
    if (name === "") continue;
    const classKey = `config.providers.${name}.class`;
    const cls = raw.get(classKey);
    if (cls === undefined)
      fail(`config.providers (${declared.origin}) names ${name} but ${classKey} is not set`);
    const simple = cls.text.trim().startsWith(PROVIDER_PACKAGE)
      ? cls.text.trim().slice(PROVIDER_PACKAGE.length)
      : undefined;
    if (simple === undefined || !(PROVIDER_CLASSES as readonly string[]).includes(simple)) {
      fail(
        `${classKey}=${cls.text.trim()} (${cls.origin}): Krill resolves only the config providers Kafka ships: [${PROVIDER_CLASSES.map((c) => PROVIDER_PACKAGE + c).join(", ")}]`,
      );
    }
    const param = (p: string) => raw.get(`config.providers.${name}.param.${p}`)?.text;
    const allowedText = param("allowed.paths");
    const pattern = param("allowlist.pattern");
    let allowlist: RegExp | undefined;
    if (pattern !== undefined) {
      try {
        allowlist = new RegExp(`^(?:${pattern})$`);
      } catch (err) {
        fail(
          `config.providers.${name}.param.allowlist.pattern is not a valid regular expression: ${(err as Error).message}`,
        );
      }
    }
    out.set(name, {
      name,
      kind: simple as ProviderKind,
      allowedPaths:
        allowedText === undefined
          ? undefined
          : allowedText
              .split(",")
              .map((s) => s.trim())
              .filter((s) => s !== "")
              .map((s) => path.resolve(s)),
      allowlist,
    });
  }
  return out;
}

function allowed(provider: Provider, target: string): boolean {
  if (provider.allowedPaths === undefined) return true;
  const normalized = path.resolve(target);
  return provider.allowedPaths.some(
    (a) => normalized === a || normalized.startsWith(a.endsWith(path.sep) ? a : a + path.sep),
  );
}

function lookup(
  provider: Provider,
  location: string,
  key: string,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  switch (provider.kind) {
    case "EnvVarConfigProvider": {
      if (location !== "")
        fail(`Path is not supported for EnvVarConfigProvider, invalid value '${location}'`);
      if (provider.allowlist !== undefined && !provider.allowlist.test(key)) return undefined;
      return env[key];
    }
    case "FileConfigProvider": {
      if (!allowed(provider, location))
        fail(`the path ${location} is not in config.providers.${provider.name}.param.allowed.paths`);
      let text: string;
      try {
        text = readFileSync(location, "utf8");
      } catch (err) {
        fail(`Could not read properties from file ${location}: ${(err as Error).message}`);
      }
      return parseProperties(text, location).get(key);
    }
    case "DirectoryConfigProvider": {
      if (!allowed(provider, location))
        fail(`the path ${location} is not in config.providers.${provider.name}.param.allowed.paths`);
      const file = path.join(location, key);
      // Kafka reads only regular files directly in the folder, named exactly by the key.
      if (key.includes("/") || key.includes(path.sep)) return undefined;
      try {
        if (!statSync(file).isFile()) return undefined;
        return readFileSync(file, "utf8");
      } catch {
        return undefined;
      }
    }
  }
}

/**
 * Returns `raw` with every `${provider:path:key}` resolved. Keys under `config.providers` are
 * left as they are (Kafka does not resolve them either).
 */
export function resolveConfigVariables(
  raw: ReadonlyMap<string, RawEntry>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Map<string, RawEntry> {
  const declared = providers(raw);
  const out = new Map<string, RawEntry>();
  for (const [key, entry] of raw) {
    if (key === "config.providers" || key.startsWith("config.providers.") || !entry.text.includes("${")) {
      out.set(key, entry);
      continue;
    }
    const text = entry.text.replace(
      VARIABLE,
      (variable, name: string, location: string | undefined, varKey: string) => {
        const where = `${key} (${entry.origin}) refers to ${variable}`;
        const provider = declared.get(name);
        if (provider === undefined) {
          fail(
            `${where}, but config.providers does not declare a provider named ${name}; declared: [${[...declared.keys()].join(", ")}]`,
          );
        }
        let value: string | undefined;
        try {
          value = lookup(provider, location ?? "", varKey, env);
        } catch (err) {
          fail(`${where}: ${(err as Error).message}`);
        }
        if (value === undefined) fail(`${where}, which ${provider.kind} cannot resolve: no such key`);
        return value;
      },
    );
    out.set(key, { text, origin: entry.origin });
  }
  return out;
}
