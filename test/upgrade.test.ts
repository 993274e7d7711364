// Activation and rollback: a new version takes traffic only after init and its health check pass;
// on any failure the old version keeps serving.
import { describe, expect, it } from 'vitest';

import { eventually, load, openFds, pluginPath, sha256Of, text, zygoteChildren } from './helpers';

const pinned = (name: string) => ({ trust: { sha256: sha256Of(pluginPath(name)) } });

describe('upgrade()', () => {
  it('switches traffic to a healthy new version', async () => {
    const p = await load('init_fail', { config: Buffer.from('ok') });
    expect(p.name).toBe('init_fail');
    const events: unknown[] = [];
    p.on('upgrade', (e) => events.push(e));
    await p.upgrade(pluginPath('echo'), { ...pinned('echo'), healthCheck: { fn: 'upper', input: Buffer.from('hc'), expect: Buffer.from('HC') } });
    expect(p.name).toBe('echo');
    expect(text(await p.call('reverse', Buffer.from('abc')))).toBe('cba');
    expect(events).toEqual([{ from: '1.0.0', to: '1.0.0' }]);
    await p.close();
  });

  it('keeps the old version serving when the new one fails init', async () => {
    const p = await load('echo');
    const fds = openFds();
    const e = await p.upgrade(pluginPath('init_fail'), { ...pinned('init_fail'), config: Buffer.from('bad') }).catch((x) => x);
    expect(e).toMatchObject({ code: 'ERR_UPGRADE_FAILED', reason: 'load' });
    expect(e.cause).toMatchObject({ code: 'ERR_INIT_FAILED' });
    expect(p.name).toBe('echo');
    expect(text(await p.call('echo', Buffer.from('old')))).toBe('old');
    expect(await eventually(() => openFds() === fds)).toBe(true);  // nothing of the failed load remains
    await p.close();
  });

  it('keeps the old version serving when the new one fails its health check', async () => {
    const p = await load('echo');
    const e = await p.upgrade(pluginPath('hostile'), { ...pinned('hostile'), healthCheck: { fn: 'segfault' } }).catch((x) => x);
    expect(e).toMatchObject({ code: 'ERR_UPGRADE_FAILED', reason: 'health-check' });
    expect(e.cause).toMatchObject({ code: 'ERR_WORKER_CRASHED' });
    const wrong = await p.upgrade(pluginPath('hostile'), { ...pinned('hostile'), healthCheck: { fn: 'echo', input: Buffer.from('a'), expect: Buffer.from('b') } }).catch((x) => x);
    expect(wrong).toMatchObject({ code: 'ERR_UPGRADE_FAILED', reason: 'health-check' });
    expect(p.name).toBe('echo');
    expect(text(await p.call('upper', Buffer.from('still old')))).toBe('STILL OLD');
    await p.close();
  });

  it('refuses a digest mismatch without touching the running version', async () => {
    const p = await load('echo');
    await expect(p.upgrade(pluginPath('hostile'), { trust: { sha256: '0'.repeat(64) } })).rejects.toMatchObject({
      code: 'ERR_UPGRADE_FAILED', cause: expect.objectContaining({ code: 'ERR_VERIFICATION_FAILED' }),
    });
    expect(text(await p.call('echo', Buffer.from('ok')))).toBe('ok');
    await p.close();
  });

  it('leaves nothing behind when a first load fails', async () => {
    const warm = await load('echo');
    const fds = openFds();
    await expect(load('init_fail', { config: Buffer.from('bad') })).rejects.toMatchObject({ code: 'ERR_INIT_FAILED' });
    await expect(load('bad_abi')).rejects.toMatchObject({ code: 'ERR_ABI_MISMATCH' });
    expect(await eventually(() => openFds() === fds)).toBe(true);
    await warm.close();
  });
});

describe('close() and destroy() during upgrade()', () => {
  it.each(['close', 'destroy'] as const)('%s() while the new version loads stops both versions; upgrade() rejects with ERR_CLOSED', async (end) => {
    const warm = await load('echo');  // the zygote is up, so its children can be counted before
    const before = zygoteChildren().length;
    const p = await load('echo', { pool: { size: 1 } });
    // A new version whose init never returns: it is loading for as long as the test likes.
    const file = pluginPath('init_fail');
    const upgrading = p.upgrade(file, { trust: { sha256: sha256Of(file) }, config: Buffer.from('hang'), pool: { size: 3 } })
      .then(() => 'upgraded', (e: { code: string }) => e.code);
    // Our plugin has its template and worker; one more child is the new version's template, in init.
    expect(await eventually(() => zygoteChildren().length > before + 2, 3000)).toBe(true);
    const t0 = performance.now();
    await (end === 'close' ? p.close(0) : p.destroy());
    expect(await upgrading).toBe('ERR_CLOSED');
    expect(performance.now() - t0).toBeLessThan(2000);  // at once, not at the 10 s load deadline
    expect(await eventually(() => zygoteChildren().length === before, 3000), `zygote children ${zygoteChildren()}, before ${before}`).toBe(true);
    await warm.close();
  });
});

describe('calls queued when upgrade() switches versions', () => {
  it('run on the new version (not ERR_CLOSED) with their abort signals; one of a function it lacks gets ERR_UNKNOWN_FUNCTION', async () => {
    const p = await load('hostile', { pool: { size: 1 } });
    await p.pause();  // calls wait in the pool's queue, not in a worker's ring
    const settle = (x: Promise<Uint8Array>) => x.then(text, (e: { code: string }) => e.code);
    const queued = [settle(p.call('echo', Buffer.from('q1'))), settle(p.call('echo', Buffer.from('q2'))),
      settle(p.call('sleep_ms', Buffer.from('1')))];
    const aborter = new AbortController();
    const aborted = settle(p.call('echo', Buffer.from('q3'), { signal: aborter.signal }));
    expect(p.metrics().queued).toBe(4);
    await p.upgrade(pluginPath('echo'), pinned('echo'));
    expect(p.name).toBe('echo');
    expect(p.metrics().queued).toBe(3);  // moved, but for the function echo lacks
    aborter.abort();  // the abort finds the call in the new version's queue
    expect(await aborted).toBe('ERR_ABORTED');
    p.resume();
    expect(await Promise.all(queued)).toEqual(['q1', 'q2', 'ERR_UNKNOWN_FUNCTION']);
    expect(p.metrics().inflight).toBe(0);
    expect(p.metrics().queued).toBe(0);
    await p.close();
  });

  it('destroy() while the old version finishes its running call kills that too: ERR_CLOSED at once, nothing left', async () => {
    const warm = await load('echo');
    const before = zygoteChildren().length;
    const p = await load('hostile', { pool: { size: 1 }, limits: { timeoutMs: 10_000 } });
    const long = p.call('sleep_ms', Buffer.from('3000')).then(text, (e: { code: string }) => e.code);
    const upgrading = p.upgrade(pluginPath('echo'), pinned('echo'));
    expect(await eventually(() => p.name === 'echo', 3000)).toBe(true);  // switched; the old one drains its call
    const t0 = performance.now();
    await p.destroy();
    expect(await long).toBe('ERR_CLOSED');
    expect(performance.now() - t0).toBeLessThan(2500);
    await upgrading;
    expect(await eventually(() => zygoteChildren().length === before, 3000), `zygote children ${zygoteChildren()}, before ${before}`).toBe(true);
    await warm.close();
  });
});
