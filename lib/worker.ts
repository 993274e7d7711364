// worker.ts: one sandboxed worker process as the host sees it: its ring channel and pidfd, the
// calls in flight on it (served strictly in order), their deadlines, and how its death is told.
import * as fs from 'node:fs';
import * as os from 'node:os';

import { formatCrashReport } from './crash_report';
import { BulkheadError, ErrorCode } from './errors';
import type { LogGate } from './log_gate';
import { native, RingResult, type ChannelHandle } from './native';
import { runtime, violationError, type ExitCause, type Violation } from './runtime';
import { untrustedText } from './untrusted_text';

/** One call as the pool tracks it. */
export interface Call {
  id: number;
  fn: number;
  fnName: string;
  input: Uint8Array;
  timeoutMs: number;
  /** CLOCK_MONOTONIC deadline, counted from the call itself (a queued call's included); 0 until
   *  set, for calls the pool makes itself (counted from reaching a worker). */
  deadlineNs: number;
  /** The caller allows a retry on another worker if this one dies before running it. */
  idempotent: boolean;
  settled: boolean;
  resolve(out: Uint8Array): void;
  reject(e: BulkheadError): void;
  cleanup?: () => void;
}

export interface WorkerHooks {
  /** A log line of the plugin's, its text already escaped (untrustedText). */
  onLog(level: number, message: string, fn: string | undefined): void;
  /** The plugin's caps on log lines, shared by its workers. */
  logGate: LogGate;
  /** The worker is gone; `unstarted` never began executing and may run elsewhere. */
  onDead(worker: Worker, error: BulkheadError | undefined, unstarted: Call[]): void;
  /** Plugin status names, for error messages. */
  statusName(code: number): string;
  /** The worker has no call in flight any more. */
  onIdle(worker: Worker): void;
}

const WORKER_SETUP_FAILED = 121;
/** How long a worker may go on running a call already settled (it timed out or was aborted
 *  while it waited behind another) before it is killed as hung. */
const ABANDONED_GRACE_NS = 20e6;
/** How often a running call's worker has its write count looked at (the budget's overshoot is
 *  what it can write in this time). */
const WRITE_CHECK_NS = 50e6;
/** How often a worker whose threads may run while no call does is looked at then. */
const IDLE_CHECK_NS = 100e6;
/** bytesWritten(): the kernel will not show this process the worker's count. */
export const UNREADABLE = -2;

// CLOCK_MONOTONIC (what the worker compares deadlines against) from performance.now().
const MONO_OFFSET_NS = Number(process.hrtime.bigint()) - performance.now() * 1e6;
export function monotonicNs(): number {
  return MONO_OFFSET_NS + performance.now() * 1e6;
}

function signalName(sig: number): string {
  const entry = Object.entries(os.constants.signals).find(([, n]) => n === sig);
  return entry ? entry[0] : `signal ${sig}`;
}

/** Turns a wait status, and the monitor's violation report if it made one, into the error the
 *  call gets. The signal always comes from the wait status: nothing the worker wrote counts. */
export function classifyExit(status: number | null, violation: Violation | undefined, pid: number,
                             fn: string | undefined, oomKilled = false, who = `Worker ${pid}`): BulkheadError {
  const where = fn ? ` in ${fn}()` : '';
  if (violation) return violationError(violation, pid, fn, fn ? `in ${fn}()` : 'in a worker');
  if (status === null) {
    return new BulkheadError(ErrorCode.ZYGOTE, `The zygote helper died; ${who} was lost${where}`, { pid, fn });
  }
  const sig = status & 0x7f;
  if (sig === 0) {
    const exitCode = (status >> 8) & 0xff;
    const why = exitCode === WORKER_SETUP_FAILED ? ' (its sandbox could not be set up)' : '';
    return new BulkheadError(ErrorCode.WORKER_EXITED, `${who} exited with code ${exitCode}${where}${why}`,
      { pid, fn, exitCode });
  }
  const signal = signalName(sig);
  if (sig === os.constants.signals.SIGKILL && oomKilled) {
    return new BulkheadError(ErrorCode.MEMORY_LIMIT, `${who} exceeded its memory limit${where} and was killed`,
      { pid, fn, signal, reason: 'memory' });
  }
  if (sig === os.constants.signals.SIGXFSZ) {
    return new BulkheadError(ErrorCode.FILE_SIZE_LIMIT, `${who} wrote past its file-size limit${where}`,
      { pid, fn, signal, reason: 'fsize' });
  }
  return new BulkheadError(ErrorCode.WORKER_CRASHED, `${who} crashed with ${signal}${where}`,
    { pid, fn, signal });
}

/** Whether a kill the host made only because it could not read the worker's write count is what
 *  ended it (its reason stands), rather than a death the worker was already going to (its own
 *  exit, a fatal signal such as SIGXFSZ, the monitor's kill for a violation, the OOM killer): the
 *  kernel hides the count of a dying process that has let go of its memory. */
export function unreadKillEndedIt(status: number | null, violation: Violation | undefined, oomKilled: boolean): boolean {
  return status === null || ((status & 0x7f) === os.constants.signals.SIGKILL && !violation && !oomKilled);
}

/** A new worker that died before the host took it (the monitor's spawn answer, ECHILD): its wait
 *  status is `statusPlusOne - 1` where the kernel kept one (0: unknown). */
export function diedAtStart(statusPlusOne: number): BulkheadError {
  const who = 'A new worker, before it could serve,';
  if (statusPlusOne === 0) {
    return new BulkheadError(ErrorCode.WORKER_EXITED, `${who} died (this kernel keeps no exit status for it)`);
  }
  return classifyExit(statusPlusOne - 1, undefined, 0, undefined, false, who);
}

/** What a worker is watched for: CPU time per call (ms, 0: none), bytes it may write in its life
 *  (0: none to watch, it has nowhere to write), and the threads its policy grants (each may burn
 *  CPU and write while no call runs). */
export interface WorkerBudgets {
  cpuTimeMs: number;
  writeBudget: number;
  threads: number;
}

/** CPUs this machine runs a worker's threads on at once, at most. */
const CPUS = Math.max(1, os.availableParallelism?.() ?? os.cpus().length);

export class Worker {
  readonly id: number;
  readonly channel: ChannelHandle;
  pid = 0;
  /** 'starting' until its pidfd arrives, then 'ready'; 'retiring' takes no new calls; 'dying'
   *  once killed; 'dead' when reaped. */
  state: 'starting' | 'ready' | 'retiring' | 'dying' | 'dead' = 'starting';
  /** Calls completed, for recycling. */
  served = 0;
  /** performance.now() when it last became idle. */
  idleSince = performance.now();
  /** The call completed last, for attributing the log lines that follow its response. */
  private lastDone: Call | undefined;
  /** Calls submitted to its ring, oldest (the running one) first. */
  readonly inflight: Call[] = [];
  /** Settles once the worker is dead and its calls are accounted for. */
  readonly dead: Promise<void>;
  private markDead!: () => void;
  private killError: BulkheadError | undefined;
  /** The call a kill was aimed at; any other call it takes down only had bad timing. */
  private killTarget: Call | undefined;
  /** The kill was for an unreadable write count: its reason yields to a death of the worker's own. */
  private killForUnread = false;
  /** Once dead: what its running call got, or would have. */
  deathError: BulkheadError | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private readonly hooks: WorkerHooks;

  /** CPU-time budget per call, ns (0: none). */
  private readonly cpuBudgetNs: number;
  /** The running call's CPU-time baseline, and when its CPU use and the worker's write count are
   *  next looked at (both clocks start when a call comes to head the ring; see startBudgetClocks). */
  private headCpuStartNs = -1;
  private cpuCheckAtNs = Infinity;
  private writeCheckAtNs = Infinity;

  /** Bytes the worker may write over its life (0: not checked: it has nowhere to write). */
  private readonly writeBudget: number;

  /** Threads of the worker that can run at once (the CPU clock advances that much faster than wall time). */
  private readonly parallelism: number;
  /** With threads, writes happen between calls too: the worker's life budget is watched then
   *  (see idleOverrun). CPU between calls is the cpu cgroup's (cpuQuotaPercent) to bound: a
   *  reading of another process's CPU clock lags by up to a scheduler tick per running thread, too
   *  coarse to charge an idle worker for small amounts. */
  private readonly watchIdle: boolean;
  private idleCheckAtNs = Infinity;
  /** onTimer is running: pump() leaves the re-arming to it (after the watch moved its clocks). */
  private inTimer = false;

  constructor(id: number, maxInput: number, maxOutput: number, hooks: WorkerHooks, budgets: WorkerBudgets) {
    this.id = id;
    this.cpuBudgetNs = budgets.cpuTimeMs * 1e6;
    this.writeBudget = budgets.writeBudget;
    this.parallelism = Math.min(1 + budgets.threads, CPUS);
    this.watchIdle = budgets.threads > 0 && this.writeBudget > 0;
    this.hooks = hooks;
    this.dead = new Promise<void>((resolve) => { this.markDead = resolve; });
    this.channel = new (native().binding.ChannelHandle)(maxInput, maxOutput);
    this.channel.watch(() => this.pump());
  }

  /** Takes new calls. */
  get usable(): boolean {
    return this.state === 'ready';
  }

  /** The pidfd arrived: the worker exists. */
  /** `pid`: as the monitor reported it (the pidfd cannot tell once the process is reaped). */
  attach(pidfd: number, pid: number): void {
    if (this.state === 'dead') {  // killed before it existed
      native().binding.pidfdKill(pidfd);
      native().binding.closeFd(pidfd);
      return;
    }
    this.channel.setPidfd(pidfd);
    this.pid = pid;
    if (this.state === 'starting') this.state = 'ready';
    this.paused = false;
    runtime.watchExit(this.pid, (status, cause) => this.onExit(status, cause));
    this.startIdleClock();
  }

  /** Queues a call on the ring; false when the ring is full right now, or when the worker turned
   *  out to have overrun a budget while idle (it is killed; the call goes elsewhere). */
  submit(call: Call): boolean {
    if (this.inflight.length === 0 && this.idleOverrun()) return false;
    if (call.deadlineNs === 0) call.deadlineNs = monotonicNs() + call.timeoutMs * 1e6;
    const r = this.channel.submit(call.id, call.fn, call.input, call.deadlineNs);
    if (r === RingResult.FULL) return false;
    if (r !== RingResult.OK) {
      this.breakProtocol();
      return false;
    }
    this.inflight.push(call);
    if (this.inflight.length === 1) {
      this.headSinceNs = monotonicNs();
      this.channel.ref(true);
      this.startBudgetClocks();
    }
    this.armTimer(call.deadlineNs);
    return true;
  }

  /**
   * The sync fast path for an idle worker: one native crossing when the reply is a plain success.
   * Returns the output, or a RingResult after which the call is tracked like any other (in flight,
   * settled by pump() or by the worker's death); a protocol error settles it at once.
   */
  callDirect(call: Call, spinNs: number): Buffer | number {
    if (this.idleOverrun()) return RingResult.FULL;
    if (call.deadlineNs === 0) call.deadlineNs = monotonicNs() + call.timeoutMs * 1e6;
    this.inflight.push(call);
    this.headSinceNs = monotonicNs();
    this.startBudgetClocks();
    // Waits no longer than the first budget check: past it, Pool.runSync watches as the timer does.
    const r = this.channel.call(call.id, call.fn, call.input, call.deadlineNs, spinNs,
      Math.min(call.deadlineNs, this.nextWakeNs()));
    if (typeof r !== 'number') {
      this.inflight.shift();
      this.lastDone = call;
      this.served++;
      this.idleSince = performance.now();
      // As pump() does for every answer: writes past the budget fail the call that made them.
      if (this.writeBudget > 0 && this.overWriteBudget(call)) return RingResult.OTHER;
      call.settled = true;
      this.startIdleClock();
      return r;
    }
    if (r === RingResult.FULL || r === RingResult.PROTOCOL_ERROR) this.inflight.pop();
    if (r === RingResult.PROTOCOL_ERROR) call.reject(this.breakProtocol(undefined, call.fnName));
    return r;
  }

  /** A drain stopped at its budget: the rest is read on the next turn of the event loop. */
  private pumpSoon = false;

  /** Reads completed messages (up to one drain's budget; the rest on the next turn) and settles
   *  their calls. Returns false if the worker broke the protocol. */
  pump(): boolean {
    if (this.state === 'dead') return false;
    const gate = this.hooks.logGate;
    const d = this.channel.drain(gate.open());
    const more = gate.close();
    if (typeof d === 'string') {
      this.breakProtocol(d);
      return false;
    }
    for (let i = 0; i < d.length; i += 4) {
      if (typeof d[i] === 'string') {  // valid messages before it are settled already
        this.breakProtocol(d[i] as string);
        return false;
      }
      const kind = d[i] as number;
      const callId = d[i + 1] as number;
      const code = d[i + 2] as number;
      const body = d[i + 3];
      if (kind === 1) {
        // A call's log lines follow its response, so its function is usually the one just done.
        const fn = this.lastDone?.id === callId ? this.lastDone.fnName : this.inflight.find((c) => c.id === callId)?.fnName;
        this.hooks.onLog(code, untrustedText(body as string), fn);
        continue;
      }
      const call = this.inflight[0];
      if (call === undefined || call.id !== callId) {
        this.breakProtocol(call ? `response for call ${callId} while ${call.id} was running` : `response for call ${callId} with none running`);
        return false;
      }
      this.inflight.shift();
      this.headSinceNs = monotonicNs();  // the next call, if any, heads the ring from here
      this.lastDone = call;
      this.served++;
      if (this.inflight.length === 0) {
        this.channel.ref(false);
        this.idleSince = performance.now();
        this.startIdleClock();
      } else {
        this.startBudgetClocks();
      }
      if (call.settled) continue;  // timed out or aborted earlier; its result is dropped
      if (this.writeBudget > 0 && this.overWriteBudget(call)) return false;
      if (code === 0) call.resolve(body as Buffer);
      else call.reject(this.statusError(call, code, body as string));
    }
    if (more && !this.pumpSoon) {
      this.pumpSoon = true;
      setImmediate(() => {
        this.pumpSoon = false;
        this.pump();
      });
    }
    if (d.length > 0 && this.inflight.length === 0) this.hooks.onIdle(this);
    this.armTimer(Infinity);
    return true;
  }

  private statusError(call: Call, code: number, raw: string): BulkheadError {
    const fn = call.fnName;
    const message = untrustedText(raw);
    if (code === 1000) {
      return new BulkheadError(ErrorCode.UNKNOWN_FUNCTION, `The plugin has no function #${call.fn}`, { fn });
    }
    const status = this.hooks.statusName(code);
    if (status === 'BH_ERR_OUTPUT_TOO_LARGE') {
      return new BulkheadError(ErrorCode.OUTPUT_LIMIT, `${fn}() tried to write more than the output limit${message ? `: ${message}` : ''}`, { fn, status });
    }
    return new BulkheadError(ErrorCode.PLUGIN_ERROR, `${fn}() failed with ${status}${message ? `: ${message}` : ''}`, { fn, status });
  }

  /** A new call heads the ring (only then: nothing else, a log line least of all, restarts them):
   *  its CPU time counts from here; writes are looked at every WRITE_CHECK_NS. */
  private startBudgetClocks(): void {
    const now = monotonicNs();
    this.writeCheckAtNs = this.writeBudget > 0 ? now + WRITE_CHECK_NS : Infinity;
    this.headCpuStartNs = this.cpuBudgetNs === 0 || this.pid === 0 ? -1 : native().binding.cpuTimeNs(this.pid);
    // No baseline (no budget, or the process is gone already): nothing to check.
    this.cpuCheckAtNs = this.headCpuStartNs < 0 ? Infinity : now + this.cpuWaitNs(this.cpuBudgetNs);
  }

  /** Wall time in which the worker cannot use more than `cpuNs` of CPU: its threads that can run
   *  at once use it that many times faster than the clock on the wall. */
  private cpuWaitNs(cpuNs: number): number {
    return Math.max(1e6, cpuNs / this.parallelism);
  }

  /** No call runs: the idle watch looks at its threads' writes from here. */
  private startIdleClock(): void {
    if (!this.watchIdle || this.pid === 0) return;
    this.idleCheckAtNs = monotonicNs() + IDLE_CHECK_NS;
    this.armTimer(Infinity);
  }

  /** Kills an idle worker whose threads, while no call ran, wrote past the worker's write budget
   *  (no call's error: a 'crash' with ERR_WRITE_LIMIT); true if it did. Looked at by the idle timer
   *  and before the worker takes a call, so a call does not inherit an overrun already complete
   *  (one still under way when a call starts is that call's: the count is the process's). */
  private idleOverrun(): boolean {
    if (!this.watchIdle || !this.serving || this.paused || this.inflight.length > 0) return false;
    const over = this.writeVerdict('while no call ran (its threads)');
    if (!over) return false;
    if (over.unread) this.killUnread(over.error);
    else this.kill(over.error);
    return true;
  }

  /** The write budget as the count stands now: nothing while within it; else the error, and
   *  whether that is because the count could not be read (see overWriteBudget). */
  private writeVerdict(during: string, fn?: string): { error: BulkheadError; unread: boolean } | undefined {
    const written = this.bytesWritten();
    if (written >= 0 && written <= this.writeBudget) return undefined;
    const unread = written < 0;  // hidden, or gone (then its exit is on its way)
    return {
      unread,
      error: new BulkheadError(ErrorCode.WRITE_LIMIT, unread
        ? `Worker ${this.pid}'s write count (/proc/${this.pid}/io) became unreadable ${during}, so limits.maxBytesWritten cannot be held; it was killed`
        : `Worker ${this.pid} wrote ${written} bytes, over limits.maxBytesWritten (${this.writeBudget}), ${during}; it was killed`,
      { fn, pid: this.pid, reason: 'write' }),
    };
  }

  /** Still running its calls (so watched), not yet killed or reaped. */
  private get serving(): boolean {
    return this.state === 'ready' || this.state === 'retiring';
  }

  /** When the worker next needs looking at: a deadline, an abandoned head's grace, a budget check
   *  of the running call (Infinity: nothing to watch). The timer and the sync path both wake here. */
  nextWakeNs(): number {
    const budgets = !this.serving ? Infinity
      : this.inflight.length > 0 ? Math.min(this.cpuCheckAtNs, this.writeCheckAtNs)
      : this.watchIdle && !this.paused ? this.idleCheckAtNs : Infinity;
    return Math.min(budgets, this.nextDeadlineNs());
  }

  /** Everything the worker is watched for, as of `now`: the running call's CPU and write budgets,
   *  then the deadlines (which hold for a dying worker's calls too). What the timer does, and
   *  Pool.runSync between its waits. */
  watch(now = monotonicNs()): void {
    if (this.state === 'dead') return;
    if (this.inflight.length === 0 && now >= this.idleCheckAtNs) {
      this.idleCheckAtNs = now + IDLE_CHECK_NS;
      this.idleOverrun();
      return;
    }
    this.checkCpu(now);
    if (this.serving && this.writeBudget > 0 && now >= this.writeCheckAtNs) {
      this.writeCheckAtNs = now + WRITE_CHECK_NS;
      const running = this.inflight[0];
      if (running && !running.settled) this.overWriteBudget(running);
    }
    this.expireOverdue(now);
  }

  /** Bytes written so far, from the kernel's count in /proc/<pid>/io (what write calls wrote;
   *  stores through a shared file mapping are not in it); -1 when the process is gone,
   *  UNREADABLE when this process may not read the count. */
  bytesWritten(): number {
    try {
      const m = /^wchar: (\d+)$/m.exec(fs.readFileSync(`/proc/${this.pid}/io`, 'latin1'));
      return m ? Number(m[1]) : UNREADABLE;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return code === 'EACCES' || code === 'EPERM' ? UNREADABLE : -1;
    }
  }

  /** Rejects `call` with ERR_WRITE_LIMIT and kills the worker once it wrote past its budget. A
   *  count that cannot be read kills it too (fail closed: an unread budget is no budget), but the
   *  call is settled by its exit: the kernel hides the count of a process that has let go of its
   *  memory, which one whose main thread left has (the kill's reason stands) and so has one already
   *  dying of its own accord, SIGXFSZ or a crash (its death says why; see unreadKillEndedIt). */
  private overWriteBudget(call: Call): boolean {
    const over = this.writeVerdict(`during ${call.fnName}()`, call.fnName);
    if (!over) return false;
    if (over.unread) {  // no count, no success: the worker's exit settles the call
      if (this.inflight[0] !== call) this.inflight.unshift(call);  // its response, if any, is void
      this.killUnread(over.error, call);
      return true;
    }
    call.settled = true;
    call.cleanup?.();
    call.reject(over.error);
    this.kill(over.error, call);
    return true;
  }


  /** Rejects the running call with ERR_CPU_LIMIT if it used its CPU-time budget. */
  private checkCpu(now: number): void {
    const call = this.inflight[0];
    if (!this.serving || this.cpuBudgetNs === 0 || !call || now < this.cpuCheckAtNs || this.headCpuStartNs < 0) return;
    if (call.settled) {  // abandoned: the grace after which it is killed as hung watches it now
      this.cpuCheckAtNs = Infinity;
      return;
    }
    const clock = native().binding.cpuTimeNs(this.pid);
    if (clock < 0) {  // gone: its exit report settles the call
      this.cpuCheckAtNs = Infinity;
      return;
    }
    const used = clock - this.headCpuStartNs;
    if (used < this.cpuBudgetNs) {
      this.cpuCheckAtNs = now + this.cpuWaitNs(this.cpuBudgetNs - used);
      return;
    }
    const e = new BulkheadError(ErrorCode.CPU_LIMIT,
      `${call.fnName}() used ${Math.round(used / 1e6)} ms of CPU time, over its budget of ${this.cpuBudgetNs / 1e6} ms; worker ${this.pid} was killed`,
      { fn: call.fnName, pid: this.pid, reason: 'cpu' });
    call.settled = true;
    call.cleanup?.();
    call.reject(e);
    this.kill(e, call);
  }

  /** Timer for the earliest unsettled deadline (or CPU check); expired calls reject, a running one
   *  kills the worker. */
  private armTimer(candidateNs: number): void {
    if (this.inTimer) return;
    const next = Math.min(candidateNs, this.nextWakeNs());
    if (next >= this.timerAt && this.timer) return;  // an earlier timer re-arms when it fires
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    if (next === Infinity) return;
    this.timerAt = next;
    // libuv timers have millisecond resolution and round up: aim at the floor, re-arm if early.
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, Math.floor((next - monotonicNs()) / 1e6)));
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    this.inTimer = true;
    try {
      if (!this.pump()) return;  // finished work first: a late timer must not fail a done call
      this.watch();
    } finally {
      this.inTimer = false;
    }
    if (this.state !== 'dead') this.armTimer(Infinity);
  }

  /** The earliest deadline of a call on this worker not yet settled (Infinity: none); for a
   *  settled call the worker is still running, the moment it is abandoned (see expireOverdue). */
  nextDeadlineNs(): number {
    let next = this.abandonedHeadKillNs();
    for (const c of this.inflight) if (!c.settled && c.deadlineNs < next) next = c.deadlineNs;
    return next;
  }

  /** When a settled call the worker is running (rejected at its deadline or aborted while it
   *  waited behind another: nobody waits for it) has run too long: the grace from the moment it
   *  came to head the ring, so a quick one finishes; Infinity when the head is no such call. */
  private abandonedHeadKillNs(): number {
    const head = this.inflight[0];
    return head?.settled && this.serving ? this.headSinceNs + ABANDONED_GRACE_NS : Infinity;
  }

  /** Rejects every call past its deadline; an overdue running call takes the worker with it. */
  expireOverdue(now = monotonicNs()): void {
    this.inflight.forEach((c, i) => {
      if (c.settled || c.deadlineNs > now) return;
      const e = new BulkheadError(ErrorCode.TIMEOUT, `${c.fnName}() did not finish within its deadline${i === 0 ? `; worker ${this.pid} was killed` : ''}`, { fn: c.fnName, pid: this.pid });
      c.settled = true;
      c.cleanup?.();
      c.reject(e);
      if (i === 0) this.kill(e, c);
    });
    // A call settled while it waited behind another has reached the head of the ring, so the
    // worker runs it (it cannot be taken back) though nobody waits for it. Past the grace that
    // lets a quick one finish it is a hang like any other: the worker is killed, and the calls
    // behind it go the way of a kill's collateral.
    const head = this.inflight[0];
    if (this.abandonedHeadKillNs() <= now) {
      this.kill(new BulkheadError(ErrorCode.TIMEOUT,
        `${head.fnName}() ran on past its deadline after it was rejected; worker ${this.pid} was killed`, { fn: head.fnName, pid: this.pid }), head);
    }
  }

  /** True when the death was the host's plan (recycling, shrinking, an abort), not a failure. */
  planned = false;
  private awaitingExit = false;
  /** CLOCK_MONOTONIC ns when the call now at the head of the ring came to head it. */
  private headSinceNs = 0;
  private paused = false;

  /** SIGSTOP: a paused plugin's idle workers use no CPU at all (not even their spin). */
  stop(): void {
    if (this.state !== 'ready' || this.paused || this.inflight.length > 0) return;
    this.paused = this.channel.kill(19 /* SIGSTOP */) === 0;
  }

  /** SIGCONT, before any call reaches it again. */
  cont(): void {
    if (this.paused && this.state !== 'dead') this.channel.kill(18 /* SIGCONT */);
    this.paused = false;
  }

  /** The running call was aborted by its caller: only killing the process stops native code. */
  abortRunning(e: BulkheadError, call: Call): void {
    this.planned = true;
    this.kill(e, call);
  }

  /** Stops an idle worker that is no longer needed. */
  retire(): void {
    this.planned = true;
    this.kill(new BulkheadError(ErrorCode.CLOSED, `Worker ${this.pid} retired`));
  }

  /** Kills it because its write count cannot be read; `reason` yields to a death of its own (see
   *  overWriteBudget), and either is what its running call, and deathError, get. */
  killUnread(reason: BulkheadError, target?: Call): void {
    if (this.state === 'dead' || this.state === 'dying') return;  // killed already, for its reason
    this.kill(reason, target);
    this.killForUnread = true;
  }

  /** Killed for an unreadable write count: its running call is settled by how it died. */
  get exitDecides(): boolean {
    return this.killForUnread && this.state === 'dying';
  }

  /** Why the host killed it, if the kill concerns `call` (aimed at it, or at the whole worker). */
  failureFor(call: Call): BulkheadError | undefined {
    return this.killTarget === undefined || this.killTarget === call ? this.killError : undefined;
  }

  /** Kills the process. `target`: the call the kill is aimed at (settled already by the caller);
   *  without one, `reason` is what its running call gets if still unsettled. */
  kill(reason: BulkheadError, target?: Call): void {
    if (this.state === 'dead' || this.state === 'dying') return;
    this.killError = reason;
    this.killTarget = target;
    this.state = 'dying';
    this.channel.kill();
    if (this.pid === 0) {
      this.finish(null, {});  // never started: no exit report will come
      return;
    }
    // Calls behind the killed one (and any queued for a replacement) wait on its exit report: the
    // process must not exit for want of a ref'd handle before it comes.
    this.awaitingExit = true;
    runtime.hold(1);
  }

  private breakProtocol(reason?: string, fn?: string): BulkheadError {
    const why = reason ?? this.channel.protocolError();
    const e = new BulkheadError(ErrorCode.PROTOCOL,
      `Worker ${this.pid} broke the ring protocol (${why}); it was killed`, { pid: this.pid, reason: why, fn });
    this.kill(e);
    return e;
  }

  /** The zygote reaped it (status) or the zygote died (null). */
  private onExit(status: number | null, cause: ExitCause): void {
    if (this.state === 'dead') return;
    if (this.state !== 'dying') this.pump();  // responses it published before dying still count
    this.finish(status, cause);
  }

  /** For the sync path: the process is gone; decide now, without waiting for the zygote. */
  reapNow(): void {
    if (this.state === 'dead') return;
    let status = this.channel.exitStatus();
    const until = performance.now() + 50;
    while (status < 0 && performance.now() < until) status = this.channel.exitStatus();
    if (status < 0) return;  // this kernel cannot say (before 6.15): the zygote's report decides
    if (this.state !== 'dying') this.pump();
    const violation = runtime.violationOf(this.pid);
    if ((this.state as Worker['state']) === 'dead') return;  // its exit report came with it
    // A SIGKILL may be the OOM killer's: the monitor's exit report, with its cgroup's count, comes
    // as soon as it has reaped the worker; wait for it (the caller is blocked on this call anyway).
    if ((status & 0x7f) === os.constants.signals.SIGKILL && !violation) {
      const until = performance.now() + 200;
      while ((this.state as Worker['state']) !== 'dead' && performance.now() < until) {
        runtime.pumpNow(Math.max(1, Math.ceil(until - performance.now())));
      }
      if ((this.state as Worker['state']) === 'dead') return;
    }
    runtime.unwatchExit(this.pid);
    this.finish(status, { violation });
  }

  private finish(status: number | null, cause: ExitCause): void {
    if (this.state === 'dead') return;
    if (this.awaitingExit) runtime.hold(-1);
    this.awaitingExit = false;
    const running = this.inflight[0];
    const oomKilled = (cause.oomKills ?? 0) > 0;
    const killError = this.killForUnread && !unreadKillEndedIt(status, cause.violation, oomKilled) ? undefined : this.killError;
    const error = killError ?? classifyExit(status, cause.violation, this.pid, running?.fnName, oomKilled);
    if (!killError && error.code === ErrorCode.WORKER_CRASHED) {
      error.report = formatCrashReport(this.channel.crashReport());
    }
    this.deathError = error;
    this.state = 'dead';
    if (this.timer) clearTimeout(this.timer);
    const unstarted = this.inflight.splice(1).filter((c) => !c.settled);
    this.inflight.length = 0;
    // A kill aimed at one call (its deadline, budget or abort) never settles another: a call the
    // worker reached before the signal landed goes the way of the unstarted ones (retried when
    // idempotent, else ERR_WORKER_LOST).
    const collateral = this.killTarget !== undefined && running !== this.killTarget;
    if (running && !running.settled) {
      if (collateral) {
        unstarted.unshift(running);
      } else {
        running.settled = true;
        running.cleanup?.();
        running.reject(error);
      }
    }
    this.channel.close();
    this.markDead();
    this.hooks.onDead(this, this.planned ? undefined : error, unstarted);
  }
}
