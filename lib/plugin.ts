// plugin.ts: loadPlugin and the Plugin handle: a verified plugin version loaded into a sandboxed
// template, the pool of workers that serves it, its lifecycle, events, and upgrades.
import { EventEmitter } from 'node:events';

import { assertLevel, capabilities, cgroupSupport } from './capabilities';
import { assertEnforceable, resolveBestEffort, unenforced, type BestEffort } from './enforcement';
import { BulkheadError, ErrorCode } from './errors';
import { Lifecycle, type PluginState } from './lifecycle';
import { LogGate } from './log_gate';
import { native } from './native';
import { encodeSandboxSpec, resolveLimits, resolvePolicy, type Limits, type PolicyOption, type RequireLevel } from './policy';
import { cgroupLimitsFor, Pool, resolvePool, type PoolHooks, type PoolOptions } from './pool';
import { resolveRestart, type RestartOptions } from './restart_policy';
import { runtime, violationError, type LoadFailure } from './runtime';
import { callChannel } from './telemetry';
import { readVerified, type TrustOption } from './trust';
import { checkBytes, checkFixedBytes, checkInt, checkKnownKeys, checkObject, checkSignal, checkString, invalid } from './validate';
import { classifyExit, monotonicNs, type Call, type Worker } from './worker';

export interface LoadOptions {
  /** How the plugin's bytes are checked before anything of them runs. Required. */
  trust: TrustOption;
  policy?: PolicyOption;
  limits?: Limits;
  pool?: PoolOptions;
  restart?: RestartOptions;
  /** Bytes passed to the plugin's init(). */
  config?: Uint8Array;
  /** Fail closed unless the kernel gives this much isolation. Default 'strict'. */
  requireLevel?: RequireLevel;
  /** How long the host may spin waiting for a fast reply before yielding to the event loop, µs.
   *  Default 20; 0 never spins. */
  spinUs?: number;
  /** Deadline for load and init, ms. Default 10000. */
  loadTimeoutMs?: number;
  /** Limits this load accepts unenforced where this machine has no layer for them (the cgroup
   *  controller is missing). Without it such a load fails with ERR_SANDBOX_UNAVAILABLE. */
  bestEffort?: BestEffort[];
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Overrides limits.timeoutMs for this call. The deadline counts from the call, queued time included. */
  timeoutMs?: number;
  /** The call may run again on another worker if the one it was queued on dies first. */
  idempotent?: boolean;
}

export interface UpgradeOptions extends LoadOptions {
  /** A call the new version must answer (with `expect`, if given) before it takes traffic. */
  healthCheck?: { fn: string; input?: Uint8Array; expect?: Uint8Array; timeoutMs?: number };
}

export interface PluginMetrics {
  state: PluginState;
  version: string;
  calls: number;
  failures: number;
  workers: number;
  restarts: number;
  recycled: number;
  queued: number;
  inflight: number;
  /** Log lines the host dropped over limits.logLinesPerCall / logLinesPerSecond. */
  droppedLogLines: number;
}

/**
 * A line the plugin logged (`message` with control characters escaped, see lib/untrusted_text.ts;
 * `fn`: the call it belongs to), or bulkhead's summary of lines it dropped over the log limits:
 * level 'warn' and `dropped`, the count, at most once a second. Plugin lines never carry `dropped`.
 */
export interface LogEvent { level: 'debug' | 'info' | 'warn' | 'error'; message: string; fn?: string; dropped?: number }

const STATUS_NAMES = ['BH_OK', 'BH_ERR_INVALID_INPUT', 'BH_ERR_FAILED', 'BH_ERR_OUTPUT_TOO_LARGE',
  'BH_ERR_DEADLINE', 'BH_ERR_UNSUPPORTED'];
const LOG_LEVELS: LogEvent['level'][] = ['debug', 'info', 'warn', 'error'];
const LOAD_KEYS = ['trust', 'policy', 'limits', 'pool', 'restart', 'config', 'requireLevel', 'spinUs', 'loadTimeoutMs', 'bestEffort'];

function loadError(f: LoadFailure | BulkheadError, file: string): BulkheadError {
  if (f instanceof BulkheadError) return f;
  if (f.kind === 'violation') {
    const e = violationError(f.violation!, 0, undefined, `while loading ${file}`);
    e.reason = 'load';
    return e;
  }
  if (f.kind === 'protocol') {
    return new BulkheadError(ErrorCode.PROTOCOL,
      `Loading ${file} failed: its template broke the control protocol (${f.message}); everything of it was killed`,
      { reason: 'protocol' });
  }
  if (f.kind === 'exit') {
    const e = classifyExit(f.status ?? null, undefined, 0, undefined, false, 'its template');
    return new BulkheadError(ErrorCode.LOAD_FAILED, `Loading ${file} failed: ${e.message}`,
      { reason: 'crashed', signal: e.signal, exitCode: e.exitCode });
  }
  const msg = f.message ?? '';
  switch (f.errorKind) {
    case 2: return new BulkheadError(ErrorCode.LOAD_FAILED, `${file} is not a bulkhead plugin: ${msg}`, { reason: 'no-entry' });
    case 3: return new BulkheadError(ErrorCode.ABI_MISMATCH, `${file}: ${msg}`, { reason: 'abi' });
    case 4: return new BulkheadError(ErrorCode.INIT_FAILED, `${file}: init failed: ${msg}`, { reason: 'init' });
    case 5: return new BulkheadError(ErrorCode.SANDBOX_UNAVAILABLE, `Cannot sandbox ${file}: ${msg}`, { reason: 'sandbox' });
    case 6: return new BulkheadError(ErrorCode.LOAD_FAILED, `Loading ${file} took longer than its deadline; everything of it was killed`, { reason: 'timeout' });
    default: return new BulkheadError(ErrorCode.LOAD_FAILED, `Cannot load ${file}: ${msg}`, { reason: 'not-loadable' });
  }
}

interface Resolved {
  file: string;
  limits: Required<Limits>;
  pool: ReturnType<typeof resolvePool>;
  restart: Required<RestartOptions>;
  spinNs: number;
  /** Limits asked for and accepted unenforced (options.bestEffort) on this machine. */
  unenforced: readonly string[];
}

interface Version {
  pool: Pool;
  logGate: LogGate;
  name: string;
  version: string;
  functions: readonly string[];
  fnIndex: Map<string, number>;
  resolved: Resolved;
}

/** Validates options, verifies the bytes and loads a template. Leaves nothing behind on failure. */
async function loadVersion(file: unknown, options: unknown,
                           hooks: (v: () => Version, limits: Required<Limits>) => PoolHooks,
                           cancel?: AbortSignal): Promise<Version> {
  const path = checkString(file, 'file');
  const o = checkObject(options, 'options');
  checkKnownKeys(o, 'options', [...LOAD_KEYS, 'healthCheck']);
  native();
  const limits = resolveLimits(o.limits);
  const policy = resolvePolicy(o.policy);
  const pool = resolvePool(o.pool);
  const restart = resolveRestart(o.restart);
  const config = o.config === undefined ? new Uint8Array(0) : checkBytes(o.config, 'options.config');
  if (config.length > 32 * 1024) throw invalid('at most 32 KiB', 'options.config', config);
  const level = (o.requireLevel ?? 'strict') as RequireLevel;
  if (!['strict', 'landlock-any', 'seccomp-only'].includes(level)) {
    throw invalid("'strict', 'landlock-any' or 'seccomp-only'", 'options.requireLevel', o.requireLevel);
  }
  const spinUs = checkInt(o.spinUs, 'options.spinUs', 0, 1000, 20);
  const loadTimeoutMs = checkInt(o.loadTimeoutMs, 'options.loadTimeoutMs', 1, 600_000, 10_000);
  assertLevel(level);
  const bestEffort = resolveBestEffort(o.bestEffort);
  const notEnforced = assertEnforceable(unenforced(limits, policy, cgroupSupport(), capabilities()), bestEffort);

  const bytes = readVerified(path, o.trust);
  const { binding } = native();
  const memfd = binding.sealedMemfd(bytes);
  if (memfd < 0) throw new BulkheadError(ErrorCode.LOAD_FAILED, `Cannot create a sealed memfd (errno ${-memfd})`);
  const cgroupLimits = cgroupLimitsFor(limits, policy.threads, pool.max);
  const spec = encodeSandboxSpec(limits, policy, level, config, cgroupLimits.workerMemoryBytes > 0, cgroupLimits);
  const pluginId = runtime.allocatePluginId();
  let timer: NodeJS.Timeout | undefined;
  let onCancel: (() => void) | undefined;
  let started: Pool | undefined;
  try {
    // One deadline for the whole activation, from the request to the first workers serving. The
    // monitor enforces it too, up to the template's "loaded", so a host stalled elsewhere still
    // gets a plugin that took too long killed.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BulkheadError(ErrorCode.LOAD_FAILED,
        `Loading ${path} took longer than ${loadTimeoutMs} ms; everything of it was killed`, { reason: 'timeout' })), loadTimeoutMs);
      // The plugin closed while this version loaded (upgrade()): stop it now, not at its deadline.
      onCancel = () => reject(new BulkheadError(ErrorCode.CLOSED, `The plugin was closed while ${path} was loading; it was stopped`));
      if (cancel?.aborted) onCancel();
      else cancel?.addEventListener('abort', onCancel, { once: true });
    });
    const loaded = await Promise.race([runtime.load(pluginId, memfd, spec, loadTimeoutMs), deadline]);
    const resolved: Resolved = { file: path, limits, pool, restart, spinNs: spinUs * 1000,
      unenforced: Object.freeze(notEnforced.map((g) => g.limit)) };
    let version!: Version;
    // Writes are only possible beneath granted directories; only then is there a budget to check.
    const writeBudget = policy.writePaths.length === 0 ? 0 : limits.maxBytesWritten || 1 << 30;
    const poolHooks = hooks(() => version, limits);
    started = new Pool({ pluginId, name: loaded.name, version: loaded.version }, limits, pool, restart,
      poolHooks, { cpuTimeMs: limits.cpuTimeMs, writeBudget, threads: policy.threads });
    version = {
      pool: started, logGate: poolHooks.logGate, name: loaded.name, version: loaded.version, functions: Object.freeze([...loaded.functions]),
      fnIndex: new Map(loaded.functions.map((f, i) => [f, i])), resolved,
    };
    await Promise.race([started.start(loadTimeoutMs), deadline]);
    return version;
  } catch (e) {
    if (started) await started.destroy();
    else runtime.unload(pluginId);
    throw loadError(e as LoadFailure | BulkheadError, path);
  } finally {
    if (timer) clearTimeout(timer);
    if (onCancel) cancel?.removeEventListener('abort', onCancel);
    binding.closeFd(memfd);
  }
}

/** Verifies, sandboxes and loads a plugin, and starts its workers. */
export async function loadPlugin(file: string, options: LoadOptions): Promise<Plugin> {
  const plugin = new Plugin();
  await plugin.activate(file, options);
  return plugin;
}

export class Plugin extends EventEmitter {
  private current: Version | undefined;
  private readonly life: Lifecycle;
  private nextCallId = 1;
  private spinCooldown = 0;
  private readonly stats = { calls: 0, failures: 0, droppedLogLines: 0 };
  /** upgrade(): versions still loading, and the loaded one under its health check. */
  private readonly upgrades = new Set<Promise<Version>>();
  private candidate: Version | undefined;
  /** Aborted by close() and destroy(): a version still loading for upgrade() stops at once. */
  private readonly closing = new AbortController();
  /** Pools of versions an upgrade replaced, finishing their running calls, with their close. */
  private readonly draining = new Map<Pool, Promise<void>>();

  /** Use loadPlugin(). */
  constructor() {
    super();
    this.life = new Lifecycle((from, to) => this.emitNow('state', { from, to }));
  }

  get state(): PluginState { return this.life.state; }
  get file(): string { return this.v.resolved.file; }
  get name(): string { return this.v.name; }
  get version(): string { return this.v.version; }
  get functions(): readonly string[] { return this.v.functions; }
  /** Limits this version asked for that run unenforced here because the load accepted them as
   *  best effort (empty when everything asked for is enforced). */
  get unenforced(): readonly string[] { return this.v.resolved.unenforced; }

  /** Events reach application listeners only after bulkhead's bookkeeping for what caused them is
   *  done (the next tick, before any promise continuation): a listener that throws surfaces as an
   *  uncaught exception with its own stack, as from any EventEmitter, and a listener that calls
   *  back into the plugin (callSync included) never runs inside a drain or a pool change. */
  private emitLater(event: string, payload: unknown): void {
    process.nextTick(() => this.emit(event, payload));
  }

  /** 'state' changes happen inside the caller's own pause(), resume() or close(), so they are
   *  emitted there, in order; a listener's exception still surfaces as an uncaught exception
   *  rather than out of bulkhead's transition. */
  private emitNow(event: string, payload: unknown): void {
    try {
      this.emit(event, payload);
    } catch (e) {
      process.nextTick(() => { throw e; });
    }
  }

  /** Read where an await may have let close() or destroy() run (TypeScript narrows state otherwise). */
  private get closed(): boolean {
    return this.life.state === 'terminated';
  }

  private get v(): Version {
    if (!this.current) throw new BulkheadError(ErrorCode.INVALID_STATE, 'The plugin is not loaded');
    return this.current;
  }

  private hooksFor(version: () => Version, limits: Required<Limits>): PoolHooks {
    const { logLinesPerCall: perCall, logLinesPerSecond: perSecond } = limits;
    return {
      onLog: (level, message, fn) => this.emitLater('log', { level: LOG_LEVELS[level] ?? 'error', message, fn } satisfies LogEvent),
      logGate: new LogGate(perCall, perSecond, {
        counted: (n) => { this.stats.droppedLogLines += n; },
        report: (n) => this.emitLater('log', {
          level: 'warn', dropped: n,
          message: `bulkhead dropped ${n} log line${n === 1 ? '' : 's'} of ${version().name} over its limits (${perCall} per call, ${perSecond} per second)`,
        } satisfies LogEvent),
      }),
      onCrash: (e) => {
        if (this.current !== version()) return;
        if (e.code === ErrorCode.SANDBOX_VIOLATION) this.emitLater('violation', e);
        else this.emitLater('crash', e);
      },
      onRestart: (info) => { if (this.current === version()) this.emitLater('restart', info); },
      onQuarantine: (e) => { if (this.current === version()) this.emitLater('quarantine', e); },
      statusName: (code) => STATUS_NAMES[code] ?? `status ${code}`,
      onSpawn: (w: Worker) => this.emitLater('worker', { pid: w.pid }),
    };
  }

  /** First load: loaded → initialized → running. */
  async activate(file: string, options: LoadOptions): Promise<void> {
    try {
      this.current = await loadVersion(file, options, (v, limits) => this.hooksFor(v, limits));
    } catch (e) {
      this.life.to('terminated', 'load');
      throw e;
    }
    this.life.to('initialized', 'initialize');
    this.life.to('running', 'start');
  }

  private makeCall(fn: unknown, input: unknown, options: unknown, sync: boolean) {
    if (this.life.state === 'terminated') throw new BulkheadError(ErrorCode.CLOSED, `Plugin ${this.current?.name ?? ''} is closed`);
    const v = this.v;
    const refusal = v.pool.refusal();
    if (refusal) throw refusal;
    const name = checkString(fn, 'fn');
    // Every option is read once, before the input is looked at: a getter cannot change the input
    // after its checks (its length, above all) have passed.
    const o = checkObject(options, 'options');
    checkKnownKeys(o, 'options', sync ? ['timeoutMs'] : ['signal', 'timeoutMs', 'idempotent']);
    const timeoutMs = checkInt(o.timeoutMs, 'options.timeoutMs', 1, 2 ** 31 - 1, v.resolved.limits.timeoutMs);
    const signal = checkSignal(o.signal, 'options.signal');
    const idempotent = o.idempotent;
    if (idempotent !== undefined && typeof idempotent !== 'boolean') throw invalid('a boolean', 'options.idempotent', idempotent);
    const bytes = checkFixedBytes(input, 'input');
    const index = v.fnIndex.get(name);
    if (index === undefined) {
      throw new BulkheadError(ErrorCode.UNKNOWN_FUNCTION,
        `Plugin ${v.name} has no function ${JSON.stringify(name)} (it has: ${v.functions.join(', ')})`, { fn: name });
    }
    if (bytes.byteLength > v.resolved.limits.maxInputBytes) {
      throw new BulkheadError(ErrorCode.INPUT_TOO_LARGE,
        `Input of ${bytes.byteLength} bytes exceeds limits.maxInputBytes (${v.resolved.limits.maxInputBytes})`, { fn: name });
    }
    return { v, name, index, bytes, timeoutMs, signal, idempotent: idempotent === true };
  }

  /** A call record; settling it marks it settled before `resolve`/`reject` run. */
  private newCall(fn: number, fnName: string, input: Uint8Array, timeoutMs: number, idempotent: boolean,
                  resolve: (out: Uint8Array) => void, reject: (e: BulkheadError) => void): Call {
    const call: Call = {
      id: this.nextCallId++ >>> 0, fn, fnName, input, timeoutMs, deadlineNs: monotonicNs() + timeoutMs * 1e6, idempotent, settled: false,
      resolve: (out) => { call.settled = true; resolve(out); },
      reject: (e) => { call.settled = true; reject(e); },
    };
    return call;
  }

  /** Calls `fn` with `input` in a sandboxed worker. */
  call(fn: string, input: Uint8Array, options?: CallOptions): Promise<Uint8Array> {
    let a;
    try {
      a = this.makeCall(fn, input, options, false);
    } catch (e) {
      return Promise.reject(e);
    }
    const { v, name, index, bytes, timeoutMs, signal, idempotent } = a;
    if (signal?.aborted) {
      return Promise.reject(new BulkheadError(ErrorCode.ABORTED, `${name}() was aborted before it started`, { fn: name, cause: signal.reason }));
    }
    this.stats.calls++;
    const traced = callChannel.hasSubscribers ? performance.now() : 0;
    const trace = (code: string) => {
      callChannel.publish({ plugin: v.name, fn: name, durationUs: Math.round((performance.now() - traced) * 1000), code });
    };
    return new Promise<Uint8Array>((resolve, reject) => {
      const call = this.newCall(index, name, bytes, timeoutMs, idempotent,
        (out) => { call.cleanup?.(); if (traced) trace('ok'); resolve(out); },
        (e) => { this.stats.failures++; if (traced) trace(e.code); reject(e); });
      if (signal) {
        const onAbort = () => this.abort(call, signal);
        signal.addEventListener('abort', onAbort, { once: true });
        call.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      const w = v.pool.submit(call);
      if (w) this.maybeSpin(w, v.resolved.spinNs);
    });
  }

  /** A fast reply lands while we spin (a few µs); a slow one teaches us to stop spinning for a while. */
  private maybeSpin(w: Worker, spinNs: number): void {
    if (spinNs === 0 || w.inflight.length !== 1) return;
    if (this.spinCooldown > 0) { this.spinCooldown--; return; }
    if (w.channel.spin(spinNs)) w.pump();
    else this.spinCooldown = 64;
  }

  private abort(call: Call, signal: AbortSignal): void {
    if (call.settled) return;
    const e = new BulkheadError(ErrorCode.ABORTED, `${call.fnName}() was aborted`, { fn: call.fnName, cause: signal.reason });
    // The call is in one of the live versions' pools: an upgrade may have moved it.
    const pools = [...this.draining.keys(), ...(this.current ? [this.current.pool] : [])];
    const running = pools.map((p) => p.runningOn(call)).find((w) => w !== undefined);
    call.settled = true;
    call.cleanup?.();
    call.reject(e);
    if (running) running.abortRunning(e, call);  // native code cannot be interrupted; its worker is replaced
    for (const p of pools) p.unqueue(call);
  }

  /** Calls `fn` and blocks this thread until it returns (spins, then sleeps on a futex). */
  callSync(fn: string, input: Uint8Array, options?: { timeoutMs?: number }): Uint8Array {
    const { v, name, index, bytes, timeoutMs } = this.makeCall(fn, input, options, true);
    const w = v.pool.syncWorker();
    if (!w) {
      throw new BulkheadError(ErrorCode.NOT_READY, `No worker of ${v.name} is ready for a synchronous call (state ${this.state})`, { fn: name });
    }
    this.stats.calls++;
    let outcome: { ok: true; value: Uint8Array } | { ok: false; error: BulkheadError } | undefined;
    const call = this.newCall(index, name, bytes, timeoutMs, false,
      (value) => { outcome = { ok: true, value }; },
      (error) => { this.stats.failures++; outcome = { ok: false, error }; });
    const direct = v.pool.runSync(w, call, v.resolved.spinNs || 20_000);
    if (direct) return direct;
    if (outcome === undefined) throw new BulkheadError(ErrorCode.PROTOCOL, 'call settled without an outcome');
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /** Stops handing calls to workers (new calls queue) and resolves once in-flight calls are done. */
  async pause(): Promise<void> {
    this.life.to('paused', 'pause');
    await this.v.pool.pause();
  }

  resume(): void {
    this.life.to('running', 'resume');
    this.v.pool.resume();
  }

  /** Lifts a quarantine: counters reset, workers start again. */
  unquarantine(): void {
    if (!this.v.pool.quarantined) throw new BulkheadError(ErrorCode.INVALID_STATE, `Plugin ${this.name} is not quarantined`);
    this.v.pool.unquarantine();
  }

  get quarantined(): boolean {
    return this.current?.pool.quarantined ?? false;
  }

  /**
   * Loads `file` beside the running version, runs its init and the optional health check, and only
   * then moves traffic to it; the old version drains and stops. On any failure the old version
   * keeps serving and the error (ERR_UPGRADE_FAILED) says what failed (`cause`).
   */
  async upgrade(file: string, options: UpgradeOptions): Promise<void> {
    if (this.life.state !== 'running' && this.life.state !== 'paused') {
      throw new BulkheadError(ErrorCode.INVALID_STATE, `Cannot upgrade: the plugin is ${this.life.state}`);
    }
    const o = checkObject(options, 'options');
    const hc = o.healthCheck === undefined ? undefined : checkObject(o.healthCheck, 'options.healthCheck');
    if (hc) {
      checkKnownKeys(hc, 'options.healthCheck', ['fn', 'input', 'expect', 'timeoutMs']);
      checkString(hc.fn, 'options.healthCheck.fn');
      if (hc.input !== undefined) checkBytes(hc.input, 'options.healthCheck.input');
      if (hc.expect !== undefined) checkBytes(hc.expect, 'options.healthCheck.expect');
    }
    let next: Version;
    const loading = loadVersion(file, options, (v, limits) => this.hooksFor(v, limits), this.closing.signal);
    this.upgrades.add(loading);
    try {
      next = await loading;
    } catch (e) {
      if (this.closed) {
        throw new BulkheadError(ErrorCode.CLOSED, `The plugin was closed during upgrade(); the new version was stopped while it loaded`, { cause: e });
      }
      throw new BulkheadError(ErrorCode.UPGRADE_FAILED, `Upgrade to ${file} failed while loading: ${(e as Error).message}; ${this.name} ${this.version} keeps serving`,
        { reason: 'load', cause: e });
    } finally {
      this.upgrades.delete(loading);
    }
    const closedMeanwhile = async () => {
      await next.pool.destroy();
      return new BulkheadError(ErrorCode.CLOSED, `The plugin was closed during upgrade(); the new version ${next.version} was stopped too`);
    };
    if (this.closed) throw await closedMeanwhile();
    this.candidate = next;
    if (hc) {
      try {
        await this.healthCheck(next, hc as NonNullable<UpgradeOptions['healthCheck']>);
      } catch (e) {
        this.candidate = undefined;
        if (this.closed) throw await closedMeanwhile();
        await next.pool.destroy();
        throw new BulkheadError(ErrorCode.UPGRADE_FAILED, `Upgrade to ${file} failed its health check: ${(e as Error).message}; ${this.name} ${this.version} keeps serving`,
          { reason: 'health-check', cause: e });
      }
    }
    this.candidate = undefined;
    if (this.closed) throw await closedMeanwhile();
    const old = this.current!;
    this.current = next;
    if (this.life.state === 'paused') await next.pool.pause();
    // Calls still queued were made of the plugin, not of a version: the new one runs them.
    for (const c of old.pool.takeQueued()) this.moveCall(c, next);
    this.emitLater('upgrade', { from: old.version, to: next.version });
    const closing = old.pool.close(old.resolved.limits.timeoutMs);
    this.draining.set(old.pool, closing);
    try {
      await closing;
    } finally {
      this.draining.delete(old.pool);
    }
    old.logGate.flush();
  }

  /** A queued call of the old version, resubmitted to `to` under the same name and deadline,
   *  or failed the way a new call of that version would be. */
  private moveCall(c: Call, to: Version): void {
    const index = to.fnIndex.get(c.fnName);
    const e = index === undefined
      ? new BulkheadError(ErrorCode.UNKNOWN_FUNCTION,
        `${c.fnName}() was queued when the plugin was upgraded to ${to.version}, which has no such function`, { fn: c.fnName })
      : c.input.byteLength > to.resolved.limits.maxInputBytes
        ? new BulkheadError(ErrorCode.INPUT_TOO_LARGE,
          `Input of ${c.input.byteLength} bytes exceeds limits.maxInputBytes (${to.resolved.limits.maxInputBytes}) of ${to.version}, which the plugin was upgraded to while the call was queued`, { fn: c.fnName })
        : undefined;
    if (e) {
      c.cleanup?.();
      c.reject(e);
      return;
    }
    c.fn = index!;
    to.pool.submit(c);
  }

  private healthCheck(v: Version, hc: NonNullable<UpgradeOptions['healthCheck']>): Promise<void> {
    const index = v.fnIndex.get(hc.fn);
    if (index === undefined) return Promise.reject(new BulkheadError(ErrorCode.UNKNOWN_FUNCTION, `The new version has no function ${hc.fn}`));
    return new Promise<void>((resolve, reject) => {
      const call = this.newCall(index, hc.fn, hc.input ?? new Uint8Array(0), hc.timeoutMs ?? v.resolved.limits.timeoutMs, false,
        (out) => {
          if (hc.expect && Buffer.compare(Buffer.from(out), Buffer.from(hc.expect)) !== 0) {
            reject(new BulkheadError(ErrorCode.PLUGIN_ERROR, `${hc.fn}() answered ${out.byteLength} bytes that differ from the expected ${hc.expect.byteLength}`, { fn: hc.fn }));
          } else resolve();
        },
        reject);
      v.pool.submit(call);
    });
  }

  metrics(): PluginMetrics {
    const pool = this.current?.pool;
    return {
      state: this.state,
      version: this.current?.version ?? '',
      ...this.stats,
      workers: pool?.workers.length ?? 0,
      restarts: pool?.stats.restarts ?? 0,
      recycled: pool?.stats.recycled ?? 0,
      queued: pool?.queued ?? 0,
      inflight: pool?.inflight ?? 0,
    };
  }

  /** Process ids of the workers that serve calls now (for diagnostics and tests). */
  workerPids(): number[] {
    return this.current?.pool.workers.filter((w) => w.state === 'ready' || w.state === 'retiring').map((w) => w.pid) ?? [];
  }

  /**
   * Stops taking calls, lets in-flight calls finish for up to `graceMs` (default: the call
   * timeout), then kills the workers and the template. Queued calls reject with ERR_CLOSED.
   */
  async close(graceMs?: number): Promise<void> {
    if (this.life.state === 'terminated') return;
    const grace = checkInt(graceMs, 'graceMs', 0, 2 ** 31 - 1, this.current?.resolved.limits.timeoutMs ?? 0);
    this.life.to('terminated', 'close');
    // A version an upgrade replaced finishes within its own grace, as upgrade() promised.
    await Promise.all([this.current?.pool.close(grace), this.stopUpgrades(), ...this.draining.values()]);
    this.current?.logGate.flush();
  }

  /** close() and destroy() during upgrade() end the new version too: the one being checked now,
   *  and the one still loading (its load is cancelled; one that finished meanwhile is destroyed). */
  private async stopUpgrades(): Promise<void> {
    this.closing.abort();
    await this.candidate?.pool.destroy();
    await Promise.all([...this.upgrades].map((p) => p.then((v) => v.pool.destroy(), () => undefined)));
  }

  /** Kills everything now; in-flight and queued calls reject with ERR_CLOSED. */
  async destroy(): Promise<void> {
    if (this.life.state === 'terminated') return;
    this.life.to('terminated', 'destroy');
    await Promise.all([this.current?.pool.destroy(), this.stopUpgrades(), ...[...this.draining.keys()].map((p) => p.destroy())]);
    this.current?.logGate.flush();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
