// Deadlines and aborts: a call never hangs; the worker running an overdue or aborted call is killed
// and replaced; calls queued behind it still complete.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Plugin } from '../lib/index';
import { load, text } from './helpers';

let hostile: Plugin;

beforeAll(async () => {
  hostile = await load('hostile', { pool: { size: 1 }, limits: { timeoutMs: 200 } });
});

afterAll(async () => {
  await hostile?.close();
});

describe('deadlines', () => {
  it('times out a spinning call within its deadline plus a small slack, then serves again', async () => {
    const t0 = performance.now();
    const e = await hostile.call('spin', Buffer.alloc(0)).catch((x) => x);
    const elapsed = performance.now() - t0;
    expect(e).toMatchObject({ code: 'ERR_TIMEOUT', fn: 'spin' });
    expect(elapsed).toBeGreaterThanOrEqual(195);
    expect(elapsed).toBeLessThan(200 + 250);
    expect(text(await hostile.call('echo', Buffer.from('next')))).toBe('next');
  });

  it('retries idempotent calls queued behind a timed-out call on the replacement worker', async () => {
    const stuck = hostile.call('spin', Buffer.alloc(0));
    const behind = Array.from({ length: 5 }, (_, i) => hostile.call('echo', Buffer.from(`behind-${i}`), { timeoutMs: 5000, idempotent: true }));
    await expect(stuck).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    expect((await Promise.all(behind)).map(text)).toEqual([0, 1, 2, 3, 4].map((i) => `behind-${i}`));
  });

  it('rejects non-idempotent calls queued behind a timed-out call with ERR_WORKER_LOST, never silently', async () => {
    const stuck = hostile.call('spin', Buffer.alloc(0));
    const behind = hostile.call('echo', Buffer.from('behind'), { timeoutMs: 5000 });
    await expect(stuck).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    const e = await behind.catch((x) => x);
    expect(e).toMatchObject({ code: 'ERR_WORKER_LOST', fn: 'echo' });
    expect(e.cause).toMatchObject({ code: 'ERR_TIMEOUT' });
  });

  it('honours a per-call timeout over the plugin default', async () => {
    const t0 = performance.now();
    await expect(hostile.call('sleep_ms', Buffer.from('5000'), { timeoutMs: 50 })).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    expect(performance.now() - t0).toBeLessThan(50 + 250);
    expect(text(await hostile.call('sleep_ms', Buffer.from('10'), { timeoutMs: 1000 }))).toBe('slept');
  });

  it('times out a synchronous call and kills its worker', () => {
    const t0 = performance.now();
    expect(() => hostile.callSync('spin', Buffer.alloc(0), { timeoutMs: 100 })).toThrow(expect.objectContaining({ code: 'ERR_TIMEOUT' }));
    expect(performance.now() - t0).toBeLessThan(100 + 250);
  });

  it('times out a synchronous call queued behind a running one without killing the running one', async () => {
    await new Promise((r) => setTimeout(r, 50));  // let the pool replace the worker killed above
    const running = hostile.call('sleep_ms', Buffer.from('300'), { timeoutMs: 5000 });
    const e = (() => { try { hostile.callSync('echo', Buffer.from('late'), { timeoutMs: 50 }); } catch (x) { return x; } })();
    expect(e).toMatchObject({ code: 'ERR_TIMEOUT', fn: 'echo' });
    expect((e as Error).message).not.toContain('was killed');
    expect(text(await running)).toBe('slept');
  });

  it('reports a crash during a synchronous call as a crash, not a hang', async () => {
    await new Promise((r) => setTimeout(r, 50));  // let the pool replace the worker
    expect(() => hostile.callSync('segfault', Buffer.alloc(0))).toThrow(expect.objectContaining({ code: 'ERR_WORKER_CRASHED' }));
    await new Promise((r) => setTimeout(r, 50));
    expect(text(hostile.callSync('echo', Buffer.from('sync again')))).toBe('sync again');
  });
});

describe('AbortSignal', () => {
  it('rejects at once when the signal is already aborted, without running the call', async () => {
    const before = hostile.metrics().calls;
    await expect(hostile.call('spin', Buffer.alloc(0), { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(hostile.metrics().calls).toBe(before);
  });

  it('aborts a running call by killing its worker, and the next call works', async () => {
    const ac = new AbortController();
    const running = hostile.call('spin', Buffer.alloc(0), { signal: ac.signal, timeoutMs: 10_000 });
    setTimeout(() => ac.abort(new Error('user gave up')), 30);
    const t0 = performance.now();
    const e = await running.catch((x) => x);
    expect(e).toMatchObject({ code: 'ERR_ABORTED', fn: 'spin' });
    expect((e.cause as Error).message).toBe('user gave up');
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(text(await hostile.call('echo', Buffer.from('after abort')))).toBe('after abort');
  });

  it('aborts a call still waiting in the queue; the one ahead of it is untouched', async () => {
    const ahead = hostile.call('sleep_ms', Buffer.from('100'), { timeoutMs: 2000 });
    const ac = new AbortController();
    const queued = hostile.call('echo', Buffer.from('never'), { signal: ac.signal, timeoutMs: 2000 });
    ac.abort();
    await expect(queued).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(text(await ahead)).toBe('slept');
  });
});
