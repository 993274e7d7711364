// Restart policy: a crash is replaced; a crash loop ends in quarantine; unquarantine() lifts it.
import { describe, expect, it } from 'vitest';

import { RestartPolicy } from '../lib/restart_policy';
import { load, pluginPath, sha256Of, text } from './helpers';

describe('RestartPolicy bookkeeping', () => {
  it('doubles the backoff per death in the window, with jitter within the upper half', () => {
    const p = new RestartPolicy({ maxRestarts: 10, windowMs: 1000, initialBackoffMs: 100, maxBackoffMs: 350 }, () => 1);
    expect([p.onDeath(0), p.onDeath(1), p.onDeath(2), p.onDeath(3)]).toEqual([100, 200, 350, 350]);
    const q = new RestartPolicy({ maxRestarts: 10, windowMs: 1000, initialBackoffMs: 100, maxBackoffMs: 1000 }, () => 0);
    expect(q.onDeath(0)).toBe(50);
  });

  it('quarantines when deaths in the window exceed the maximum, and forgets old ones', () => {
    const p = new RestartPolicy({ maxRestarts: 2, windowMs: 1000, initialBackoffMs: 0, maxBackoffMs: 0 });
    expect(p.onDeath(0)).toBe(0);
    expect(p.onDeath(10)).toBe(0);
    expect(p.onDeath(2000)).toBe(0);  // the first two fell out of the window
    expect(p.onDeath(2001)).toBe(0);
    expect(p.onDeath(2002)).toBe('quarantine');
  });
});

describe('a crash-looping plugin', () => {
  it('is quarantined after too many crashes; calls reject until unquarantine()', async () => {
    const p = await load('hostile', { restart: { maxRestarts: 3, windowMs: 60_000 } });
    const events: string[] = [];
    p.on('crash', (e) => events.push(`crash:${e.code}`));
    p.on('restart', () => events.push('restart'));
    p.on('quarantine', () => events.push('quarantine'));
    for (let i = 0; i < 4; i++) {
      await expect(p.call('segfault', Buffer.alloc(0))).rejects.toMatchObject({ code: 'ERR_WORKER_CRASHED' });
      if (i < 3) expect(text(await p.call('echo', Buffer.from('ok')))).toBe('ok');
    }
    expect(p.quarantined).toBe(true);
    await expect(p.call('echo', Buffer.from('x'))).rejects.toMatchObject({ code: 'ERR_QUARANTINED' });
    expect(() => p.callSync('echo', Buffer.from('x'))).toThrow(expect.objectContaining({ code: 'ERR_QUARANTINED' }));
    expect(events.filter((e) => e === 'restart')).toHaveLength(3);
    expect(events.filter((e) => e === 'crash:ERR_WORKER_CRASHED')).toHaveLength(4);
    expect(events.at(-1)).toBe('quarantine');
    expect(p.workerPids()).toEqual([]);
    p.unquarantine();
    expect(p.quarantined).toBe(false);
    expect(text(await p.call('echo', Buffer.from('back')))).toBe('back');
    await p.close();
  });

  it('leaves quarantine when a new version is loaded with upgrade()', async () => {
    const p = await load('hostile', { restart: { maxRestarts: 0 } });
    await expect(p.call('segfault', Buffer.alloc(0))).rejects.toMatchObject({ code: 'ERR_WORKER_CRASHED' });
    expect(p.quarantined).toBe(true);
    await p.upgrade(pluginPath('echo'), { trust: { sha256: sha256Of(pluginPath('echo')) } });
    expect(p.quarantined).toBe(false);
    expect(text(await p.call('upper', Buffer.from('new version')))).toBe('NEW VERSION');
    await p.close();
  });

  it('waits the backoff before replacing a crashed worker', async () => {
    const p = await load('hostile', { restart: { initialBackoffMs: 200, maxBackoffMs: 200 } });
    await expect(p.call('segfault', Buffer.alloc(0))).rejects.toMatchObject({ code: 'ERR_WORKER_CRASHED' });
    const t0 = performance.now();
    expect(text(await p.call('echo', Buffer.from('later')))).toBe('later');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(90);  // jitter keeps at least half of it
    await p.close();
  });

  it('does not count deadline kills as crashes', async () => {
    const p = await load('hostile', { restart: { maxRestarts: 1 }, limits: { timeoutMs: 50 } });
    for (let i = 0; i < 3; i++) await expect(p.call('spin', Buffer.alloc(0))).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    expect(p.quarantined).toBe(false);
    expect(text(await p.call('echo', Buffer.from('fine')))).toBe('fine');
    await p.close();
  });
});
