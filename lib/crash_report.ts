// crash_report.ts: formats the crash report a dying worker wrote about itself, as the binding
// returns it already validated (cpp/ring/crash_report.h), into the CrashReport that crash errors
// carry.
//
// Validation happens in C++ on one copy of the region's hostile crash slot; what arrives here
// has passed it. It is still only the plugin's own, unverified account (source: 'plugin').

/** A validated crash report as ChannelHandle.crashReport() returns it. */
export interface NativeCrashReport {
  signal: string;
  code: number;
  address: bigint;
  frames: Array<{ module: string; offset: bigint; symbol?: string }>;
}

export interface CrashFrame {
  /** 'plugin' for the plugin's own code; otherwise the basename of the module ('libc.so.6'),
   *  '<other>' for a module whose name did not pass the checks, '<unknown>' for code in no module. */
  module: 'plugin' | string;
  /** '0x…': the pc relative to the module's load bias (an address addr2line understands); for an
   *  unknown module, the pc itself. */
  offset: string;
  /** The exported symbol containing the pc; absent when there is none or it looked wrong. */
  symbol?: string;
}

export interface CrashReport {
  /** Who says so: 'plugin', the dying worker's own account of itself, checked for shape but not
   *  for truth (a hostile plugin can forge any report that passes the checks). */
  source: 'plugin';
  /** 'SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGABRT' or 'SIGTRAP'. */
  signal: string;
  /** The signal's si_code (e.g. 1 = SEGV_MAPERR, -6 = SI_TKILL). */
  code: number;
  /** '0x…': the faulting address (SIGSEGV, SIGBUS) or instruction; '0x0' for a sent signal. */
  address: string;
  /** Innermost first: frame 0 is where the signal struck. */
  frames: CrashFrame[];
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;

/** The report to attach to a crash error; undefined when the worker left no valid report. */
export function formatCrashReport(r: NativeCrashReport | undefined): CrashReport | undefined {
  if (r === undefined) return undefined;
  return {
    source: 'plugin',
    signal: r.signal,
    code: r.code,
    address: hex(r.address),
    frames: r.frames.map((f) => {
      const frame: CrashFrame = { module: f.module, offset: hex(f.offset) };
      if (f.symbol !== undefined) frame.symbol = f.symbol;
      return frame;
    }),
  };
}
