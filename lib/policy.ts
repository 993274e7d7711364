// policy.ts: load options → the sandbox spec the zygote decodes (cpp/sandbox/sandbox_spec.h),
// with defaults in one place.
import * as path from 'node:path';

import { checkInt, checkKnownKeys, checkObject, invalid, isPlainObject } from './validate';

/** Isolation the caller insists on; loading fails closed when the kernel cannot give it. */
export type RequireLevel = 'strict' | 'landlock-any' | 'seccomp-only';

export interface FsPolicy {
  /** Absolute paths (files or directories) the plugin may read. Nothing else is readable. */
  read?: string[];
}

/** 'compute': no filesystem, no network, no processes. Or spell out the grants. */
export type PolicyOption = 'compute' | { fs?: FsPolicy };

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
  /** Largest file a plugin process may write (RLIMIT_FSIZE), bytes. Default 0: no file writes. */
  maxFileSizeBytes?: number;
}

export const DEFAULT_LIMITS: Required<Limits> = {
  memoryMiB: 1024,
  timeoutMs: 30_000,
  maxInputBytes: 64 << 20,
  maxOutputBytes: 64 << 20,
  maxOpenFiles: 64,
  maxFileSizeBytes: 0,
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
  };
}

export function resolveReadPaths(v: unknown): string[] {
  if (v === undefined || v === 'compute') return [];
  if (!isPlainObject(v)) throw invalid("'compute' or an object", 'options.policy', v);
  checkKnownKeys(v, 'options.policy', ['fs']);
  const fs = checkObject(v.fs, 'options.policy.fs');
  checkKnownKeys(fs, 'options.policy.fs', ['read']);
  if (fs.read === undefined) return [];
  if (!Array.isArray(fs.read) || fs.read.length > 64) {
    throw invalid('an array of at most 64 absolute paths', 'options.policy.fs.read', fs.read);
  }
  return fs.read.map((p, i) => {
    if (typeof p !== 'string' || !path.isAbsolute(p) || p.includes('\0') || p.length > 4096) {
      throw invalid('an absolute path', `options.policy.fs.read[${i}]`, p);
    }
    return path.normalize(p);
  });
}

export function minLandlockAbi(level: RequireLevel): number {
  switch (level) {
    case 'strict': return 4;
    case 'landlock-any': return 1;
    case 'seccomp-only': return 0;
  }
}

/** Encodes the sandbox spec (layout in cpp/sandbox/sandbox_spec.h). */
export function encodeSandboxSpec(limits: Required<Limits>, readPaths: string[], level: RequireLevel,
                                  config: Uint8Array): Buffer {
  const paths = readPaths.map((p) => Buffer.from(p));
  const size = 4 + 4 + 8 + 8 + 4 + 4 + 4 + paths.reduce((n, p) => n + 4 + p.length, 0) + 4 + config.length;
  const b = Buffer.alloc(size);
  let o = 0;
  o = b.writeUInt32LE(0x534c4842, o);
  o = b.writeUInt32LE(1, o);
  o = b.writeBigUInt64LE(BigInt(limits.memoryMiB) << 20n, o);
  o = b.writeBigUInt64LE(BigInt(limits.maxFileSizeBytes), o);
  o = b.writeUInt32LE(limits.maxOpenFiles, o);
  o = b.writeUInt32LE(minLandlockAbi(level), o);
  o = b.writeUInt32LE(paths.length, o);
  for (const p of paths) {
    o = b.writeUInt32LE(p.length, o);
    o += p.copy(b, o);
  }
  o = b.writeUInt32LE(config.length, o);
  b.set(config, o);
  return b;
}
