// restart_policy.ts: when to replace a dead worker, and when a plugin version has crashed often
// enough to be quarantined. Pure bookkeeping; the pool acts on its answers.
import { checkInt, checkKnownKeys, checkObject } from './validate';

export interface RestartOptions {
  /** Replacements allowed within `windowMs` before the version is quarantined. Default 10. */
  maxRestarts?: number;
  /** Default 60000. */
  windowMs?: number;
  /** First backoff, ms; doubles per restart in the window. Default 0: replace at once. */
  initialBackoffMs?: number;
  /** Default 5000. */
  maxBackoffMs?: number;
}

export const DEFAULT_RESTART: Required<RestartOptions> = {
  maxRestarts: 10,
  windowMs: 60_000,
  initialBackoffMs: 0,
  maxBackoffMs: 5_000,
};

export function resolveRestart(v: unknown): Required<RestartOptions> {
  const o = checkObject(v, 'options.restart');
  checkKnownKeys(o, 'options.restart', Object.keys(DEFAULT_RESTART));
  const d = DEFAULT_RESTART;
  return {
    maxRestarts: checkInt(o.maxRestarts, 'options.restart.maxRestarts', 0, 1_000_000, d.maxRestarts),
    windowMs: checkInt(o.windowMs, 'options.restart.windowMs', 1, 2 ** 31 - 1, d.windowMs),
    initialBackoffMs: checkInt(o.initialBackoffMs, 'options.restart.initialBackoffMs', 0, 600_000, d.initialBackoffMs),
    maxBackoffMs: checkInt(o.maxBackoffMs, 'options.restart.maxBackoffMs', 0, 600_000, d.maxBackoffMs),
  };
}

export class RestartPolicy {
  private deaths: number[] = [];

  constructor(private readonly o: Required<RestartOptions>, private readonly random: () => number = Math.random) {}

  /**
   * Records an unplanned worker death at `now` (ms). Returns the delay before the replacement
   * starts, or 'quarantine' when the window holds more deaths than allowed.
   */
  onDeath(now: number): number | 'quarantine' {
    this.deaths = this.deaths.filter((t) => now - t < this.o.windowMs);
    this.deaths.push(now);
    if (this.deaths.length > this.o.maxRestarts) return 'quarantine';
    if (this.o.initialBackoffMs === 0) return 0;
    const base = Math.min(this.o.maxBackoffMs, this.o.initialBackoffMs * 2 ** (this.deaths.length - 1));
    // Full jitter on the upper half: spreads replacements of many pools without losing the backoff.
    return Math.round(base / 2 + (this.random() * base) / 2);
  }

  /** Deaths counted in the current window. */
  recent(now: number): number {
    return this.deaths.filter((t) => now - t < this.o.windowMs).length;
  }

  reset(): void {
    this.deaths = [];
  }
}
