// index.ts: the public surface. Re-exports only.
export { loadPlugin, Plugin } from './plugin';
export type { LoadOptions, CallOptions, PluginMetrics, LogEvent } from './plugin';
export { capabilities } from './capabilities';
export type { Capabilities } from './capabilities';
export { BulkheadError, ErrorCode, isBulkheadError } from './errors';
export type { ErrorDetails } from './errors';
export type { Limits, PolicyOption, FsPolicy, RequireLevel } from './policy';
export type { TrustOption } from './trust';
