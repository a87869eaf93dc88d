import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FilePool } from "../../src/log/file-pool.js";
import { tempDir } from "./helpers.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function files(n: number): string[] {
  const dir = tempDir("krill-pool-");
  dirs.push(dir);
  return Array.from({ length: n }, (_, i) => {
    const f = path.join(dir, `f${i}`);
    fs.writeFileSync(f, `file ${i}`);
    return f;
  });
}

function readAll(pool: FilePool, file: string): string {
  return pool.withFd(file, (fd) => {
    const buf = Buffer.alloc(64);
    return buf.subarray(0, fs.readSync(fd, buf, 0, 64, 0)).toString();
  });
}

describe("FilePool", () => {
  it("keeps at most maxOpenFiles descriptors, closing the least recently used", () => {
    const pool = new FilePool(4);
    const paths = files(10);
    paths.forEach((p, i) => {
      expect(readAll(pool, p)).toBe(`file ${i}`);
    });
    expect(pool.openCount).toBe(4);
    expect(pool.opens).toBe(10);
    // The most recent four are still open: using them opens nothing.
    for (const p of paths.slice(6)) readAll(pool, p);
    expect(pool.opens).toBe(10);
    // f0 was evicted and is reopened transparently.
    expect(readAll(pool, paths[0]!)).toBe("file 0");
    expect(pool.opens).toBe(11);
    pool.closeAll();
    expect(pool.openCount).toBe(0);
  });

  it("never closes a pinned descriptor; closes it on release once evicted or forgotten", async () => {
    const pool = new FilePool(4);
    const paths = files(8);
    const pinned = pool.pin(paths[0]!);
    for (const p of paths.slice(1)) readAll(pool, p);
    // Still usable although evicted from the pool.
    const buf = Buffer.alloc(6);
    fs.readSync(pinned.fd, buf, 0, 6, 0);
    expect(buf.toString()).toBe("file 0");
    pool.forget(paths[0]!);
    fs.readSync(pinned.fd, buf, 0, 6, 0);
    pinned.release();
    expect(() => fs.fstatSync(pinned.fd)).toThrow();
    await pool.fsync(paths[1]!);
  });

  it("creates files only when asked and reports open failures as LOG_IO", () => {
    const pool = new FilePool(4);
    const [existing] = files(1);
    const missing = path.join(path.dirname(existing!), "missing");
    expect(() => pool.withFd(missing, () => 0)).toThrow(expect.objectContaining({ code: "LOG_IO" }));
    pool.withFd(missing, (fd) => fs.writeSync(fd, "x"), true);
    expect(fs.readFileSync(missing, "utf8")).toBe("x");
    expect(() => new FilePool(1)).toThrow(expect.objectContaining({ code: "CONFIG_INVALID" }));
  });

  it("bounds concurrent fsyncs and completes them all", async () => {
    const pool = new FilePool(8);
    const paths = files(20);
    await Promise.all(paths.map((p) => pool.fsync(p)));
    expect(pool.openCount).toBeLessThanOrEqual(8);
  });
});
