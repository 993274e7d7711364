// errors.ts: the one error class bulkhead throws, and its stable codes. Messages may change;
// codes never do.
import type { CrashReport } from './crash_report';

export const ErrorCode = {
  /** An argument has the wrong type or value. */
  INVALID_ARGUMENT: 'ERR_INVALID_ARGUMENT',
  /** The plugin has no function by that name. */
  UNKNOWN_FUNCTION: 'ERR_UNKNOWN_FUNCTION',
  /** The input is larger than `limits.maxInputBytes`. */
  INPUT_TOO_LARGE: 'ERR_INPUT_TOO_LARGE',
  /** The plugin function returned a non-OK status; `status` and the plugin's message are kept. */
  PLUGIN_ERROR: 'ERR_PLUGIN_ERROR',
  /** The plugin tried to write more than `limits.maxOutputBytes`. */
  OUTPUT_LIMIT: 'ERR_OUTPUT_LIMIT',
  /** The worker ran out of its memory budget (cgroup OOM kill or address-space cap). */
  MEMORY_LIMIT: 'ERR_MEMORY_LIMIT',
  /** The call used more CPU time than `limits.cpuTimeMs`. */
  CPU_LIMIT: 'ERR_CPU_LIMIT',
  /** The worker wrote a file larger than `limits.maxFileSizeBytes` (SIGXFSZ). */
  FILE_SIZE_LIMIT: 'ERR_FILE_SIZE_LIMIT',
  /** The worker wrote more than `limits.maxBytesWritten`. */
  WRITE_LIMIT: 'ERR_WRITE_LIMIT',
  /** The call was queued on a worker that died before running it, and was not marked idempotent. */
  WORKER_LOST: 'ERR_WORKER_LOST',
  /** The plugin version crashed too often and is quarantined until unquarantine() or upgrade(). */
  QUARANTINED: 'ERR_QUARANTINED',
  /** The operation is not allowed in the plugin's current lifecycle state. */
  INVALID_STATE: 'ERR_INVALID_STATE',
  /** upgrade() failed; the previous version keeps serving. */
  UPGRADE_FAILED: 'ERR_UPGRADE_FAILED',
  /** The call passed its deadline; the worker running it was killed and replaced. */
  TIMEOUT: 'ERR_TIMEOUT',
  /** The caller's AbortSignal fired. */
  ABORTED: 'ERR_ABORTED',
  /** The worker died by a signal (`signal`). */
  WORKER_CRASHED: 'ERR_WORKER_CRASHED',
  /** The worker exited by itself (`exitCode`). */
  WORKER_EXITED: 'ERR_WORKER_EXITED',
  /** The plugin made a syscall the sandbox forbids (`syscall`, `syscallNumber`, `arch`). */
  SANDBOX_VIOLATION: 'ERR_SANDBOX_VIOLATION',
  /** The worker corrupted the shared-memory protocol; it was killed. */
  PROTOCOL: 'ERR_PROTOCOL',
  /** The plugin file's digest does not match the pinned one; nothing of it ran. */
  VERIFICATION_FAILED: 'ERR_VERIFICATION_FAILED',
  /** The plugin could not be loaded (not an ELF shared object, missing entry symbol, ...). */
  LOAD_FAILED: 'ERR_LOAD_FAILED',
  /** The plugin was built for another ABI version. */
  ABI_MISMATCH: 'ERR_ABI_MISMATCH',
  /** The plugin's init() returned an error. */
  INIT_FAILED: 'ERR_INIT_FAILED',
  /** The kernel cannot give the isolation the caller requires. */
  SANDBOX_UNAVAILABLE: 'ERR_SANDBOX_UNAVAILABLE',
  /** The handle was closed. */
  CLOSED: 'ERR_CLOSED',
  /** No worker is ready for a synchronous call. */
  NOT_READY: 'ERR_NOT_READY',
  /** The host ran out of something a worker needs (descriptors, memory for its ring): the worker
   *  was not started, and is tried again shortly. */
  RESOURCES: 'ERR_RESOURCES',
  /** The zygote helper failed or died. */
  ZYGOTE: 'ERR_ZYGOTE',
  /** bulkhead does not run on this platform. */
  UNSUPPORTED_PLATFORM: 'ERR_UNSUPPORTED_PLATFORM',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Extra facts an error carries; which are set depends on the code. */
export interface ErrorDetails {
  fn?: string;
  status?: string;
  signal?: string | null;
  exitCode?: number;
  syscall?: string;
  syscallNumber?: number;
  arch?: string;
  /** A violation's six syscall arguments and instruction pointer as the kernel saw them (hex). */
  args?: string[];
  ip?: string;
  /** A violation's call decoded (flags by name where they decide), e.g. "socket(domain AF_INET, ...)". */
  call?: string;
  /** Why the boundary refuses that call, or the grant that would allow it. */
  hint?: string;
  pid?: number;
  reason?: string;
  /** Native crash report of the worker, when one could be taken (see crash_report.ts). */
  report?: CrashReport;
  cause?: unknown;
}

// The details are declared once, in ErrorDetails, and merged into the class.
export interface BulkheadError extends Omit<ErrorDetails, 'cause'> {}

export class BulkheadError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'BulkheadError';
    this.code = code;
    const { cause: _cause, ...rest } = details;
    Object.assign(this, rest);
  }
}

export function isBulkheadError(e: unknown, code?: ErrorCode): e is BulkheadError {
  return e instanceof BulkheadError && (code === undefined || e.code === code);
}
