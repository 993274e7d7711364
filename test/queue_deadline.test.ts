// queue_deadline.test.ts: no call waits without a deadline. A call's deadline counts from the call
// itself, so one that waits in the pool's queue (paused, or while workers start) is rejected with
// ERR_TIMEOUT at its deadline, having never run; the pool serves on afterwards.
import { describe, expect, it } from 'vitest';

import { ErrorCode } from '../lib/index';
import { bytes, load, text } from './helpers';
import { rejectionOf } from './invariants';

describe('a queued call', () => {
  it('waiting behind pause() is ERR_TIMEOUT at its deadline and never runs', async () => {
    const p = await load('echo', { pool: { size: 1 } });
    try {
      await p.pause();
      const t0 = performance.now();
      const e = await rejectionOf(p.call('echo', bytes('late'), { timeoutMs: 100 }));
      expect(e.code).toBe(ErrorCode.TIMEOUT);
      expect(e.reason).toBe('queued');
      expect(performance.now() - t0).toBeGreaterThanOrEqual(99);
      expect(performance.now() - t0).toBeLessThan(2000);
      expect(p.metrics().queued).toBe(0);
      p.resume();
      expect(text(await p.call('echo', bytes('served')))).toBe('served');
    } finally {
      await p.close();
    }
  });

  it('queued after one with a later deadline still rejects at its own', async () => {
    const p = await load('echo', { pool: { size: 1 } });
    try {
      await p.pause();
      const long = p.call('echo', bytes('long'), { timeoutMs: 30_000 });
      const t0 = performance.now();
      const e = await rejectionOf(p.call('echo', bytes('short'), { timeoutMs: 100 }));
      expect(e.code).toBe(ErrorCode.TIMEOUT);
      expect(performance.now() - t0).toBeLessThan(2000);
      p.resume();
      expect(text(await long)).toBe('long');
    } finally {
      await p.close();
    }
  });

  it('behind a busy worker that cannot grow: its deadline counts from the call, not from reaching the worker', async () => {
    const p = await load('hostile', { pool: { size: 1 } });
    try {
      const busy = p.call('sleep_ms', bytes('400'), { timeoutMs: 5000 });
      const t0 = performance.now();
      const e = await rejectionOf(p.call('echo', bytes('x'), { timeoutMs: 100 }));
      expect(e.code).toBe(ErrorCode.TIMEOUT);
      expect(performance.now() - t0).toBeLessThan(350);  // well before the call ahead is done
      expect(text(await busy)).toBe('slept');
    } finally {
      await p.close();
    }
  });
});
