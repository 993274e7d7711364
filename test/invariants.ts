// invariants.ts: the host-side checks every hostile test makes after its attack (REDTEAM §3.2):
// H (no signal, listeners, fds, children), S/D (a sibling's in-flight call completes), Z (same
// zygote, alive).
import { expect } from 'vitest';

import { BulkheadError, type LoadOptions, type Plugin } from '../lib/index';
import { runtime } from '../lib/runtime';
import { alive, bytes, childPids, eventually, load, openFds, text } from './helpers';

export const WATCHED_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1'] as const;
const WATCHED_EVENTS = [...WATCHED_SIGNALS, 'exit', 'beforeExit', 'uncaughtException',
  'unhandledRejection', 'warning'] as const;

/** Counts signals the host receives; installed once per file, before anything is loaded. */
export function installSignalCounter(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of WATCHED_SIGNALS) {
    counts[s] = 0;
    process.on(s, () => { counts[s]++; });
  }
  return counts;
}

export function listenerCounts(): Record<string, number> {
  return Object.fromEntries(WATCHED_EVENTS.map((e) => [e, process.listenerCount(e)]));
}

/** Awaits `p` and returns its rejection, which must be a BulkheadError. */
export async function rejectionOf(p: Promise<unknown>): Promise<BulkheadError> {
  const r = await p.then((v) => ({ ok: true as const, v }), (e: unknown) => ({ ok: false as const, e }));
  if (r.ok) throw new Error(`expected a rejection, got ${JSON.stringify(text(r.v as Uint8Array))}`);
  expect(r.e).toBeInstanceOf(BulkheadError);
  return r.e as BulkheadError;
}

/** What the attacked call did, and how long it took from the host's side. */
export interface Outcome {
  value?: Uint8Array;
  error?: BulkheadError;
  elapsedMs: number;
  plugin: Plugin;
}

export interface AttackSpec {
  fn: string;
  input?: string | Uint8Array;
  callOptions?: { timeoutMs?: number };
  load?: Omit<LoadOptions, 'trust'>;
  /** How long the sibling's canary call sleeps; must outlast the attack. Default 50 ms. */
  canaryMs?: number;
  /** Whether the attacked worker must be gone afterwards (KILL, CRASH, TIMEOUT, PROTO) or must
   *  keep serving (ERRNO, plugin errors). */
  kills: boolean | ((o: Outcome) => boolean);
  /** The exact-outcome assertions. */
  check(o: Outcome): void | Promise<void>;
}

/**
 * One host-wide context: a canary echo plugin, the zygote pid, and the host's baselines. Create it
 * in beforeAll, after installSignalCounter().
 */
export class Host {
  echo!: Plugin;
  zygotePid = 0;
  listeners: Record<string, number> = {};
  echoLogs = 0;
  /** Children of the host the tests made themselves (canary processes); not leftovers. */
  readonly ownChildren = new Set<number>();

  constructor(readonly signals: Record<string, number>) {}

  async start(): Promise<void> {
    this.echo = await load('echo');
    this.echo.on('log', () => { this.echoLogs++; });
    this.zygotePid = runtime.zygotePid() ?? 0;
    expect(this.zygotePid).toBeGreaterThan(0);
    expect(this.children()).toEqual([this.zygotePid]);
    this.listeners = listenerCounts();
  }

  async stop(): Promise<void> {
    await this.echo?.close();
  }

  /** The host's children, minus the canaries the tests spawned. */
  children(): number[] {
    return childPids().filter((p) => !this.ownChildren.has(p)).sort((a, b) => a - b);
  }

  /** H, Z and the second canary plugin: everything that must hold after any attack. */
  async assertHostIntact(): Promise<void> {
    for (const s of WATCHED_SIGNALS) expect(this.signals[s], `host received ${s}`).toBe(0);
    expect(listenerCounts()).toEqual(this.listeners);
    expect(runtime.zygotePid()).toBe(this.zygotePid);
    expect(alive(this.zygotePid)).toBe(true);
    const token = `canary-${Math.random().toString(36).slice(2)}`;
    expect(text(await this.echo.call('echo', bytes(token)))).toBe(token);
  }

  /** After the plugin is closed: descriptors and child processes back to where they were. */
  async assertReleased(fds0: number): Promise<void> {
    const fdsBack = await eventually(() => openFds() === fds0, 2000);
    expect(fdsBack ? fds0 : openFds(), 'host fd count after close()').toBe(fds0);
    const kidsBack = await eventually(() => this.children().join() === String(this.zygotePid), 2000);
    expect(kidsBack ? [this.zygotePid] : this.children(), 'host children after close()').toEqual([this.zygotePid]);
  }

  /**
   * Loads hostile with a pool of two, starts a canary call on one worker, runs the attack on the
   * other, asserts the outcome and every invariant, closes, and checks the host is released.
   */
  async attack(spec: AttackSpec): Promise<void> {
    const fds0 = openFds();
    const p = await load('hostile', {
      ...spec.load,
      limits: { timeoutMs: 300, ...spec.load?.limits },
      pool: { size: 2 },
    });
    try {
      const pids0 = p.workerPids().sort((a, b) => a - b);
      expect(pids0).toHaveLength(2);
      const canaryMs = spec.canaryMs ?? 50;
      // The sibling's call is in flight before the attack starts and must finish after it (S, D).
      const canary = p.call('sleep_ms', bytes(String(canaryMs)), { timeoutMs: canaryMs + 5000 })
        .then((v) => ({ ok: true as const, v }), (e: unknown) => ({ ok: false as const, e }));
      const input = spec.input === undefined ? new Uint8Array(0)
        : typeof spec.input === 'string' ? bytes(spec.input) : spec.input;
      const t0 = performance.now();
      const outcome: Outcome = await p.call(spec.fn, input, spec.callOptions).then(
        (value) => ({ value, elapsedMs: performance.now() - t0, plugin: p }),
        (error: unknown) => {
          expect(error).toBeInstanceOf(BulkheadError);
          return { error: error as BulkheadError, elapsedMs: performance.now() - t0, plugin: p };
        });
      await spec.check(outcome);

      const c = await canary;
      expect(c.ok ? text(c.v) : c.e, 'sibling canary call').toBe('slept');

      const kills = typeof spec.kills === 'function' ? spec.kills(outcome) : spec.kills;
      if (kills) {
        // The attacked worker (the one the error names) is gone; its sibling is the same process.
        const victim = outcome.error?.pid;
        expect(victim !== undefined && pids0.includes(victim), `error.pid ${victim} is a worker of the pool`).toBe(true);
        expect(await eventually(() => !alive(victim!), 2000), `worker ${victim} still exists`).toBe(true);
        expect(await eventually(() => p.workerPids().length === 2, 2000)).toBe(true);
        const now = p.workerPids();
        expect(now).not.toContain(victim);
        expect(now).toContain(pids0.find((x) => x !== victim));
      } else {
        expect(p.workerPids().sort((a, b) => a - b)).toEqual(pids0);
      }
      // The pool serves again on both workers (the replacement, if any, included).
      const [a, b] = await Promise.all([p.call('echo', bytes('after-a')), p.call('echo', bytes('after-b'))]);
      expect([text(a), text(b)]).toEqual(['after-a', 'after-b']);

      await this.assertHostIntact();
    } finally {
      await p.close();
    }
    await this.assertReleased(fds0);
  }
}
