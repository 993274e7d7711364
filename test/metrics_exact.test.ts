// metrics_exact.test.ts: metrics() counts are exact after a storm of aborts: once every call has
// settled, nothing is in flight or queued, and calls and failures add up.
import { describe, expect, it } from 'vitest';

import { ErrorCode } from '../lib/index';
import { bytes, load } from './helpers';

describe('metrics() after random aborts', () => {
  it('reports nothing in flight or queued once every call settled, and counts each call once', async () => {
    const p = await load('hostile', { pool: { size: 1 } });  // calls pile up on one worker's ring
    try {
      let seed = 7;
      const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const outcomes: Promise<string>[] = [];
      for (let i = 0; i < 300; i++) {
        const ac = new AbortController();
        const fn = rand() < 0.5 ? 'echo' : 'sleep_ms';
        outcomes.push(p.call(fn, bytes(fn === 'echo' ? 'x' : String(Math.floor(rand() * 3))), { signal: ac.signal })
          .then(() => 'ok', (e: { code: string }) => e.code));
        if (rand() < 0.5) setTimeout(() => ac.abort(), Math.floor(rand() * 3));
      }
      // Last, slow calls aborted while they wait on the ring: settled, though the worker has yet to
      // reach them.
      for (let i = 0; i < 5; i++) {
        const ac = new AbortController();
        outcomes.push(p.call('sleep_ms', bytes('20'), { signal: ac.signal }).then(() => 'ok', (e: { code: string }) => e.code));
        ac.abort();
      }
      const codes = await Promise.all(outcomes);
      for (const c of codes) expect(['ok', ErrorCode.ABORTED, ErrorCode.WORKER_LOST]).toContain(c);
      // At once: a worker may still be running an aborted call, but that call is no longer in flight.
      const m = p.metrics();
      expect(m.inflight, JSON.stringify(m)).toBe(0);
      expect(m.queued).toBe(0);
      expect(m.calls).toBe(305);
      expect(m.failures).toBe(codes.filter((c) => c !== 'ok').length);
    } finally {
      await p.close();
    }
  });
});
