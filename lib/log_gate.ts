// log_gate.ts: the host's caps on a plugin's log lines, per call and per second, enforced in the
// native drain (cpp/addon/channel_handle.cc, Drain) before any JavaScript value exists for a line.
// One gate serves all workers of a loaded plugin; it tallies what was dropped and reports it in
// one summary at most once a second.

/** Words of the Uint32Array the drain reads and writes (kGate* in channel_handle.cc). */
const PER_CALL = 0;
const LEFT = 1;
const DROPPED = 2;
const MORE = 3;

const WINDOW_MS = 1000;

export interface LogGateHooks {
  /** Lines a drain just dropped (for metrics). */
  counted(dropped: number): void;
  /** Once per window in which lines were dropped, and on flush(): how many since the last report. */
  report(dropped: number): void;
}

export class LogGate {
  /** Handed to every drain of the plugin's workers. */
  readonly state = new Uint32Array(4);
  private windowEnd = -Infinity;
  private unreported = 0;
  private timer: NodeJS.Timeout | undefined;

  /** perSecond counts the lines of all the plugin's workers in one-second windows. */
  constructor(readonly perCall: number, readonly perSecond: number, private readonly hooks: LogGateHooks) {
    this.state[PER_CALL] = perCall;
  }

  /** Before a drain: the state, with the allowance refilled if a new window began. */
  open(now = performance.now()): Uint32Array {
    if (now >= this.windowEnd) {
      this.state[LEFT] = this.perSecond;
      this.windowEnd = now + WINDOW_MS;
    }
    return this.state;
  }

  /** After a drain: tallies its drops (reported when the window ends); true when it stopped at
   *  its budget with messages still waiting. */
  close(): boolean {
    const dropped = this.state[DROPPED];
    if (dropped > 0) {
      this.hooks.counted(dropped);
      this.unreported += dropped;
      this.timer ??= setTimeout(() => this.flush(), Math.max(0, this.windowEnd - performance.now())).unref();
    }
    return this.state[MORE] === 1;
  }

  /** Reports what was dropped and not yet reported (the plugin is closing, or a window ended). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const n = this.unreported;
    this.unreported = 0;
    if (n > 0) this.hooks.report(n);
  }
}
