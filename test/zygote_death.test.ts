// The zygote dying (killed from outside): calls in flight reject instead of hanging, the plugin says
// it must be reloaded, no worker survives, and the next load starts a fresh zygote.
import { describe, expect, it } from 'vitest';

import { runtime } from '../lib/runtime';
import { alive, childPids, eventually, load, text } from './helpers';

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
});
