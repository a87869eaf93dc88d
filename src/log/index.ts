/** Public surface of the storage layer (see docs/log.md). */
export { type CleanableStats, type CleanerOptions, type CleanResult, LogCleaner } from "./cleaner.js";
export * from "./config.js";
export { FilePool } from "./file-pool.js";
export { LeaderEpochCache, UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET } from "./leader-epoch-cache.js";
export * from "./log-manager.js";
export * from "./names.js";
export * from "./partition-log.js";
