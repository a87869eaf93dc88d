import path from "node:path";
import { describe, expect, it } from "vitest";
import { handler as metadata } from "../../src/server/handlers/003-metadata.js";
import { handler as apiVersions } from "../../src/server/handlers/018-api-versions.js";
import { loadHandlers, provideHandlerModules } from "../../src/server/registry.js";

const HANDLERS_DIR = path.resolve(import.meta.dirname, "../../src/server/handlers");

// One file, one module instance: provideHandlerModules changes what loadHandlers() returns for
// the rest of this file, so the folder case runs first.
describe("loadHandlers", () => {
  it("imports every NNN-name module of the folder, keyed by file number", async () => {
    const registry = await loadHandlers();
    expect(registry.get(3)).toBe(metadata);
    expect(registry.get(18)).toBe(apiVersions);
    expect(registry.all().map((h) => h.apiKey)).toEqual(
      [...registry.all().map((h) => h.apiKey)].sort((a, b) => a - b),
    );
  });

  it("registers the modules the single-file build provided instead of reading a folder", async () => {
    provideHandlerModules([
      ["003-metadata.ts", { handler: metadata }],
      ["018-api-versions.ts", { handler: apiVersions }],
      ["099-not-a-handler.ts", {}],
    ]);
    const registry = await loadHandlers();
    expect(registry.all()).toEqual([metadata, apiVersions]);
    // An explicit folder still reads the folder.
    expect((await loadHandlers(HANDLERS_DIR)).all().length).toBeGreaterThan(2);
  });

  it("refuses a provided module whose file number is not its api key", async () => {
    provideHandlerModules([["004-metadata.ts", { handler: metadata }]]);
    await expect(loadHandlers()).rejects.toThrow(/004-metadata\.ts exports a handler for api key 3/);
  });
});
