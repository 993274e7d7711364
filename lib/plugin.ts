// plugin.ts: loadPlugin and the Plugin handle: a verified plugin, its template in the zygote, and
// a pool of sandboxed workers that calls are spread across.
import { EventEmitter } from 'node:events';

import { assertLevel } from './capabilities';
import { BulkheadError, ErrorCode } from './errors';
import { native, RingResult } from './native';
import { encodeSandboxSpec, resolveLimits, resolveReadPaths, type Limits, type PolicyOption, type RequireLevel } from './policy';
import { runtime, type LoadFailure } from './runtime';
import { readVerified, type TrustOption } from './trust';
import { checkBytes, checkInt, checkKnownKeys, checkObject, checkSignal, checkString, invalid } from './validate';
import { classifyExit, monotonicNs, Worker, type Call } from './worker';

export interface LoadOptions {
  /** How the plugin's bytes are checked before anything of them runs. Required. */
  trust: TrustOption;
  policy?: PolicyOption;
  limits?: Limits;
  pool?: { size?: number };
  /** Bytes passed to the plugin's init(). */
  config?: Uint8Array;
  /** Fail closed unless the kernel gives this much isolation. Default 'strict'. */
  requireLevel?: RequireLevel;
  /** How long the host may spin waiting for a fast reply before yielding to the event loop, µs.
   *  Default 20; 0 never spins. */
  spinUs?: number;
  /** Deadline for load and init, ms. Default 10000. */
  loadTimeoutMs?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Overrides limits.timeoutMs for this call. */
  timeoutMs?: number;
}

export interface PluginMetrics {
  calls: number;
  failures: number;
  workers: number;
  restarts: number;
  queued: number;
  inflight: number;
}

export interface LogEvent { level: 'debug' | 'info' | 'warn' | 'error'; message: string; fn?: string }

const STATUS_NAMES = ['BH_OK', 'BH_ERR_INVALID_INPUT', 'BH_ERR_FAILED', 'BH_ERR_OUTPUT_TOO_LARGE',
  'BH_ERR_DEADLINE', 'BH_ERR_UNSUPPORTED'];
const LOG_LEVELS: LogEvent['level'][] = ['debug', 'info', 'warn', 'error'];
const LOAD_KEYS = ['trust', 'policy', 'limits', 'pool', 'config', 'requireLevel', 'spinUs', 'loadTimeoutMs'];
const MAX_INFLIGHT_PER_WORKER = 1024;

function loadError(f: LoadFailure | BulkheadError, file: string): BulkheadError {
  if (f instanceof BulkheadError) return f;
  const { binding } = native();
  if (f.kind === 'violation') {
    const syscall = binding.syscallName(f.arch! >>> 0, f.syscallNumber!);
    return new BulkheadError(ErrorCode.SANDBOX_VIOLATION,
      `Loading ${file} made a forbidden syscall: ${syscall} (${f.syscallNumber}, ${binding.archName(f.arch! >>> 0)})`,
      { syscall, syscallNumber: f.syscallNumber, arch: binding.archName(f.arch! >>> 0), reason: 'load' });
  }
  if (f.kind === 'exit') {
    const e = classifyExit(f.status ?? null, [0, 0, 0], 0, undefined);
    return new BulkheadError(ErrorCode.LOAD_FAILED, `Loading ${file} failed: ${e.message}`,
      { reason: 'crashed', signal: e.signal, exitCode: e.exitCode });
  }
  const msg = f.message ?? '';
  switch (f.errorKind) {
    case 2: return new BulkheadError(ErrorCode.LOAD_FAILED, `${file} is not a bulkhead plugin: ${msg}`, { reason: 'no-entry' });
    case 3: return new BulkheadError(ErrorCode.ABI_MISMATCH, `${file}: ${msg}`, { reason: 'abi' });
    case 4: return new BulkheadError(ErrorCode.INIT_FAILED, `${file}: init failed: ${msg}`, { reason: 'init' });
    case 5: return new BulkheadError(ErrorCode.SANDBOX_UNAVAILABLE, `Cannot sandbox ${file}: ${msg}`, { reason: 'sandbox' });
    default: return new BulkheadError(ErrorCode.LOAD_FAILED, `Cannot load ${file}: ${msg}`, { reason: 'not-loadable' });
  }
}

/** Verifies, sandboxes and loads a plugin, and starts its workers. */
export async function loadPlugin(file: string, options: LoadOptions): Promise<Plugin> {
  checkString(file, 'file');
  const o = checkObject(options, 'options');
  checkKnownKeys(o, 'options', LOAD_KEYS);
  native();
  const limits = resolveLimits(o.limits);
  const readPaths = resolveReadPaths(o.policy);
  const pool = checkObject(o.pool, 'options.pool');
  checkKnownKeys(pool, 'options.pool', ['size']);
  const size = checkInt(pool.size, 'options.pool.size', 1, 64, 1);
  const config = o.config === undefined ? new Uint8Array(0) : checkBytes(o.config, 'options.config');
  if (config.length > 32 * 1024) throw invalid('at most 32 KiB', 'options.config', config);
  const level = (o.requireLevel ?? 'strict') as RequireLevel;
  if (!['strict', 'landlock-any', 'seccomp-only'].includes(level)) {
    throw invalid("'strict', 'landlock-any' or 'seccomp-only'", 'options.requireLevel', o.requireLevel);
  }
  const spinUs = checkInt(o.spinUs, 'options.spinUs', 0, 1000, 20);
  const loadTimeoutMs = checkInt(o.loadTimeoutMs, 'options.loadTimeoutMs', 1, 600_000, 10_000);
  assertLevel(level);

  const bytes = readVerified(file, o.trust);
  const { binding } = native();
  const memfd = binding.sealedMemfd(bytes);
  if (memfd < 0) throw new BulkheadError(ErrorCode.LOAD_FAILED, `Cannot create a sealed memfd (errno ${-memfd})`);
  const spec = encodeSandboxSpec(limits, readPaths, level, config);
  const pluginId = runtime.allocatePluginId();
  let timer: NodeJS.Timeout | undefined;
  try {
    const loaded = await Promise.race([
      runtime.load(pluginId, memfd, spec),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new BulkheadError(ErrorCode.LOAD_FAILED,
          `Loading ${file} took longer than ${loadTimeoutMs} ms; it was killed`, { reason: 'timeout' })), loadTimeoutMs);
      }),
    ]);
    const plugin = new Plugin(file, pluginId, loaded.name, loaded.version, loaded.functions, limits, size, spinUs);
    await plugin.start();
    return plugin;
  } catch (e) {
    runtime.unload(pluginId);
    throw loadError(e as LoadFailure | BulkheadError, file);
  } finally {
    if (timer) clearTimeout(timer);
    binding.closeFd(memfd);
  }
}

export class Plugin extends EventEmitter {
  readonly file: string;
  readonly name: string;
  readonly version: string;
  readonly functions: readonly string[];
  private readonly pluginId: number;
  private readonly fnIndex = new Map<string, number>();
  private readonly limits: Required<Limits>;
  private readonly poolSize: number;
  private readonly spinNs: number;
  private readonly workers: Worker[] = [];
  private readonly queue: Call[] = [];
  private nextWorkerId = 1;
  private nextCallId = 1;
  private closed = false;
  private templateLost: BulkheadError | undefined;
  private spinCooldown = 0;
  private readonly stats = { calls: 0, failures: 0, restarts: 0 };

  constructor(file: string, pluginId: number, name: string, version: string, functions: string[],
              limits: Required<Limits>, poolSize: number, spinUs: number) {
    super();
    this.file = file;
    this.pluginId = pluginId;
    this.name = name;
    this.version = version;
    this.functions = Object.freeze([...functions]);
    functions.forEach((f, i) => this.fnIndex.set(f, i));
    this.limits = limits;
    this.poolSize = poolSize;
    this.spinNs = spinUs * 1000;
    runtime.watchTemplate(pluginId, (status) => {
      this.templateLost = new BulkheadError(ErrorCode.ZYGOTE,
        `The plugin's template process ended (${status === null ? 'zygote died' : `status ${status}`}); reload the plugin`);
      for (const c of this.queue.splice(0)) this.fail(c, this.templateLost);
    });
  }

  /** Starts the pool and waits until every worker exists. */
  async start(): Promise<void> {
    const spawns: Promise<void>[] = [];
    for (let i = 0; i < this.poolSize; i++) spawns.push(this.addWorker());
    await Promise.all(spawns);
  }

  private addWorker(): Promise<void> {
    const w = new Worker(this.nextWorkerId++, this.limits.maxInputBytes, this.limits.maxOutputBytes, {
      onLog: (level, message, fn) => this.emit('log', { level: LOG_LEVELS[level] ?? 'error', message, fn } satisfies LogEvent),
      onDead: (worker, error, unstarted) => this.onWorkerDead(worker, error, unstarted),
      statusName: (code) => STATUS_NAMES[code] ?? `status ${code}`,
    });
    this.workers.push(w);
    return runtime.spawn(this.pluginId, w.id, w.channel.fds()).then(
      (pidfd) => { w.attach(pidfd); },
      (e: BulkheadError) => { w.kill(e); throw e; });
  }

  private onWorkerDead(w: Worker, error: BulkheadError | undefined, unstarted: Call[]): void {
    const i = this.workers.indexOf(w);
    if (i >= 0) this.workers.splice(i, 1);
    if (error) this.emit(error.code === ErrorCode.SANDBOX_VIOLATION ? 'violation' : 'crash', error);
    this.queue.unshift(...unstarted);
    if (this.closed || this.templateLost) {
      for (const c of this.queue.splice(0)) this.fail(c, this.templateLost ?? this.closedError());
      return;
    }
    this.stats.restarts++;
    this.addWorker().catch(() => { /* reported through the calls it fails */ });
    this.dispatch();
  }

  private closedError(): BulkheadError {
    return new BulkheadError(ErrorCode.CLOSED, `Plugin ${this.name} is closed`);
  }

  private fail(c: Call, e: BulkheadError): void {
    if (c.settled) return;
    c.settled = true;
    c.cleanup?.();
    c.reject(e);
  }

  private pickWorker(): Worker | undefined {
    let best: Worker | undefined;
    for (const w of this.workers) {
      if (!w.usable || w.inflight.length >= MAX_INFLIGHT_PER_WORKER) continue;
      if (!best || w.inflight.length < best.inflight.length) best = w;
    }
    return best;
  }

  /** Moves queued calls onto workers while there is room. */
  private dispatch(): void {
    while (this.queue.length > 0) {
      const c = this.queue[0];
      if (c.settled) { this.queue.shift(); continue; }
      const w = this.pickWorker();
      if (!w || !w.submit(c)) return;
      this.queue.shift();
    }
  }

  private makeCall(fn: unknown, input: unknown, options: unknown, what: string) {
    if (this.closed) throw this.closedError();
    if (this.templateLost) throw this.templateLost;
    const name = checkString(fn, 'fn');
    const bytes = checkBytes(input, 'input');
    const o = checkObject(options, 'options');
    checkKnownKeys(o, 'options', what === 'callSync' ? ['timeoutMs'] : ['signal', 'timeoutMs']);
    const index = this.fnIndex.get(name);
    if (index === undefined) {
      throw new BulkheadError(ErrorCode.UNKNOWN_FUNCTION,
        `Plugin ${this.name} has no function ${JSON.stringify(name)} (it has: ${this.functions.join(', ')})`, { fn: name });
    }
    if (bytes.byteLength > this.limits.maxInputBytes) {
      throw new BulkheadError(ErrorCode.INPUT_TOO_LARGE,
        `Input of ${bytes.byteLength} bytes exceeds limits.maxInputBytes (${this.limits.maxInputBytes})`, { fn: name });
    }
    const timeoutMs = checkInt(o.timeoutMs, 'options.timeoutMs', 1, 2 ** 31 - 1, this.limits.timeoutMs);
    const signal = checkSignal(o.signal, 'options.signal');
    return { name, index, bytes, timeoutMs, signal };
  }

  /** Calls `fn` with `input` in a sandboxed worker. */
  call(fn: string, input: Uint8Array, options?: CallOptions): Promise<Uint8Array> {
    let args;
    try {
      args = this.makeCall(fn, input, options, 'call');
    } catch (e) {
      return Promise.reject(e);
    }
    const { name, index, bytes, timeoutMs, signal } = args;
    if (signal?.aborted) {
      return Promise.reject(new BulkheadError(ErrorCode.ABORTED, `${name}() was aborted before it started`, { fn: name, cause: signal.reason }));
    }
    this.stats.calls++;
    return new Promise<Uint8Array>((resolve, reject) => {
      const call: Call = {
        id: this.nextCallId++ >>> 0,
        fn: index,
        fnName: name,
        input: bytes,
        deadlineNs: monotonicNs() + timeoutMs * 1e6,
        settled: false,
        resolve: (out) => { call.settled = true; call.cleanup?.(); resolve(out); },
        reject: (e) => { call.settled = true; this.stats.failures++; reject(e); },
      };
      if (signal) {
        const onAbort = () => this.abort(call, signal);
        signal.addEventListener('abort', onAbort, { once: true });
        call.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      const w = this.queue.length === 0 ? this.pickWorker() : undefined;
      if (w && w.submit(call)) {
        this.maybeSpin(w);
      } else {
        // It waits in our queue: keep a private copy so the caller may reuse its buffer.
        call.input = Uint8Array.prototype.slice.call(bytes);
        this.queue.push(call);
        this.dispatch();
      }
    });
  }

  /** A fast reply lands while we spin (a few µs); a slow one teaches us to stop spinning for a while. */
  private maybeSpin(w: Worker): void {
    if (this.spinNs === 0 || w.inflight.length !== 1) return;
    if (this.spinCooldown > 0) { this.spinCooldown--; return; }
    if (w.channel.spin(this.spinNs)) w.pump();
    else this.spinCooldown = 64;
  }

  private abort(call: Call, signal: AbortSignal): void {
    if (call.settled) return;
    const e = new BulkheadError(ErrorCode.ABORTED, `${call.fnName}() was aborted`, { fn: call.fnName, cause: signal.reason });
    const running = this.workers.find((w) => w.inflight[0] === call);
    this.fail(call, e);
    if (running) running.abortRunning(e);  // native code cannot be interrupted; its worker is replaced
    const q = this.queue.indexOf(call);
    if (q >= 0) this.queue.splice(q, 1);
  }

  /** Calls `fn` and blocks this thread until it returns (spins, then sleeps on a futex). */
  callSync(fn: string, input: Uint8Array, options?: { timeoutMs?: number }): Uint8Array {
    const { name, index, bytes, timeoutMs } = this.makeCall(fn, input, options, 'callSync');
    const w = this.pickWorker();
    if (!w || w.state !== 'ready') {
      throw new BulkheadError(ErrorCode.NOT_READY, `No worker of ${this.name} is ready for a synchronous call`, { fn: name });
    }
    this.stats.calls++;
    let outcome: { ok: true; value: Uint8Array } | { ok: false; error: BulkheadError } | undefined;
    const call: Call = {
      id: this.nextCallId++ >>> 0,
      fn: index,
      fnName: name,
      input: bytes,
      deadlineNs: monotonicNs() + timeoutMs * 1e6,
      settled: false,
      resolve: (value) => { call.settled = true; outcome = { ok: true, value }; },
      reject: (error) => { call.settled = true; this.stats.failures++; outcome = { ok: false, error }; },
    };
    const spinNs = this.spinNs || 20_000;
    if (w.inflight.length === 0) {
      const r = w.callDirect(call, spinNs);
      if (typeof r !== 'number') return r;
      if (r === RingResult.PROTOCOL_ERROR) {
        throw new BulkheadError(ErrorCode.PROTOCOL, `Worker ${w.pid} broke the ring protocol (${w.channel.protocolError()}); it was killed`, { fn: name, pid: w.pid });
      }
      if (r === RingResult.FULL) {
        throw new BulkheadError(ErrorCode.NOT_READY, `Worker ${w.pid} could not take the call; use call()`, { fn: name });
      }
      if (r === RingResult.OK || r === RingResult.OTHER) w.pump();
    } else if (!w.submit(call)) {
      throw new BulkheadError(ErrorCode.NOT_READY, `The worker's ring is full; retry later or use call()`, { fn: name });
    }
    while (!call.settled) {
      const r = w.channel.wait(call.deadlineNs, spinNs);
      if (r === RingResult.OK) {
        w.pump();
      } else if (r === RingResult.TIMED_OUT) {
        w.pump();
        if (call.settled) break;
        const e = new BulkheadError(ErrorCode.TIMEOUT, `${name}() did not finish within its deadline; worker ${w.pid} was killed`, { fn: name, pid: w.pid });
        this.fail(call, e);
        w.kill(e);
      } else {  // the worker died (or broke the protocol) while we waited
        w.reapNow();
        if (!call.settled) {
          this.fail(call, new BulkheadError(ErrorCode.WORKER_CRASHED, `Worker ${w.pid} died during ${name}()`, { fn: name, pid: w.pid, signal: null }));
        }
      }
    }
    if (outcome === undefined) throw new BulkheadError(ErrorCode.PROTOCOL, 'call settled without an outcome');
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  metrics(): PluginMetrics {
    return {
      ...this.stats,
      workers: this.workers.length,
      queued: this.queue.length,
      inflight: this.workers.reduce((n, w) => n + w.inflight.length, 0),
    };
  }

  /** Process ids of the workers that serve calls now (for diagnostics and tests). */
  workerPids(): number[] {
    return this.workers.filter((w) => w.state === 'ready').map((w) => w.pid);
  }

  /** Rejects queued calls, kills the workers and the template. In-flight calls reject with ERR_CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const e = this.closedError();
    for (const c of this.queue.splice(0)) this.fail(c, e);
    const deaths = this.workers.map((w) => {
      w.kill(e);
      return w.dead;
    });
    runtime.unload(this.pluginId);
    // Exit reports come from the zygote within a millisecond or so; never hang on a lost one. The
    // timer also keeps the event loop alive until they are in.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(deaths), new Promise((r) => { timer = setTimeout(r, 2000); })]);
    clearTimeout(timer);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
