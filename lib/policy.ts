// policy.ts: load options → the sandbox spec the zygote decodes (cpp/sandbox/sandbox_spec.h),
// with defaults in one place.
import * as path from 'node:path';

import { checkInt, checkKnownKeys, checkObject, invalid, isPlainObject } from './validate';

/** Isolation the caller insists on; loading fails closed when the kernel cannot give it. */
export type RequireLevel = 'strict' | 'landlock-any' | 'seccomp-only';

export interface FsPolicy {
  /** Absolute paths (files or directories) the plugin may read. Nothing else is readable. */
  read?: string[];
  /**
   * Absolute directories the plugin may read and write beneath: write, create and truncate files,
   * create and remove files and directories, rename within one directory. Never links, symlinks,
   * device nodes or moves between directories. Each file is capped by limits.maxFileSizeBytes
   * (64 MiB when that is 0); a write past it kills the worker (SIGXFSZ). Needs Landlock: loading
   * fails on a kernel without it, whatever requireLevel says.
   */
  write?: string[];
}

/**
 * 'compute': no filesystem, no network, no processes, no threads. Or spell out the grants;
 * `threads: N` lets the plugin create threads (glibc's pthread_create; 0, the default, none).
 */
export type PolicyOption = 'compute' | { fs?: FsPolicy; threads?: number };

/** A policy with every grant spelled out, as the sandbox spec carries it. */
export interface SandboxPolicy {
  readPaths: string[];
  writePaths: string[];
  threads: number;
}

export interface Limits {
  /** Address-space cap per plugin process (RLIMIT_AS), MiB. Default 1024. */
  memoryMiB?: number;
  /** Per-call deadline, ms. Default 30000. */
  timeoutMs?: number;
  /** Largest input accepted, bytes. Default 64 MiB. */
  maxInputBytes?: number;
  /** Largest output accepted, bytes. Default 64 MiB. */
  maxOutputBytes?: number;
  /** Open descriptors per plugin process (RLIMIT_NOFILE). Default 64. */
  maxOpenFiles?: number;
  /** Largest file a plugin process may write (RLIMIT_FSIZE), bytes. Default 0: 64 MiB when the
   *  policy grants writable directories (without one, no file can be written at all). */
  maxFileSizeBytes?: number;
  /** CPU share per worker, percent of one core, enforced by the cgroup cpu controller where
   *  available. Default 0: no quota. */
  cpuQuotaPercent?: number;
  /** CPU time one call may use, ms, counting every thread of its worker. Default 0: only the
   *  wall-clock deadline applies. */
  cpuTimeMs?: number;
  /** Bytes a worker may write over its life (all write() calls, as /proc/<pid>/io counts them)
   *  when the policy grants writable directories. Default 0: 1 GiB with a write grant. */
  maxBytesWritten?: number;
  /** Log lines one call may deliver (the host's cap, enforced whatever the worker does; the
   *  worker itself keeps at most 64). Default 100; 0 silences the plugin. */
  logLinesPerCall?: number;
  /** Log lines the plugin may deliver per second, all its workers together. Default 1000. */
  logLinesPerSecond?: number;
}

export const DEFAULT_LIMITS: Required<Limits> = {
  memoryMiB: 1024,
  timeoutMs: 30_000,
  maxInputBytes: 64 << 20,
  maxOutputBytes: 64 << 20,
  maxOpenFiles: 64,
  maxFileSizeBytes: 0,
  cpuQuotaPercent: 0,
  cpuTimeMs: 0,
  maxBytesWritten: 0,
  logLinesPerCall: 100,
  logLinesPerSecond: 1000,
};

const MAX_PAYLOAD = 1 << 30;

export function resolveLimits(v: unknown): Required<Limits> {
  const o = checkObject(v, 'options.limits');
  checkKnownKeys(o, 'options.limits', Object.keys(DEFAULT_LIMITS));
  const d = DEFAULT_LIMITS;
  return {
    memoryMiB: checkInt(o.memoryMiB, 'options.limits.memoryMiB', 64, 1 << 20, d.memoryMiB),
    timeoutMs: checkInt(o.timeoutMs, 'options.limits.timeoutMs', 1, 2 ** 31 - 1, d.timeoutMs),
    maxInputBytes: checkInt(o.maxInputBytes, 'options.limits.maxInputBytes', 0, MAX_PAYLOAD, d.maxInputBytes),
    maxOutputBytes: checkInt(o.maxOutputBytes, 'options.limits.maxOutputBytes', 0, MAX_PAYLOAD, d.maxOutputBytes),
    maxOpenFiles: checkInt(o.maxOpenFiles, 'options.limits.maxOpenFiles', 16, 4096, d.maxOpenFiles),
    maxFileSizeBytes: checkInt(o.maxFileSizeBytes, 'options.limits.maxFileSizeBytes', 0, Number.MAX_SAFE_INTEGER, d.maxFileSizeBytes),
    cpuQuotaPercent: checkInt(o.cpuQuotaPercent, 'options.limits.cpuQuotaPercent', 0, 409_600, d.cpuQuotaPercent),
    cpuTimeMs: checkInt(o.cpuTimeMs, 'options.limits.cpuTimeMs', 0, 2 ** 31 - 1, d.cpuTimeMs),
    maxBytesWritten: checkInt(o.maxBytesWritten, 'options.limits.maxBytesWritten', 0, Number.MAX_SAFE_INTEGER, d.maxBytesWritten),
    logLinesPerCall: checkInt(o.logLinesPerCall, 'options.limits.logLinesPerCall', 0, 10_000, d.logLinesPerCall),
    logLinesPerSecond: checkInt(o.logLinesPerSecond, 'options.limits.logLinesPerSecond', 0, 1_000_000, d.logLinesPerSecond),
  };
}

const MAX_THREADS = 256;  // kMaxThreadGrant in cpp/sandbox/sandbox_spec.h

function resolvePaths(v: unknown, what: string, kind: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > 64) throw invalid(`an array of at most 64 absolute ${kind}`, what, v);
  return v.map((p, i) => {
    if (typeof p !== 'string' || !path.isAbsolute(p) || p.includes('\0') || p.length > 4096) {
      throw invalid('an absolute path', `${what}[${i}]`, p);
    }
    return path.normalize(p);
  });
}

export function resolvePolicy(v: unknown): SandboxPolicy {
  if (v === undefined || v === 'compute') return { readPaths: [], writePaths: [], threads: 0 };
  if (!isPlainObject(v)) throw invalid("'compute' or an object", 'options.policy', v);
  checkKnownKeys(v, 'options.policy', ['fs', 'threads']);
  const fs = checkObject(v.fs, 'options.policy.fs');
  checkKnownKeys(fs, 'options.policy.fs', ['read', 'write']);
  return {
    readPaths: resolvePaths(fs.read, 'options.policy.fs.read', 'paths'),
    writePaths: resolvePaths(fs.write, 'options.policy.fs.write', 'directories'),
    threads: checkInt(v.threads, 'options.policy.threads', 0, MAX_THREADS, 0),
  };
}

/** @deprecated The name plugin.ts still imports; call resolvePolicy. */

export function minLandlockAbi(level: RequireLevel): number {
  switch (level) {
    case 'strict': return 4;
    case 'landlock-any': return 1;
    case 'seccomp-only': return 0;
  }
}

/**
 * RLIMIT_AS for a plugin process: the memory budget plus the two rings the worker maps. Where a
 * memory cgroup enforces the budget on memory really used, twice the budget: the cgroup (with its
 * own error) is what a memory bomb meets, and the address-space cap still stops absurd reservations.
 */
function addressSpaceBytes(limits: Required<Limits>, cgroupMemory: boolean): bigint {
  const rings = 2n * BigInt(Math.max(limits.maxInputBytes, limits.maxOutputBytes) + (1 << 20));
  const budget = BigInt(limits.memoryMiB) << 20n;
  return (cgroupMemory ? 2n * budget : budget) + rings + (64n << 20n);
}

/** What the monitor's cgroups enforce (0: not asked): for the whole plugin, and for each worker. */
export interface CgroupLimits {
  pluginMemoryBytes: number;
  pluginPids: number;
  workerMemoryBytes: number;
  workerCpuQuotaPercent: number;
  workerPids: number;
}

export const NO_CGROUP_LIMITS: CgroupLimits = {
  pluginMemoryBytes: 0, pluginPids: 0, workerMemoryBytes: 0, workerCpuQuotaPercent: 0, workerPids: 0,
};

/** Encodes the sandbox spec (layout in cpp/sandbox/sandbox_spec.h). */
export function encodeSandboxSpec(limits: Required<Limits>, policy: SandboxPolicy, level: RequireLevel,
                                  config: Uint8Array, cgroupMemory = false,
                                  cgroups: CgroupLimits = NO_CGROUP_LIMITS): Buffer {
  const reads = policy.readPaths.map((p) => Buffer.from(p));
  const writes = policy.writePaths.map((p) => Buffer.from(p));
  const pathBytes = (ps: Buffer[]) => 4 + ps.reduce((n, p) => n + 4 + p.length, 0);
  const size = 4 + 4 + 8 + 8 + 4 + 4 + pathBytes(reads) + 4 + config.length + 4 + pathBytes(writes) + 28;
  const b = Buffer.alloc(size);
  let o = 0;
  const putPaths = (ps: Buffer[]) => {
    o = b.writeUInt32LE(ps.length, o);
    for (const p of ps) {
      o = b.writeUInt32LE(p.length, o);
      o += p.copy(b, o);
    }
  };
  o = b.writeUInt32LE(0x534c4842, o);
  o = b.writeUInt32LE(3, o);
  o = b.writeBigUInt64LE(addressSpaceBytes(limits, cgroupMemory), o);
  o = b.writeBigUInt64LE(BigInt(limits.maxFileSizeBytes), o);
  o = b.writeUInt32LE(limits.maxOpenFiles, o);
  o = b.writeUInt32LE(minLandlockAbi(level), o);
  putPaths(reads);
  o = b.writeUInt32LE(config.length, o);
  b.set(config, o);
  o += config.length;
  o = b.writeUInt32LE(policy.threads, o);
  putPaths(writes);
  o = b.writeBigUInt64LE(BigInt(cgroups.pluginMemoryBytes), o);
  o = b.writeUInt32LE(cgroups.pluginPids, o);
  o = b.writeBigUInt64LE(BigInt(cgroups.workerMemoryBytes), o);
  o = b.writeUInt32LE(cgroups.workerCpuQuotaPercent, o);
  o = b.writeUInt32LE(cgroups.workerPids, o);
  return b;
}
