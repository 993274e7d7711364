// crash_report.ts: turns the crash report a dying worker wrote into its region (cpp/ring/region.h,
// bh_crash) into a sanitized CrashReport, or undefined when it does not hold together.
//
// Every byte of it is hostile: the worker wrote it, and a plugin can write anything there. The
// report only ever describes the worker's own memory (signal, code, a faulting address, module
// offsets and exported symbol names); nothing is taken from it but what passes the checks below.
import * as os from 'node:os';

import { untrustedText } from './untrusted_text';

/** One frame of a crash report as the binding returns it (ChannelHandle.crashReport()). */
export interface RawCrashFrame {
  module: number;
  offset: bigint;
  symbol: Uint8Array;
  moduleName: Uint8Array;
}

/** The crash slot as the binding copied it, unchecked. */
export interface RawCrashReport {
  kind: number;
  signo: number;
  code: number;
  address: bigint;
  frameCount: number;
  frames: RawCrashFrame[];
}

export interface CrashFrame {
  /** 'plugin' for the plugin's own code; otherwise the basename of the module ('libc.so.6'),
   *  '<other>' for a module whose name did not pass the checks, '<unknown>' for code in no module. */
  module: 'plugin' | string;
  /** '0x…': the pc relative to the module's load bias (an address addr2line understands); for an
   *  unknown module, the pc itself. */
  offset: string;
  /** The exported symbol containing the pc, as untrustedText shows plugin text (control
   *  characters escaped); absent when there is none or its field is malformed. */
  symbol?: string;
}

export interface CrashReport {
  /** 'SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGABRT' or 'SIGTRAP'. */
  signal: string;
  /** The signal's si_code (e.g. 1 = SEGV_MAPERR, -6 = SI_TKILL). */
  code: number;
  /** '0x…': the faulting address (SIGSEGV, SIGBUS) or instruction; '0x0' for a sent signal. */
  address: string;
  /** Innermost first: frame 0 is where the signal struck. */
  frames: CrashFrame[];
}

const CRASH_MAGIC = 0x48535243;  // BH_CRASH_MAGIC
const MAX_FRAMES = 16;           // BH_CRASH_MAX_FRAMES
const SYMBOL_BYTES = 48;
const MODULE_BYTES = 24;
const MODULE_PLUGIN = 0;
const MODULE_OTHER = 1;
const MODULE_UNKNOWN = 2;
const U64_MAX = (1n << 64n) - 1n;
const MODULE = /^[A-Za-z0-9_.+-]{1,23}$/;
const SIGNALS: ReadonlyMap<number, string> = new Map(
  (['SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGABRT', 'SIGTRAP'] as const)
    .map((name) => [os.constants.signals[name], name] as [number, string]));

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function isU64(v: unknown): v is bigint {
  return typeof v === 'bigint' && v >= 0n && v <= U64_MAX;
}

/** The bytes of a fixed field before its NUL; undefined when empty, unterminated or mis-sized. */
function fieldBytes(v: unknown, bytes: number): Uint8Array | undefined {
  if (!(v instanceof Uint8Array) || v.byteLength !== bytes) return undefined;
  const end = v.indexOf(0);
  return end <= 0 ? undefined : v.subarray(0, end);
}

/** A module's basename: it names a file, so anything but a plain file name is refused. */
function moduleName(v: unknown): string | undefined {
  const b = fieldBytes(v, MODULE_BYTES);
  // latin1: one character per byte, so a non-ASCII byte can only fail the pattern.
  const name = b && Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
  return name !== undefined && MODULE.test(name) ? name : undefined;
}

function parseFrame(v: unknown): CrashFrame | undefined {
  if (!isObject(v) || !isU64(v.offset)) return undefined;
  const frame: CrashFrame = { module: '<unknown>', offset: `0x${v.offset.toString(16)}` };
  switch (v.module) {
    case MODULE_PLUGIN: frame.module = 'plugin'; break;
    case MODULE_OTHER: {
      const name = moduleName(v.moduleName);
      frame.module = name === undefined || name === 'plugin' ? '<other>' : name;
      break;
    }
    case MODULE_UNKNOWN: return frame;
    default: return undefined;
  }
  const symbol = fieldBytes(v.symbol, SYMBOL_BYTES);
  if (symbol !== undefined) frame.symbol = untrustedText(symbol);
  return frame;
}

/**
 * Validates a raw crash report. Undefined when the worker wrote none (or not of a fatal signal
 * the handler covers) or when its framing is inconsistent: bad magic, unknown signal, frame
 * count above 16, a malformed frame. A module name that is not a plain file name is dropped
 * ('<other>'); a symbol is shown as sent, its control characters escaped.
 */
export function parseCrashReport(raw: unknown): CrashReport | undefined {
  if (!isObject(raw) || raw.kind !== CRASH_MAGIC) return undefined;
  const signal = typeof raw.signo === 'number' ? SIGNALS.get(raw.signo) : undefined;
  if (signal === undefined) return undefined;
  const { code, address, frameCount, frames } = raw;
  if (typeof code !== 'number' || !Number.isInteger(code) || code < -(2 ** 31) || code >= 2 ** 31) return undefined;
  if (!isU64(address)) return undefined;
  if (typeof frameCount !== 'number' || !Number.isInteger(frameCount) || frameCount < 1 || frameCount > MAX_FRAMES) {
    return undefined;
  }
  if (!Array.isArray(frames) || frames.length < frameCount) return undefined;
  const out: CrashFrame[] = [];
  for (let i = 0; i < frameCount; i++) {
    const frame = parseFrame(frames[i]);
    if (frame === undefined) return undefined;
    out.push(frame);
  }
  return { signal, code, address: `0x${address.toString(16)}`, frames: out };
}
