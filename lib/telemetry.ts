// telemetry.ts: node:diagnostics_channel channels bulkhead publishes on. Publishing costs nothing
// measurable while nobody subscribes (each site checks hasSubscribers first).
import * as dc from 'node:diagnostics_channel';

/** A worker finished starting: { plugin, version, pid, durationUs } (request to pidfd in hand). */
export const workerSpawnChannel = dc.channel('bulkhead:worker:spawn');
/** A worker is gone: { plugin, version, pid, code } (code: the error it died with, or 'planned'). */
export const workerExitChannel = dc.channel('bulkhead:worker:exit');
/** A call settled: { plugin, fn, durationUs, code } (code: 'ok' or the error code). */
export const callChannel = dc.channel('bulkhead:call');
/** A plugin version was quarantined: { plugin, version, recentDeaths }. */
export const quarantineChannel = dc.channel('bulkhead:quarantine');

export const CHANNEL_NAMES = ['bulkhead:worker:spawn', 'bulkhead:worker:exit', 'bulkhead:call', 'bulkhead:quarantine'] as const;
