// Hostile ring contents mixed with valid ones: an answer the worker gave correctly is kept, and the
// corruption after it still gets the worker killed as a protocol violation.
import { describe, expect, it } from 'vitest';

import { eventually, load, text } from './helpers';

describe('a valid response followed by garbage in one batch', () => {
  it('settles the answered call with its output, then kills the worker with ERR_PROTOCOL', async () => {
    const p = await load('hostile', { limits: { timeoutMs: 300 } });
    const crashes: Array<{ code: string }> = [];
    p.on('crash', (e) => crashes.push(e));
    const out = await p.call('corrupt_ring', Buffer.from('valid_then_garbage'));
    expect(out.byteLength).toBe(0);
    expect(await eventually(() => crashes.length > 0)).toBe(true);  // reported once the zygote reaps it
    expect(crashes.map((e) => e.code)).toEqual(['ERR_PROTOCOL']);
    expect(text(await p.call('echo', Buffer.from('replaced')))).toBe('replaced');
    expect(p.metrics().restarts).toBe(1);
    await p.close();
  });
});
