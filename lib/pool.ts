// pool.ts: the workers of one loaded plugin version: spreading calls over them, growing and
// shrinking between min and max, recycling, replacing the dead by the restart policy, pausing,
// draining, and quarantine.
import { cgroupSupport } from './capabilities';
import { BulkheadError, ErrorCode } from './errors';
import type { LogGate } from './log_gate';
import { RingResult } from './native';
import type { CgroupLimits, Limits } from './policy';
import { RestartPolicy, type RestartOptions } from './restart_policy';
import { runtime, violationError } from './runtime';
import { quarantineChannel, workerExitChannel, workerSpawnChannel } from './telemetry';
import { checkInt, checkKnownKeys, checkObject, invalid } from './validate';
import { monotonicNs, UNREADABLE, Worker, type Call, type WorkerBudgets } from './worker';

export interface PoolOptions {
  /** Workers kept warm. Default 1. */
  min?: number;
  /** Workers at most; more start when every worker is busy. Default max(min, 1)... = min. */
  max?: number;
  /** A worker above `min` idle this long is stopped, ms. Default 30000. */
  idleMs?: number;
  /** A worker is replaced after serving this many calls (0 = never). Default 0. */
  maxCallsPerWorker?: number;
  /** Shorthand for min = max = size. */
  size?: number;
}

export function resolvePool(v: unknown): Required<Omit<PoolOptions, 'size'>> {
  const o = checkObject(v, 'options.pool');
  checkKnownKeys(o, 'options.pool', ['min', 'max', 'idleMs', 'maxCallsPerWorker', 'size']);
  if (o.size !== undefined && (o.min !== undefined || o.max !== undefined)) {
    throw invalid('either size or min/max', 'options.pool', o);
  }
  const size = checkInt(o.size, 'options.pool.size', 1, 64, 1);
  const min = checkInt(o.min, 'options.pool.min', 0, 64, o.size === undefined ? 1 : size);
  const max = checkInt(o.max, 'options.pool.max', Math.max(1, min), 64, o.size === undefined ? Math.max(1, min) : size);
  return {
    min,
    max,
    idleMs: checkInt(o.idleMs, 'options.pool.idleMs', 1, 2 ** 31 - 1, 30_000),
    maxCallsPerWorker: checkInt(o.maxCallsPerWorker, 'options.pool.maxCallsPerWorker', 0, Number.MAX_SAFE_INTEGER, 0),
  };
}

export interface PoolHooks {
  onLog(level: number, message: string, fn: string | undefined): void;
  logGate: LogGate;
  onCrash(e: BulkheadError): void;
  onRestart(info: { delayMs: number; recent: number }): void;
  onQuarantine(e: BulkheadError): void;
  statusName(code: number): string;
  /** A new worker is ready (in its cgroup, if any) and about to take calls. */
  onSpawn(worker: Worker): void;
}

export interface PoolTemplate {
  pluginId: number;
  name: string;
  version: string;
}

const MAX_INFLIGHT_PER_WORKER = 1024;
// A worker the host could not set up (descriptors or memory short) is tried again after this.
const SHORTAGE_RETRY_MS = 100;

/** The cgroup limits the monitor applies for a plugin with these limits and pool: each worker
 *  gets the plugin's memory budget and CPU quota, and its own thread plus the threads its policy
 *  grants (thread bombs stop there); the plugin as a whole (template, workers, and a replacement
 *  on its way while a dead worker's memory is not yet freed) gets room for the pool's most plus
 *  two. Only what this machine's cgroups can enforce is asked. */
export function cgroupLimitsFor(limits: Required<Limits>, threads: number, poolMax: number): CgroupLimits {
  const support = cgroupSupport();
  const memory = support.memory ? limits.memoryMiB * 1024 * 1024 : 0;
  const pids = support.pids ? 1 + threads : 0;
  return {
    pluginMemoryBytes: memory * (poolMax + 2),
    pluginPids: pids * (poolMax + 2),
    workerMemoryBytes: memory,
    workerCpuQuotaPercent: support.cpu ? limits.cpuQuotaPercent : 0,
    workerPids: pids,
  };
}

export class Pool {
  readonly workers: Worker[] = [];
  private readonly queue: Call[] = [];
  private queueTimer: NodeJS.Timeout | undefined;
  private queueTimerAt = Infinity;
  private nextWorkerId = 1;
  private mode: 'running' | 'paused' | 'draining' | 'closed' | 'quarantined' = 'running';
  private quarantineError: BulkheadError | undefined;
  private templateLost: BulkheadError | undefined;
  private readonly restart: RestartPolicy;
  private readonly idleTimer: NodeJS.Timeout;
  private pendingSpawns = 0;
  private backoffUntil = 0;
  private backoffTimer: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];
  readonly stats = { restarts: 0, recycled: 0, spawned: 0 };

  constructor(readonly template: PoolTemplate, private readonly limits: Required<Limits>,
              readonly options: Required<Omit<PoolOptions, 'size'>>, restart: Required<RestartOptions>,
              private readonly hooks: PoolHooks, private readonly budgets: WorkerBudgets = { cpuTimeMs: 0, writeBudget: 0, threads: 0 }) {
    this.restart = new RestartPolicy(restart);
    this.idleTimer = setInterval(() => this.shrinkIdle(), Math.min(1000, Math.max(10, options.idleMs / 4)));
    this.idleTimer.unref();
    runtime.watchTemplate(template.pluginId, (status, { violation, protocol }) => {
      this.templateLost = violation !== undefined
        ? violationError(violation, 0, undefined, `in the template of ${template.name} (it was killed with its workers; load the plugin again)`)
        : protocol !== undefined
        ? new BulkheadError(ErrorCode.PROTOCOL,
          `The template process of ${template.name} broke the control protocol (${protocol}) and was killed with its workers; load the plugin again`)
        : new BulkheadError(ErrorCode.ZYGOTE,
          `The template process of ${template.name} ended (${status === null ? 'the zygote died' : `wait status ${status}`}); load the plugin again`);
      this.failQueue(this.templateLost);
    });
  }

  /** Starts `min` workers (at least one) and waits until each serves: a process that exists but
   *  never answers its ring (a hostile template's stand-in) must not make a load succeed. */
  async start(timeoutMs: number): Promise<void> {
    const n = Math.max(1, this.options.min);
    await Promise.all(Array.from({ length: n }, () => this.spawn()));
    await Promise.all(this.workers.filter((w) => w.usable).map((w) => this.probe(w, timeoutMs)));
  }

  /** One request the worker's own loop answers without running plugin code: a function index past
   *  the table is BH_RESP_UNKNOWN_FUNCTION. Any other outcome is the worker's failure to serve. */
  private probe(w: Worker, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const answered = (e?: BulkheadError) => {
        call.settled = true;
        if (e === undefined || e.code === ErrorCode.UNKNOWN_FUNCTION) resolve();
        else reject(e);
      };
      const call: Call = {
        id: 0, fn: 0xffffffff, fnName: '(serving probe)', input: new Uint8Array(0), timeoutMs, deadlineNs: 0,
        idempotent: false, settled: false, resolve: () => answered(), reject: answered,
      };
      if (!w.submit(call)) reject(new BulkheadError(ErrorCode.LOAD_FAILED, `Worker ${w.pid} could not take its first request`));
    });
  }

  /** Calls handed to a worker and not settled yet (an aborted or expired call a worker still
   *  runs is no longer anyone's). */
  get inflight(): number {
    return this.workers.reduce((n, w) => n + w.inflight.filter((c) => !c.settled).length, 0);
  }

  get queued(): number {
    return this.queue.length;
  }

  get quarantined(): boolean {
    return this.mode === 'quarantined';
  }

  /** Why a new call cannot be taken now, if it cannot. */
  refusal(): BulkheadError | undefined {
    if (this.templateLost) return this.templateLost;
    if (this.mode === 'quarantined') return this.quarantineError;
    if (this.mode === 'closed' || this.mode === 'draining') {
      return new BulkheadError(ErrorCode.CLOSED, `Plugin ${this.template.name} is closed`);
    }
    return undefined;
  }

  private spawn(): Promise<void> {
    let w: Worker;
    try {
      w = this.newWorker();
    } catch (e) {
      return Promise.reject(this.shortage(new BulkheadError(ErrorCode.RESOURCES,
        `Cannot start a worker of ${this.template.name}: ${(e as Error).message}`, { cause: e }), undefined));
    }
    return this.start1(w);
  }

  /** A worker the host could not set up (`w` undefined: it never existed) or take (its ring, its
   *  eventfd or its pidfd: descriptors or memory ran out): a failed start, retried after
   *  SHORTAGE_RETRY_MS. While no worker exists to serve them, waiting calls get the typed error at
   *  once instead of their deadline. */
  private shortage(e: BulkheadError, w: Worker | undefined): BulkheadError {
    // Not the plugin's fault, so no crash is counted; the retry waits, so a shortage never spins
    // (set before the kill, whose replacement would otherwise start at once).
    this.backoffUntil = Math.max(this.backoffUntil, performance.now() + SHORTAGE_RETRY_MS);
    if (w) {
      w.planned = true;
      w.kill(e);
    }
    if (this.workers.length === 0) this.failQueue(e);
    queueMicrotask(() => this.ensureMin());
    return e;
  }

  private newWorker(): Worker {
    return new Worker(this.nextWorkerId++, this.limits.maxInputBytes, this.limits.maxOutputBytes, {
      onLog: this.hooks.onLog,
      logGate: this.hooks.logGate,
      onDead: (worker, error, unstarted) => this.onDead(worker, error, unstarted),
      statusName: this.hooks.statusName,
      onIdle: (worker) => {
        if (worker.state === 'retiring') this.recycle(worker);
        else if (this.mode === 'paused') worker.stop();
        this.notifyIdle();
        this.dispatch();
      },
    }, this.budgets);
  }

  private start1(w: Worker): Promise<void> {
    this.workers.push(w);
    this.pendingSpawns++;
    this.stats.spawned++;
    const t0 = performance.now();
    return runtime.spawn(this.template.pluginId, w.id, w.channel.fds()).then(
      ({ pidfd, pid }) => {
        this.pendingSpawns--;
        w.attach(pidfd, pid);
        if (w.state !== 'ready') return;
        if (this.budgets.writeBudget > 0 && w.bytesWritten() === UNREADABLE) {
          // Fail closed: a budget the host cannot read is not held (checked on every worker). A
          // worker dying as it starts hides its count too: then its death is the failure.
          const e = new BulkheadError(ErrorCode.SANDBOX_UNAVAILABLE,
            `limits.maxBytesWritten cannot be enforced: this process may not read worker ${pid}'s /proc/${pid}/io ` +
            '(the worker is not dumpable and this process lacks CAP_SYS_PTRACE)', { reason: 'unenforceable' });
          w.killUnread(e);
          return w.dead.then(() => { throw w.deathError ?? e; });
        }
        this.hooks.onSpawn(w);
        if (workerSpawnChannel.hasSubscribers) {
          workerSpawnChannel.publish({ plugin: this.template.name, version: this.template.version, pid: w.pid,
            durationUs: Math.round((performance.now() - t0) * 1000) });
        }
        if (this.mode === 'closed' || this.mode === 'quarantined') w.kill(this.refusal()!);
        else this.dispatch();
      },
      (e: BulkheadError) => {
        this.pendingSpawns--;
        if (e.code === ErrorCode.RESOURCES) throw this.shortage(e, w);
        w.kill(e);
        throw e;
      });
  }

  /** Fails every queued call with `e`; the queue's deadline timer goes with them. */
  private failQueue(e: BulkheadError): void {
    for (const c of this.queue.splice(0)) this.fail(c, e);
    this.armQueueTimer();
  }

  private fail(c: Call, e: BulkheadError): void {
    if (c.settled) return;
    c.settled = true;
    c.cleanup?.();
    c.reject(e);
  }

  private onDead(w: Worker, error: BulkheadError | undefined, unstarted: Call[]): void {
    if (workerExitChannel.hasSubscribers) {
      workerExitChannel.publish({ plugin: this.template.name, version: this.template.version, pid: w.pid,
        code: w.planned || !error ? 'planned' : error.code });
    }
    const i = this.workers.indexOf(w);
    if (i >= 0) this.workers.splice(i, 1);
    // Calls that were handed to the dead worker but never started: retried only when the caller
    // said that is safe (the worker saw their bytes, whatever it did with them).
    // Closing: what had not finished gets the close's own error (ERR_CLOSED), as queued calls do.
    const retry: Call[] = [];
    for (const c of unstarted) {
      if (this.mode === 'closed') this.fail(c, this.refusal()!);
      else if (c.idempotent) retry.push(c);
      else this.fail(c, new BulkheadError(ErrorCode.WORKER_LOST,
        `${c.fnName}() was handed to worker ${w.pid}, which died before finishing it for a reason of ` +
        'another call or its own; pass idempotent: true to retry such calls', { fn: c.fnName, pid: w.pid, cause: error }));
    }
    this.queue.unshift(...retry);
    this.armQueueTimer();
    this.notifyIdle();
    if (this.mode === 'closed' || this.templateLost) {
      const e = this.refusal()!;
      this.failQueue(e);
      return;
    }
    // Recycled, shrunk or aborted on purpose, or killed for overrunning a deadline the caller set:
    // replaced at once and not counted as a crash.
    if (w.planned || error === undefined || error.code === ErrorCode.TIMEOUT) {
      if (error?.code === ErrorCode.TIMEOUT) this.stats.restarts++;
      this.ensureMin(error?.code === ErrorCode.TIMEOUT);
      this.dispatch();
      return;
    }
    if (error) this.hooks.onCrash(error);
    const verdict = this.restart.onDeath(performance.now());
    if (verdict === 'quarantine') {
      this.quarantine(new BulkheadError(ErrorCode.QUARANTINED,
        `Plugin ${this.template.name} ${this.template.version} is quarantined: ${this.restart.recent(performance.now())} worker deaths ` +
        'within the restart window; call unquarantine() or upgrade()', { cause: error }));
      return;
    }
    this.stats.restarts++;
    this.hooks.onRestart({ delayMs: verdict, recent: this.restart.recent(performance.now()) });
    this.backoffUntil = performance.now() + verdict;
    if (this.mode === 'running' || this.mode === 'paused') this.ensureMin(true);
    this.dispatch();
  }

  /** Keeps at least `min` workers (and one whenever calls wait), but not before a backoff ends. */
  private ensureMin(force = false): void {
    const wait = this.backoffUntil - performance.now();
    if (wait > 0) {
      this.backoffTimer ??= setTimeout(() => {
        this.backoffTimer = undefined;
        this.ensureMin(force);
        this.dispatch();
      }, wait);
      return;
    }
    const want = Math.max(this.options.min, this.queue.length > 0 || force ? 1 : 0);
    // A start that fails at once (a shortage) backs off: no retry in this loop, which would spin.
    while (this.workers.length < want && performance.now() >= this.backoffUntil) {
      this.spawn().catch(() => { /* reported through calls */ });
    }
  }

  private quarantine(e: BulkheadError): void {
    this.mode = 'quarantined';
    this.quarantineError = e;
    this.failQueue(e);
    for (const w of [...this.workers]) w.kill(e);
    if (quarantineChannel.hasSubscribers) {
      quarantineChannel.publish({ plugin: this.template.name, version: this.template.version,
        recentDeaths: this.restart.recent(performance.now()) });
    }
    this.hooks.onQuarantine(e);
  }

  unquarantine(): void {
    if (this.mode !== 'quarantined') return;
    this.mode = 'running';
    this.quarantineError = undefined;
    this.restart.reset();
    this.ensureMin(true);
  }

  private pickWorker(): Worker | undefined {
    let best: Worker | undefined;
    for (const w of this.workers) {
      if (!w.usable || w.inflight.length >= MAX_INFLIGHT_PER_WORKER) continue;
      if (!best || w.inflight.length < best.inflight.length) best = w;
    }
    return best;
  }

  /** Hands a call to the least busy worker, or queues it (growing the pool if all are busy). */
  submit(call: Call): Worker | undefined {
    if (this.mode === 'running' && this.queue.length === 0) {
      const w = this.pickWorker();
      // A busy worker takes it only when no other worker is on its way (a replacement or growth).
      if (w && (w.inflight.length === 0 || (this.pendingSpawns === 0 && !this.canGrow(1))) && w.submit(call)) {
        this.afterSubmit(w);
        return w;
      }
    }
    // It waits in our queue: keep a private copy so the caller may reuse its buffer.
    call.input = Uint8Array.prototype.slice.call(call.input);
    this.queue.push(call);
    this.ensureMin();
    this.dispatch();
    this.armQueueTimer();
    return undefined;
  }

  /** Queued calls keep the deadline they got at submission: none waits past it, whatever the
   *  pool is doing (starting workers, backing off, paused). */
  private armQueueTimer(): void {
    let next = Infinity;
    for (const c of this.queue) if (!c.settled && c.deadlineNs < next) next = c.deadlineNs;
    // Nothing waits: no timer (it would keep the process alive for nothing).
    if (this.queueTimer && next !== Infinity && next >= this.queueTimerAt) return;  // early enough
    if (this.queueTimer) clearTimeout(this.queueTimer);
    this.queueTimer = undefined;
    if (next === Infinity) return;
    this.queueTimerAt = next;
    this.queueTimer = setTimeout(() => {
      this.queueTimer = undefined;
      this.expireQueued();
      this.armQueueTimer();
    }, Math.max(0, Math.ceil((next - monotonicNs()) / 1e6)));
    // Not unref'd: a queued call is pending work, and keeps the process alive as any pending
    // promise of I/O does, until it runs or its deadline passes.
  }

  private expireQueued(now = monotonicNs()): void {
    for (const c of [...this.queue]) {
      if (c.settled || c.deadlineNs > now) continue;
      this.unqueue(c);
      this.fail(c, new BulkheadError(ErrorCode.TIMEOUT,
        `${c.fnName}() waited for a worker past its deadline (${c.timeoutMs} ms from the call); it never ran`,
        { fn: c.fnName, reason: 'queued' }));
    }
  }

  /** Whether `waiting` calls justify starting another worker now. */
  private canGrow(waiting: number): boolean {
    return this.workers.length < this.options.max && this.pendingSpawns < waiting && performance.now() >= this.backoffUntil;
  }

  private afterSubmit(w: Worker): void {
    if (this.options.maxCallsPerWorker > 0 && w.served + w.inflight.length >= this.options.maxCallsPerWorker) {
      w.state = 'retiring';  // takes no more; recycled by onIdle once its calls are done
    }
  }

  private recycle(w: Worker): void {
    this.stats.recycled++;
    w.retire();
    this.ensureMin();
  }

  /** Moves queued calls onto workers. While every worker is busy and the pool may grow, calls wait
   *  for the new worker (or a freed one) instead of piling up behind a busy one. */
  dispatch(): void {
    if (this.mode !== 'running') return;
    this.expireQueued();
    while (this.queue.length > 0) {
      const c = this.queue[0];
      if (c.settled) { this.queue.shift(); continue; }
      const w = this.pickWorker();
      if (w && w.inflight.length > 0 && (this.pendingSpawns > 0 || this.canGrow(this.queue.length))) {
        while (this.canGrow(this.queue.length)) this.spawn().catch(() => { /* reported through calls */ });
        break;
      }
      if (!w) {
        while (this.canGrow(this.queue.length)) this.spawn().catch(() => { /* reported through calls */ });
        break;
      }
      if (!w.submit(c)) break;
      this.queue.shift();
      this.afterSubmit(w);
    }
    if (this.queue.length === 0) this.armQueueTimer();
    this.notifyIdle();
  }

  /** Removes a call still waiting in the queue (its caller aborted). */
  unqueue(call: Call): void {
    const i = this.queue.indexOf(call);
    if (i >= 0) this.queue.splice(i, 1);
    if (i >= 0 && this.queue.length === 0) this.armQueueTimer();
  }

  /** Hands over every call still waiting in the queue (none reached a worker), for another
   *  version to run; their deadlines go with them. */
  takeQueued(): Call[] {
    const taken = this.queue.splice(0).filter((c) => !c.settled);
    this.armQueueTimer();
    return taken;
  }

  runningOn(call: Call): Worker | undefined {
    return this.workers.find((w) => w.inflight[0] === call);
  }

  private shrinkIdle(): void {
    if (this.mode !== 'running') return;
    const now = performance.now();
    for (const w of [...this.workers]) {
      if (this.workers.length <= this.options.min) return;  // min 0: an idle pool scales to zero
      if (w.usable && w.inflight.length === 0 && now - w.idleSince >= this.options.idleMs) w.retire();
    }
  }

  /** Resolves once no call is in flight on any worker. */
  idle(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private notifyIdle(): void {
    if (this.idleWaiters.length === 0 || this.inflight > 0) return;
    const ws = this.idleWaiters;
    this.idleWaiters = [];
    ws.forEach((r) => r());
  }

  /** Stops handing out calls (they queue) and waits for in-flight calls to finish. */
  async pause(): Promise<void> {
    this.mode = 'paused';
    for (const w of this.workers) w.stop();  // busy ones stop when they go idle
    await this.idle();
  }

  resume(): void {
    if (this.mode !== 'paused') return;
    for (const w of this.workers) w.cont();
    this.mode = 'running';
    this.ensureMin();
    this.dispatch();
  }

  /** Lets in-flight calls finish for up to `graceMs`, then kills everything. */
  async close(graceMs: number): Promise<void> {
    if (this.mode === 'closed') return;
    const wasRunning = this.mode === 'running' || this.mode === 'paused';
    this.mode = 'draining';
    const e = new BulkheadError(ErrorCode.CLOSED, `Plugin ${this.template.name} is closed`);
    this.failQueue(e);
    if (wasRunning && graceMs > 0 && this.inflight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.idle(), new Promise((r) => { timer = setTimeout(r, graceMs); })]);
      clearTimeout(timer);
    }
    await this.destroy(e);
  }

  /** Kills every worker and the template now. */
  async destroy(e = new BulkheadError(ErrorCode.CLOSED, `Plugin ${this.template.name} is closed`)): Promise<void> {
    this.mode = 'closed';
    clearInterval(this.idleTimer);
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.failQueue(e);
    const deaths = this.workers.map((w) => {
      w.kill(e);
      return w.dead;
    });
    runtime.unload(this.template.pluginId);
    // Exit reports come from the zygote within a millisecond or so; never hang on a lost one. The
    // timer also keeps the event loop alive until they are in.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(deaths), new Promise((r) => { timer = setTimeout(r, 2000); })]);
    clearTimeout(timer);
  }

  /** A worker for a synchronous call: ready, least busy. */
  syncWorker(): Worker | undefined {
    return this.mode === 'running' ? this.pickWorker() : undefined;
  }

  /** Runs `call` synchronously on `w`, settling it (see Plugin.callSync). */
  runSync(w: Worker, call: Call, spinNs: number): Uint8Array | undefined {
    if (w.inflight.length === 0) {
      const r = w.callDirect(call, spinNs);
      if (typeof r !== 'number') return r;
      if (r === RingResult.FULL) {
        throw new BulkheadError(ErrorCode.NOT_READY, `Worker ${w.pid} could not take the call; use call()`, { fn: call.fnName });
      }
      if (r === RingResult.OK || r === RingResult.OTHER) w.pump();
    } else if (!w.submit(call)) {
      throw new BulkheadError(ErrorCode.NOT_READY, `The worker's ring is full; retry later or use call()`, { fn: call.fnName });
    }
    // The event loop cannot run here, so nothing else will settle the call once the worker is gone.
    const lost = (reaped = false) => {
      if (!reaped && w.exitDecides) w.reapNow();  // settles the call by the worker's own death, if it was that
      this.fail(call, w.failureFor(call) ?? new BulkheadError(ErrorCode.WORKER_LOST,
        `Worker ${w.pid} died before ${call.fnName}() finished`, { fn: call.fnName, pid: w.pid }));
    };
    while (!call.settled) {
      // Wake for the earliest deadline or budget check on this worker, not only ours: a call ahead
      // of us that overruns is expired (and its worker killed) at its own deadline, never at ours.
      const r = w.channel.wait(Math.min(call.deadlineNs, w.nextWakeNs()), spinNs);
      if (r === RingResult.OK) {
        if (!w.pump()) lost();
        else if (!call.settled && monotonicNs() >= w.nextWakeNs()) w.watch();  // a busy ring postpones no check
      } else if (r === RingResult.TIMED_OUT) {
        // The worker's timer cannot run here: the same watch (budgets, then deadlines; only a
        // running call that overran kills the worker).
        if (w.pump()) w.watch();
        else lost();
      } else {  // the worker died (or broke the protocol) while we waited
        w.reapNow();
        lost(true);
      }
    }
    return undefined;
  }
}
