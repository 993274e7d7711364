// runtime.ts: the process-wide link to the zygote helper. It starts the zygote on first use,
// turns control messages into promises (loads, spawns) and callbacks (process exits), and, if the
// zygote dies, fails what was pending and starts a fresh one on next use.
import * as os from 'node:os';

import { BulkheadError, ErrorCode } from './errors';
import { native, Wire, type ZygoteHandle } from './native';
import { decodeSyscall } from './syscall_args';
import { untrustedText } from './untrusted_text';
import { diedAtStart } from './worker';

export interface LoadedTemplate {
  templatePid: number;
  name: string;
  version: string;
  functions: string[];
}

/** A forbidden syscall as the monitor saw it (the kernel's own record, not the plugin's). */
export interface Violation {
  nr: number;
  arch: number;
  /** The six arguments and the instruction pointer, as hex strings (64-bit values). */
  args: string[];
  ip: string;
}

/** What a load failure looked like from the zygote's side. */
export interface LoadFailure {
  kind: 'error' | 'violation' | 'exit' | 'protocol';
  errorKind?: number;
  message?: string;
  violation?: Violation;
  status?: number;
}

interface PendingLoad {
  resolve(t: LoadedTemplate): void;
  reject(f: LoadFailure | BulkheadError): void;
  violation?: Violation;
  error?: { kind: number; message: string };
  protocol?: string;
}

interface PendingSpawn {
  resolve(worker: { pidfd: number; pid: number }): void;
  reject(e: BulkheadError): void;
}

/** Why the monitor killed a process, when it did. */
export interface ExitCause {
  /** The forbidden syscall it made. */
  violation?: Violation;
  /** A template: how it broke the control protocol. */
  protocol?: string;
  /** A worker: processes its memory cgroup's OOM killer killed. */
  oomKills?: number;
}

/** status: the raw wait status, or null when the zygote died and the status is unknown. */
export type ExitListener = (status: number | null, cause: ExitCause) => void;

const NAME = /^[A-Za-z0-9_.-]{1,63}$/;
// Reports about processes nobody watches yet (violations, early exits): bounded, oldest dropped first.
const MAX_UNCLAIMED = 256;

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  if (map.size >= MAX_UNCLAIMED) map.delete(map.keys().next().value!);
  map.set(key, value);
}

/** The error for a forbidden syscall the monitor saw (and killed the process for). */
export function violationError(v: Violation, pid: number, fn: string | undefined, during: string): BulkheadError {
  const { binding } = native();
  const arch = binding.archName(v.arch >>> 0);
  const syscall = binding.syscallName(v.arch >>> 0, v.nr);
  const { call, hint } = decodeSyscall(syscall, v.args);
  return new BulkheadError(ErrorCode.SANDBOX_VIOLATION,
    `Sandbox violation ${during}: syscall ${syscall} (${v.nr}, ${arch}) is not allowed: ${call}${hint ? `; ${hint}` : ''}` +
    `${pid ? `; process ${pid} was killed` : ''}`,
    { pid: pid || undefined, fn, syscall, syscallNumber: v.nr, arch, args: v.args, ip: v.ip, call, hint: hint || undefined });
}

function hex64(b: Buffer, at: number): string {
  return `0x${b.readBigUInt64LE(at).toString(16)}`;
}

/** The zygote is trusted; its payload is still checked for shape. */
function parseViolation(nr: number, arch: number, payload: Buffer): Violation {
  const ok = payload.length === 56;
  return {
    nr: nr | 0,
    arch,
    args: ok ? Array.from({ length: 6 }, (_, i) => hex64(payload, 8 * i)) : [],
    ip: ok ? hex64(payload, 48) : '0x0',
  };
}

function parseLoaded(pid: number, payload: Buffer): LoadedTemplate | undefined {
  const parts = payload.toString('utf8').split('\0');
  if (parts.pop() !== '' || parts.length < 2 || parts.length > 258) return undefined;
  const [name, version, ...functions] = parts;
  if (!NAME.test(name) || version.length === 0 || version.length > 63) return undefined;
  if (!functions.every((f) => NAME.test(f)) || new Set(functions).size !== functions.length) return undefined;
  return { templatePid: pid, name, version: untrustedText(version), functions };
}

class Runtime {
  private zygote: ZygoteHandle | undefined;
  private ready: Promise<void> | undefined;
  private readyResolve: (() => void) | undefined;
  private readyReject: ((e: BulkheadError) => void) | undefined;
  private readonly loads = new Map<number, PendingLoad>();
  private readonly spawns = new Map<string, PendingSpawn>();
  private readonly exits = new Map<number, ExitListener>();
  private readonly templateExits = new Map<number, ExitListener>();
  /** The monitor's violation reports, by pid, until that process's exit report (which always
   *  follows) hands them on or drops them: a later process with the same pid never sees one. */
  private readonly violations = new Map<number, Violation>();
  /** Why a loaded template was killed for breaking the protocol, by plugin id. */
  private readonly protocolErrors = new Map<number, string>();
  /** Exit reports of workers nobody watched yet (one that died right after it was spawned, before
   *  its pool attached it); cleared when a new worker gets the same pid. Bounded. */
  private readonly earlyExits = new Map<number, { status: number; cause: ExitCause }>();
  private nextPluginId = 1;
  private namespaced = false;
  private pending = 0;
  private exitHooked = false;

  allocatePluginId(): number {
    return this.nextPluginId++;
  }

  private start(): Promise<void> {
    if (this.ready) return this.ready;
    const { binding, helper } = native();
    const ready = new Promise<void>((resolve, reject) => {
      this.readyResolve = resolve;
      this.readyReject = reject;
    });
    try {
      this.zygote = new binding.ZygoteHandle(helper, process.env.BULKHEAD_DEBUG_ZYGOTE === '1',
        (type, id, a, b, c, payload, fds, fdsLost) => this.onMessage(type, id, a, b, c, payload, fds, fdsLost));
    } catch (e) {
      this.readyResolve = this.readyReject = undefined;
      return Promise.reject(new BulkheadError(ErrorCode.ZYGOTE, `Cannot start the zygote helper ${helper}: ${(e as Error).message}`, { cause: e }));
    }
    this.ready = ready;
    this.hold(1);
    if (!this.exitHooked) {
      // EOF on its socket makes the zygote kill every plugin process; do it while JS still runs.
      process.once('exit', () => this.zygote?.close());
      this.exitHooked = true;
    }
    return this.ready;
  }

  /** Keeps the event loop alive only while the zygote owes us an answer (a load, a spawn, the
   *  exit report of a worker we killed). */
  hold(delta: number): void {
    this.pending = Math.max(0, this.pending + delta);
    this.zygote?.ref(this.pending > 0);
  }

  /** Whether plugin processes live in a pid namespace of the zygote's (known once it started). */
  pluginPidNamespace(): boolean {
    return this.namespaced;
  }

  zygotePid(): number | undefined {
    return this.zygote?.pid();
  }

  /** `deadlineMs`: the monitor kills everything of the plugin if loading takes longer. */
  async load(pluginId: number, memfd: number, spec: Buffer, deadlineMs: number): Promise<LoadedTemplate> {
    await this.start();
    return new Promise<LoadedTemplate>((resolve, reject) => {
      this.loads.set(pluginId, { resolve, reject });
      this.hold(1);
      const rc = this.zygote!.send(Wire.LOAD, pluginId, 0, deadlineMs, spec, [memfd]);
      if (rc !== 0) this.failLoad(pluginId, new BulkheadError(ErrorCode.ZYGOTE, `Cannot send load request (errno ${rc})`));
    });
  }

  /** `deadlineMs`: a template that has not answered by then is killed as broken (0: the
   *  monitor's default, 10 s). */
  async spawn(pluginId: number, workerId: number, fds: [number, number], deadlineMs = 0): Promise<{ pidfd: number; pid: number }> {
    await this.start();
    return new Promise<{ pidfd: number; pid: number }>((resolve, reject) => {
      const key = `${pluginId}:${workerId}`;
      this.spawns.set(key, { resolve, reject });
      this.hold(1);
      const rc = this.zygote!.send(Wire.SPAWN, pluginId, workerId, deadlineMs, new Uint8Array(0), fds);
      if (rc !== 0) this.failSpawn(key, new BulkheadError(ErrorCode.ZYGOTE, `Cannot send spawn request (errno ${rc})`));
    });
  }

  unload(pluginId: number): void {
    this.templateExits.delete(pluginId);
    this.zygote?.send(Wire.UNLOAD, pluginId, 0, 0, new Uint8Array(0), []);
    this.failSpawnsOf(pluginId, new BulkheadError(ErrorCode.CLOSED, 'The plugin was unloaded while a worker was starting'));
  }

  /** A template that is gone will never answer its spawn requests. */
  private failSpawnsOf(pluginId: number, e: BulkheadError): void {
    const prefix = `${pluginId}:`;
    for (const key of [...this.spawns.keys()]) if (key.startsWith(prefix)) this.failSpawn(key, e);
  }

  /** Calls `listener` once when process `pid` (a worker) is reaped, at once (on the next
   *  microtask) when its exit report came before anyone watched for it. */
  watchExit(pid: number, listener: ExitListener): void {
    const early = this.earlyExits.get(pid);
    if (early) {
      this.earlyExits.delete(pid);
      queueMicrotask(() => listener(early.status, early.cause));
      return;
    }
    this.exits.set(pid, listener);
  }

  unwatchExit(pid: number): void {
    this.exits.delete(pid);
  }

  /** The monitor's report of a forbidden syscall by `pid`, for a caller that saw the process die
   *  before its exit report arrived (the sync path); the report, when made, is queued already. */
  violationOf(pid: number): Violation | undefined {
    this.pumpNow();
    return this.violations.get(pid);
  }

  /** Handles what the zygote has already sent, now: a synchronous caller that saw a worker die
   *  needs the monitor's report on it, which was sent before the kill. */
  pumpNow(waitMs = 0): void {
    this.zygote?.pump(waitMs);
  }

  /** Calls `listener` when the template of `pluginId` dies after loading. */
  watchTemplate(pluginId: number, listener: ExitListener): void {
    this.templateExits.set(pluginId, listener);
  }

  private failLoad(id: number, f: LoadFailure | BulkheadError): void {
    const p = this.loads.get(id);
    if (!p) return;
    this.loads.delete(id);
    this.hold(-1);
    p.reject(f);
  }

  private failSpawn(key: string, e: BulkheadError): void {
    const s = this.spawns.get(key);
    if (!s) return;
    this.spawns.delete(key);
    this.hold(-1);
    s.reject(e);
  }

  private onMessage(type: number, id: number, a: number, b: number, c: number, payload: Buffer, fds: number[],
                    fdsLost = false): void {
    const { binding } = native();
    switch (type) {
      case Wire.READY:
        this.namespaced = b === 1;
        this.hold(-1);
        this.readyResolve?.();
        this.readyResolve = this.readyReject = undefined;
        break;
      case Wire.LOADED: {
        const p = this.loads.get(id);
        const t = parseLoaded(a, payload);
        if (!p) break;
        if (!t) {
          this.failLoad(id, { kind: 'error', errorKind: 3, message: 'malformed plugin description' });
          this.unload(id);
          break;
        }
        this.loads.delete(id);
        this.hold(-1);
        p.resolve(t);
        break;
      }
      case Wire.LOAD_ERROR: {
        const p = this.loads.get(id);
        if (p) p.error = { kind: a, message: untrustedText(payload) };
        break;
      }
      case Wire.VIOLATION: {
        const v = parseViolation(b, c, payload);
        const p = this.loads.get(id);
        if (p) {
          p.violation = v;
        } else {
          remember(this.violations, a, v);
        }
        break;
      }
      case Wire.PROTOCOL_ERROR: {
        const p = this.loads.get(id);
        if (p) p.protocol = untrustedText(payload);
        else this.protocolErrors.set(id, untrustedText(payload));
        break;
      }
      case Wire.SPAWNED: {
        const key = `${id}:${a}`;
        const s = this.spawns.get(key);
        if (s && fdsLost) {
          // The worker runs but its pidfd found no room here: we could never watch or kill it, so
          // the monitor kills it and the start failed for want of descriptors.
          this.zygote?.send(Wire.KILL_WORKER, id, a, b, new Uint8Array(0), []);
          this.failSpawn(key, new BulkheadError(ErrorCode.RESOURCES,
            'A worker started but its process descriptor could not be received: this process is out of file descriptors'));
          break;
        }
        if (!s || fds.length !== 1) {
          fds.forEach((fd) => binding.closeFd(fd));
          break;
        }
        this.spawns.delete(key);
        this.hold(-1);
        this.earlyExits.delete(b);
        s.resolve({ pidfd: fds[0], pid: b });
        break;
      }
      case Wire.SPAWN_ERROR:
        this.failSpawn(`${id}:${a}`, this.protocolErrors.has(id)
          ? this.protocolError(id)
          : b === os.constants.errno.ECHILD ? diedAtStart(c)  // the worker was made and died at once
            : new BulkheadError(ErrorCode.ZYGOTE, `The template could not start a worker (errno ${b})`));
        break;
      case Wire.EXITED:
        this.onExit(a, b, c, payload.length === 8 ? Number(payload.readBigUInt64LE(0)) : 0);
        break;
      case Wire.GONE:
        this.onGone();
        break;
      default:
        fds.forEach((fd) => binding.closeFd(fd));
    }
  }

  private protocolError(pluginId: number, why = this.protocolErrors.get(pluginId)): BulkheadError {
    return new BulkheadError(ErrorCode.PROTOCOL,
      `The template broke the control protocol (${why}) and was killed with everything of its plugin`, { reason: 'protocol' });
  }

  private onExit(pid: number, status: number, pluginId: number, oomKills: number): void {
    const violation = this.violations.get(pid);
    this.violations.delete(pid);
    const l = this.exits.get(pid);
    if (l) {
      this.exits.delete(pid);
      l(status, { violation, oomKills });
    } else if (pluginId === 0 && pid > 0) {
      remember(this.earlyExits, pid, { status, cause: { violation, oomKills } });
    }
    if (pluginId === 0) return;
    const p = this.loads.get(pluginId);
    if (p) {  // the template died while loading: say why, most specific first
      if (p.violation) this.failLoad(pluginId, { kind: 'violation', violation: p.violation });
      else if (p.protocol) this.failLoad(pluginId, { kind: 'protocol', message: p.protocol });
      else if (p.error) this.failLoad(pluginId, { kind: 'error', errorKind: p.error.kind, message: p.error.message });
      else this.failLoad(pluginId, { kind: 'exit', status });
      return;
    }
    const protocol = this.protocolErrors.get(pluginId);
    this.protocolErrors.delete(pluginId);
    this.failSpawnsOf(pluginId, violation !== undefined
      ? violationError(violation, pid, undefined, 'in the template while a worker was starting')
      : protocol !== undefined
        ? this.protocolError(pluginId, protocol)
        : new BulkheadError(ErrorCode.ZYGOTE, 'The template exited while a worker was starting'));
    const t = this.templateExits.get(pluginId);
    if (t) {
      this.templateExits.delete(pluginId);
      t(status, { violation, protocol });
    }
  }

  private onGone(): void {
    const err = new BulkheadError(ErrorCode.ZYGOTE, 'The zygote helper exited');
    // Before it was ready: whoever awaits the start hears so now, and the next use tries afresh.
    this.readyReject?.(new BulkheadError(ErrorCode.ZYGOTE,
      'The zygote helper exited before it was ready (BULKHEAD_DEBUG_ZYGOTE=1 shows its stderr)'));
    this.readyResolve = this.readyReject = undefined;
    this.zygote = undefined;
    this.ready = undefined;
    for (const id of [...this.loads.keys()]) this.failLoad(id, err);
    for (const key of [...this.spawns.keys()]) this.failSpawn(key, err);
    this.earlyExits.clear();
    const exits = [...this.exits.values()];
    const templates = [...this.templateExits.values()];
    this.exits.clear();
    this.templateExits.clear();
    this.violations.clear();
    this.protocolErrors.clear();
    exits.forEach((l) => l(null, {}));
    templates.forEach((l) => l(null, {}));
    this.pending = 0;  // after the fails and exits above, which each release their hold
  }
}

export const runtime = new Runtime();
