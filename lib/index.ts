// index.ts: the public surface. Re-exports only.
export { loadPlugin, Plugin } from './plugin';
export type { LoadOptions, CallOptions, UpgradeOptions, PluginMetrics, LogEvent } from './plugin';
export type { PluginState } from './lifecycle';
export type { PoolOptions } from './pool';
export type { RestartOptions } from './restart_policy';
export { capabilities } from './capabilities';
export { delegateCgroups } from './cgroup_delegation';
export type { CgroupDelegation, DelegatedController } from './cgroup_delegation';
export { CHANNEL_NAMES } from './telemetry';
export type { Capabilities } from './capabilities';
export { BulkheadError, ErrorCode, isBulkheadError } from './errors';
export type { ErrorDetails } from './errors';
export type { Limits, PolicyOption, FsPolicy, RequireLevel } from './policy';
export type { TrustOption } from './trust';
