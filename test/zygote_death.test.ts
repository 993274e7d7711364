// The zygote dying (killed from outside): calls in flight reject instead of hanging, the plugin says
// it must be reloaded, no worker survives, and the next load starts a fresh zygote.
import { describe, expect, it } from 'vitest';

import { runtime } from '../lib/runtime';
import { alive, childPids, childrenOf, eventually, load, running, text } from './helpers';

describe('zygote death', () => {
  it('rejects in-flight calls with ERR_ZYGOTE, leaves no worker behind, and recovers on the next load', async () => {
    const p = await load('hostile', { pool: { size: 2 } });
    const workers = p.workerPids();
    const zygote = runtime.zygotePid()!;
    expect(alive(zygote)).toBe(true);
    const inflight = p.call('sleep_ms', Buffer.from('5000'), { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 20));
    process.kill(zygote, 'SIGKILL');  // the test's own child: nothing else is touched
    await expect(inflight).rejects.toMatchObject({ code: 'ERR_ZYGOTE' });
    expect(await eventually(() => workers.every((pid) => !alive(pid)), 2000)).toBe(true);
    await expect(p.call('echo', Buffer.from('x'))).rejects.toMatchObject({ code: 'ERR_ZYGOTE' });
    await p.close();

    const again = await load('echo');
    expect(runtime.zygotePid()).not.toBe(zygote);
    expect(text(await again.call('echo', Buffer.from('fresh zygote')))).toBe('fresh zygote');
    await again.close();
    expect(childPids()).toEqual([runtime.zygotePid()]);
  });

  it('during loads: every waiting load rejects with ERR_ZYGOTE and no process of any plugin survives', async () => {
    const warm = await load('echo');
    const zygote = runtime.zygotePid()!;
    const descendants = new Set<number>();
    const collect = (pid: number) => { for (const c of childrenOf(pid)) { descendants.add(c); collect(c); } };
    const settle = (x: Promise<{ close(): Promise<void> }>) =>
      x.then(async (p) => { await p.close(); return 'loaded'; }, (e: { code: string }) => e.code);
    // Loads racing the kill (some may finish first), and two whose init() never returns, so
    // that however slow this machine, loads are still waiting when the zygote dies.
    const racing = Array.from({ length: 6 }, (_, i) => settle(load(i % 2 ? 'hostile' : 'echo', { pool: { size: 4 } })));
    const waiting = Array.from({ length: 2 }, () => settle(load('init_fail', { config: Buffer.from('hang'), loadTimeoutMs: 20_000 })));
    // Kill while templates and workers are starting, once some exist.
    expect(await eventually(() => { collect(zygote); return descendants.size >= 4; }, 3000)).toBe(true);
    collect(zygote);
    process.kill(zygote, 'SIGKILL');  // the test's own child
    for (const o of await Promise.all(racing)) expect(['ERR_ZYGOTE', 'loaded']).toContain(o);
    expect(await Promise.all(waiting)).toEqual(['ERR_ZYGOTE', 'ERR_ZYGOTE']);
    const survivors = () => [...descendants].filter(running);
    expect(await eventually(() => survivors().length === 0, 3000), `still running: ${survivors()}`).toBe(true);
    await warm.close();
    const again = await load('echo');
    expect(text(await again.call('echo', Buffer.from('after')))).toBe('after');
    await again.close();
  });
});
