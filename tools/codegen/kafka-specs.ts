/**
 * Where the generator's input comes from: Apache Kafka's own message specs, taken out of the Kafka
 * jars of one pinned version. The jars are resolved from Maven Central by the project's Maven step
 * (scripts/resolve-kafka.sh, compat-tests/java/pom.xml), and the JSON files inside them are
 * extracted into compat-tests/.cache/kafka-spec-<version>/ (gitignored), one folder per spec group
 * in the layout loadSpecs reads. Nothing from the jars is committed; only the generator's output.
 * KAFKA_SPEC_DIR (or --spec) overrides all of this with a folder of one's own.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { inflateRawSync } from "node:zlib";

/** The Kafka release whose specs the committed codecs are generated from. Bumping it is this line. */
export const KAFKA_SPEC_VERSION = "4.4.0";

/** Each spec group (a folder loadSpecs reads) and the jar and folder inside it that hold it. */
export const SPEC_SOURCES: readonly { group: string; artifact: string; prefix: string }[] = [
  { group: "clients", artifact: "kafka-clients", prefix: "common/message/" },
  { group: "metadata", artifact: "kafka-metadata", prefix: "common/metadata/" },
  { group: "raft", artifact: "kafka-raft", prefix: "common/message/" },
  { group: "group-coordinator", artifact: "kafka-group-coordinator", prefix: "common/message/" },
  { group: "transaction-coordinator", artifact: "kafka-transaction-coordinator", prefix: "common/message/" },
  { group: "share-coordinator", artifact: "kafka-share-coordinator", prefix: "common/message/" },
  { group: "storage", artifact: "kafka-storage", prefix: "message/" },
];

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const COMPLETE = ".complete";

export function specCacheDir(version: string = KAFKA_SPEC_VERSION): string {
  return join(ROOT, "compat-tests/.cache", `kafka-spec-${version}`);
}

/** The spec folder to generate from: KAFKA_SPEC_DIR when set, else the cached extraction of the pinned jars. */
export function defaultSpecDir(): string {
  const env = process.env.KAFKA_SPEC_DIR;
  return env !== undefined && env !== "" ? env : ensureKafkaSpecs();
}

/** The cached spec folder if it is complete, without resolving anything (for tests that only read). */
export function cachedSpecDir(version: string = KAFKA_SPEC_VERSION): string | undefined {
  const dir = specCacheDir(version);
  return existsSync(join(dir, COMPLETE)) ? dir : undefined;
}

/**
 * Returns the extracted spec folder for `version`, resolving the jars through Maven and extracting
 * them first when the cache does not hold them yet. Throws with the reason when Maven or a jar fails.
 */
export function ensureKafkaSpecs(version: string = KAFKA_SPEC_VERSION): string {
  const dir = specCacheDir(version);
  if (existsSync(join(dir, COMPLETE))) return dir;
  const classpathFile = execFileSync(join(ROOT, "scripts/resolve-kafka.sh"), [version], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
  const jars = readFileSync(classpathFile, "utf8").trim().split(":");
  const temp = `${dir}.tmp.${process.pid}`;
  rmSync(temp, { recursive: true, force: true });
  try {
    for (const source of SPEC_SOURCES) {
      const name = `${source.artifact}-${version}.jar`;
      const jar = jars.find((j) => j.endsWith(`/${source.artifact}/${version}/${name}`));
      if (jar === undefined)
        throw new Error(`${name} is not on the Kafka ${version} classpath (${classpathFile})`);
      const out = join(temp, source.group);
      mkdirSync(out, { recursive: true });
      let count = 0;
      for (const entry of readZip(readFileSync(jar))) {
        if (!entry.name.startsWith(source.prefix) || !entry.name.endsWith(".json")) continue;
        const base = entry.name.slice(source.prefix.length);
        if (base.includes("/")) continue;
        writeFileSync(join(out, base), entry.data());
        count++;
      }
      if (count === 0) throw new Error(`${name} holds no ${source.prefix}*.json`);
    }
    writeFileSync(join(temp, COMPLETE), `Apache Kafka ${version} message specs, extracted from its jars\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(temp, dir);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
  return dir;
}

export interface ZipEntry {
  name: string;
  data(): Buffer;
}

/** The entries of a zip (jar) file, read from its central directory; stored and deflated entries only. */
export function readZip(zip: Buffer): ZipEntry[] {
  // The end-of-central-directory record is in the last 22 + 65535 (comment) bytes.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error("not a zip file: no end of central directory");
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error("corrupt zip central directory");
    const method = zip.readUInt16LE(p + 10);
    const compressedSize = zip.readUInt32LE(p + 20);
    const nameLength = zip.readUInt16LE(p + 28);
    const extraLength = zip.readUInt16LE(p + 30);
    const commentLength = zip.readUInt16LE(p + 32);
    const localHeader = zip.readUInt32LE(p + 42);
    const name = zip.toString("utf8", p + 46, p + 46 + nameLength);
    p += 46 + nameLength + extraLength + commentLength;
    entries.push({
      name,
      data(): Buffer {
        if (zip.readUInt32LE(localHeader) !== 0x04034b50) throw new Error(`corrupt zip entry ${name}`);
        const start =
          localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
        const raw = zip.subarray(start, start + compressedSize);
        if (method === 0) return Buffer.from(raw);
        if (method === 8) return inflateRawSync(raw);
        throw new Error(`zip entry ${name} uses compression method ${method}`);
      },
    });
  }
  return entries;
}
