// native.ts: the only file that touches the addon. It checks the platform, loads the binding with
// node-gyp-build (a prebuilt binary or the local build), finds the zygote helper beside it, and
// gives the binding a typed interface.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { BulkheadError, ErrorCode } from './errors';

/** Results of HostRing operations (cpp/ring/host_ring.h); checked against the binding's at load. */
export const RingResult = { OK: 0, EMPTY: 1, FULL: 2, PROTOCOL_ERROR: 3, TIMED_OUT: 4, DEAD: 5, OTHER: 6 } as const;

/** Control message types (cpp/common/wire.h); checked against the binding's at load. */
export const Wire = {
  GONE: 0, LOAD: 1, SPAWN: 2, UNLOAD: 3, KILL_WORKER: 4,
  LOADED: 10, LOAD_ERROR: 11, SPAWNED: 12, SPAWN_ERROR: 13, EXITED: 14, VIOLATION: 15, READY: 16,
  PROTOCOL_ERROR: 18,
} as const;

export interface KernelProbe {
  arch: string;
  kernelRelease: string;
  seccompFilter: boolean;
  seccompMode: number;
  seccompKillProcess: boolean;
  seccompTrap: boolean;
  seccompUserNotif: boolean;
  landlockAbi: number;
  landlockErrno: string;
  noNewPrivs: boolean;
}

/** `fdsLost`: the message carried descriptors this process had no room for; `fds` is empty. */
export type ZygoteListener = (type: number, id: number, a: number, b: number, c: number,
                              payload: Buffer, fds: number[], fdsLost: boolean) => void;

export interface ZygoteHandle {
  pid(): number;
  send(type: number, id: number, a: number, b: number, payload: Uint8Array, fds: number[]): number;
  ref(on: boolean): void;
  /** Delivers the messages queued to onMessage now, first waiting up to waitMs for one. */
  pump(waitMs?: number): void;
  close(): void;
}

/** drain(gate): [kind (0 response, 1 log), callId, code, body, ...] or a protocol-violation
 *  reason; a reason after valid messages is the array's last element. Text bodies are the
 *  plugin's raw text (lib/untrusted_text.ts escapes it). */
export type DrainResult = Array<number | Buffer | string> | string;

export interface ChannelHandle {
  fds(): [number, number];
  submit(callId: number, fn: number, input: Uint8Array, deadlineNs: number): number;
  /** Reads up to one budget of messages; gate is lib/log_gate.ts's state (caps in, drops out). */
  drain(gate: Uint32Array): DrainResult;
  spin(spinNs: number): boolean;
  wait(deadlineNs: number, spinNs: number): number;
  /** Sync fast path: submit, wait until `waitUntilNs` at most, and read our OK response in one
   *  crossing (see channel_handle.cc). */
  call(callId: number, fn: number, input: Uint8Array, deadlineNs: number, spinNs: number, waitUntilNs: number): Buffer | number;
  watch(onEvent: () => void): void;
  ref(on: boolean): void;
  setPidfd(fd: number): void;
  /** SIGKILL by default; SIGSTOP / SIGCONT pause and resume. 0 or errno. */
  kill(signal?: number): number;
  exitStatus(): number;
  close(): void;
  protocolError(): string;
  /** The worker's crash report, validated in C++ (cpp/ring/crash_report.h); undefined when it left
   *  no valid one, or once closed. */
  crashReport(): import('./crash_report').NativeCrashReport | undefined;
}

/** Which cgroup hierarchy can hold each controller beneath this process's cgroup (cpp/monitor/cgroup_probe.h). */
export interface CgroupProbe {
  memory: 'v1' | 'v2' | null;
  cpu: 'v1' | 'v2' | null;
  pids: 'v1' | 'v2' | null;
  dirs: Record<'memory' | 'cpu' | 'pids', string | null>;
  killSupported: boolean;
  reasons: string[];
}

/** delegateCgroup(): the cgroup v2 delegation opt-in's outcome (cpp/monitor/cgroup_delegation.h). */
export interface NativeDelegation {
  root: string;
  /** Empty unless the processes could not all be moved (then nothing was enabled). */
  error: string;
  moved: number[];
  enabled: string[];
  reasons: string[];
}

export interface Binding {
  ZygoteHandle: new (helper: string, inheritStderr: boolean, onMessage: ZygoteListener) => ZygoteHandle;
  ChannelHandle: new (maxInputBytes: number, maxOutputBytes: number) => ChannelHandle;
  probe(): KernelProbe;
  /** Makes and removes trial cgroups; call once (capabilities.ts caches it). */
  probeCgroups(): CgroupProbe;
  /** Moves this process's cgroup's processes into a leaf and enables `controllers` beside it. */
  delegateCgroup(controllers: string[]): NativeDelegation;
  syscallName(arch: number, nr: number): string;
  archName(arch: number): string;
  pidOfPidfd(fd: number): number;
  closeFd(fd: number): number;
  sealedMemfd(bytes: Uint8Array): number;
  pidfdKill(fd: number): number;
  /** Nanoseconds the whole process (every thread) has run on a CPU, from its process CPU clock; -1 when gone. */
  cpuTimeNs(pid: number): number;
  /** The C++ values of the tables above, by name. */
  constants: { wire: Record<string, number>; ring: Record<string, number> };
}

/** Names whose values differ between this file and the binding, or that one of them lacks. */
export function constantDrift(binding: Pick<Binding, 'constants'>): string[] {
  const drift: string[] = [];
  const compare = (what: string, ours: Record<string, number>, theirs: Record<string, number> | undefined) => {
    for (const name of new Set([...Object.keys(ours), ...Object.keys(theirs ?? {})])) {
      if (ours[name] !== theirs?.[name]) drift.push(`${what}.${name}: ${ours[name]} here, ${theirs?.[name]} in the binding`);
    }
  };
  compare('wire', Wire, binding.constants?.wire);
  compare('ring', RingResult, binding.constants?.ring);
  return drift;
}

const ROOT = path.join(__dirname, '..');
const HELPER_NAME = 'bulkhead_zygote';

let loaded: { binding: Binding; helper: string } | undefined;

function unsupported(why: string): BulkheadError {
  return new BulkheadError(ErrorCode.UNSUPPORTED_PLATFORM,
    `bulkhead runs on Linux x86-64 and arm64 only: ${why}`);
}

const ELF_MACHINE: Record<string, number> = { x64: 62, arm64: 183 };

/** Why `file` is not an ELF binary for this architecture, or undefined when it is one. */
function elfProblem(file: string): string | undefined {
  let head: Buffer;
  try {
    head = Buffer.alloc(20);
    const fd = fs.openSync(file, 'r');
    try { fs.readSync(fd, head, 0, 20, 0); } finally { fs.closeSync(fd); }
  } catch (e) {
    return `it cannot be read (${(e as NodeJS.ErrnoException).code}); `;
  }
  if (head.readUInt32BE(0) !== 0x7f454c46) return 'it is not an ELF binary; ';
  const machine = head.readUInt16LE(18);
  return machine === ELF_MACHINE[process.arch] ? undefined : `it is built for ELF machine ${machine}, not ${process.arch}; `;
}

/** What is wrong with the helper at `file`, in words, or undefined when it can be executed. */
function helperProblem(file: string): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    return `is missing (expected ${file}: ${(e as NodeJS.ErrnoException).code})`;
  }
  if (!st.isFile()) return `is not a file (${file})`;
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch {
    return `is not executable (${file}, mode ${(st.mode & 0o777).toString(8)}): restore its exec bit or reinstall`;
  }
  const elf = elfProblem(file);
  return elf ? `cannot run here (${file}: ${elf.replace(/; $/, '')})` : undefined;
}

/** Loads the addon once; throws ERR_UNSUPPORTED_PLATFORM with what it tried when it cannot. */
export function native(): { binding: Binding; helper: string } {
  if (loaded) return loaded;
  if (process.platform !== 'linux') throw unsupported(`this is ${process.platform}`);
  if (process.arch !== 'x64' && process.arch !== 'arm64') throw unsupported(`this is ${process.arch}`);
  const gypBuild = require('node-gyp-build') as { (dir: string): unknown; path(dir: string): string };
  let addonPath: string;
  try {
    addonPath = gypBuild.path(ROOT);
  } catch (e) {
    throw new BulkheadError(ErrorCode.UNSUPPORTED_PLATFORM,
      `No bulkhead binary for linux-${process.arch} (looked in ${ROOT}/prebuilds and ${ROOT}/build); ` +
      'run `npm rebuild bulkhead` with a C++ compiler installed', { cause: e });
  }
  let binding: Binding;
  try {
    binding = require(addonPath) as Binding;
  } catch (e) {
    throw new BulkheadError(ErrorCode.UNSUPPORTED_PLATFORM,
      `Cannot load the bulkhead binding ${addonPath}: ${(e as Error).message} (${elfProblem(addonPath) ?? ''}` +
      'a binary for another architecture or a newer glibc than this one fails this way; run `npm rebuild bulkhead`)', { cause: e });
  }
  const drift = constantDrift(binding);
  if (drift.length > 0) {
    throw new BulkheadError(ErrorCode.UNSUPPORTED_PLATFORM,
      `The bulkhead binding ${addonPath} was built from other sources than this library (${drift.join('; ')}); ` +
      'run `npm rebuild bulkhead`');
  }
  const helper = path.join(path.dirname(addonPath), HELPER_NAME);
  const problem = helperProblem(helper);
  if (problem) {
    throw new BulkheadError(ErrorCode.UNSUPPORTED_PLATFORM, `The zygote helper beside ${addonPath} ${problem}`);
  }
  loaded = { binding, helper };
  return loaded;
}
