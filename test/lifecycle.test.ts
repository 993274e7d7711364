// Lifecycle: states and their legal transitions, pause/resume with queued calls, close with calls
// in flight, destroy, and no leaked descriptors or processes afterwards.
import { describe, expect, it } from 'vitest';

import { load, openFds, childPids, eventually, text } from './helpers';

describe('states', () => {
  it('goes loaded → initialized → running → paused → running → terminated, emitting each step', async () => {
    const p = await load('echo');
    const seen: string[] = [];
    p.on('state', ({ from, to }) => seen.push(`${from}->${to}`));
    expect(p.state).toBe('running');
    await p.pause();
    expect(p.state).toBe('paused');
    p.resume();
    await p.close();
    expect(p.state).toBe('terminated');
    expect(seen).toEqual(['running->paused', 'paused->running', 'running->terminated']);
  });

  it('refuses illegal transitions with ERR_INVALID_STATE and stays where it was', async () => {
    const p = await load('echo');
    expect(() => p.resume()).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
    expect(p.state).toBe('running');
    await p.pause();
    await expect(p.pause()).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    expect(p.state).toBe('paused');
    await p.close();
    expect(() => p.resume()).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
    expect(() => p.unquarantine()).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
  });
});

describe('pause and resume', () => {
  it('queues calls made while paused and runs them on resume', async () => {
    const p = await load('echo');
    await p.pause();
    let done = false;
    const queued = p.call('echo', Buffer.from('while paused')).then((o) => { done = true; return o; });
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    expect(p.metrics().queued).toBe(1);
    p.resume();
    expect(text(await queued)).toBe('while paused');
    await p.close();
  });

  it('rejects a call queued while paused when its signal aborts', async () => {
    const p = await load('echo');
    await p.pause();
    const ac = new AbortController();
    const queued = p.call('echo', Buffer.from('x'), { signal: ac.signal });
    ac.abort();
    await expect(queued).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(p.metrics().queued).toBe(0);
    await p.close();
  });

  it('lets in-flight calls finish before pause() resolves', async () => {
    const p = await load('hostile');
    const inflight = p.call('sleep_ms', Buffer.from('100'));
    const t0 = performance.now();
    await p.pause();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(80);
    expect(text(await inflight)).toBe('slept');
    await p.close();
  });
});

describe('close and destroy', () => {
  it('close() lets in-flight calls finish within the grace period, then stops everything', async () => {
    const p = await load('hostile');
    const slow = p.call('sleep_ms', Buffer.from('100'));
    await p.close(2000);
    expect(text(await slow)).toBe('slept');
    expect(p.workerPids()).toEqual([]);
  });

  it('close() kills calls that outlive the grace period', async () => {
    const p = await load('hostile');
    const stuck = p.call('spin', Buffer.alloc(0), { timeoutMs: 60_000 });
    const t0 = performance.now();
    await p.close(100);
    expect(performance.now() - t0).toBeLessThan(1000);
    await expect(stuck).rejects.toMatchObject({ code: 'ERR_CLOSED' });
  });

  it('destroy() kills at once; in-flight calls reject with ERR_CLOSED', async () => {
    const p = await load('hostile');
    const stuck = p.call('spin', Buffer.alloc(0), { timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 20));
    await p.destroy();
    await expect(stuck).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(p.state).toBe('terminated');
  });

  it('leaves no descriptors and no plugin processes behind', async () => {
    const warm = await load('echo');  // starts the zygote so the baseline includes it
    const fds = openFds();
    const children = childPids().length;
    for (let i = 0; i < 5; i++) {
      const p = await load('echo', { pool: { size: 3 } });
      await p.call('echo', Buffer.from('x'));
      await p.close();
    }
    expect(await eventually(() => openFds() === fds)).toBe(true);
    expect(childPids().length).toBe(children);
    await warm.close();
  });
});
