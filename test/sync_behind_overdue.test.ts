// sync_behind_overdue.test.ts: a callSync queued behind a call that overruns its deadline blocks the
// thread only until that call's deadline (its worker is killed then), never for its own full timeout.
import { describe, expect, it } from 'vitest';

import { BulkheadError, ErrorCode } from '../lib/index';
import { bytes, load } from './helpers';

describe('callSync behind an overdue call', () => {
  it('returns at the overdue call\'s deadline with ERR_WORKER_LOST; the overdue call gets ERR_TIMEOUT', async () => {
    const p = await load('hostile', { pool: { size: 1 } });
    try {
      const ahead = p.call('sleep_ms', bytes('3000'), { timeoutMs: 50 })
        .then(() => 'resolved', (e: BulkheadError) => e.code);
      const t0 = performance.now();
      let thrown: unknown;
      try {
        p.callSync('echo', bytes('behind'), { timeoutMs: 5000 });
      } catch (e) {
        thrown = e;
      }
      const blockedMs = performance.now() - t0;
      expect(thrown).toBeInstanceOf(BulkheadError);
      expect((thrown as BulkheadError).code).toBe(ErrorCode.WORKER_LOST);
      expect(blockedMs).toBeLessThan(1000);  // the call ahead's 50 ms deadline plus slack, not 5 s
      expect(await ahead).toBe(ErrorCode.TIMEOUT);
      expect(Buffer.from(await p.call('echo', bytes('after'))).toString()).toBe('after');
    } finally {
      await p.close();
    }
  });

  it('in a mixed storm (async calls overrunning, crashing, queued): no callSync blocks past its own timeout plus 250 ms', async () => {
    const p = await load('hostile', { pool: { min: 2, max: 2 } });
    try {
      const SYNC_TIMEOUT = 100;
      let worst = 0;
      const codes = new Map<string, number>();
      const pending: Promise<unknown>[] = [];
      for (let round = 0; round < 40; round++) {
        // Async traffic ahead of the sync call: one that overruns, one that crashes, two quick.
        pending.push(p.call('spin', bytes(''), { timeoutMs: 60 }).catch(() => undefined));
        if (round % 5 === 0) pending.push(p.call('segfault', bytes('')).catch(() => undefined));
        pending.push(p.call('echo', bytes('a')).catch(() => undefined), p.call('sleep_ms', bytes('5')).catch(() => undefined));
        const t0 = performance.now();
        try {
          p.callSync(round % 3 === 0 ? 'sleep_ms' : 'echo', bytes(round % 3 === 0 ? '1000' : 'sync'), { timeoutMs: SYNC_TIMEOUT });
          codes.set('ok', (codes.get('ok') ?? 0) + 1);
        } catch (e) {
          expect(e).toBeInstanceOf(BulkheadError);
          codes.set((e as BulkheadError).code, (codes.get((e as BulkheadError).code) ?? 0) + 1);
        }
        worst = Math.max(worst, performance.now() - t0);
        await new Promise((r) => setTimeout(r, round % 4));
      }
      await Promise.all(pending);
      expect(worst, `outcomes ${JSON.stringify([...codes])}`).toBeLessThan(SYNC_TIMEOUT + 250);
      const allowed = ['ok', ErrorCode.TIMEOUT, ErrorCode.WORKER_LOST, ErrorCode.NOT_READY];
      for (const code of codes.keys()) expect(allowed).toContain(code);
      expect(Buffer.from(await p.call('echo', bytes('after'))).toString()).toBe('after');
    } finally {
      await p.close();
    }
  });
});
