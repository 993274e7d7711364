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
});
