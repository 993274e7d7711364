// budget_watch.test.ts: a running call's CPU and write budgets are watched on every path a call
// takes (callSync's fast path and its wait included), with both budgets set at once, on a worker
// serving its last calls before recycling, whatever the plugin logs meanwhile; and a write count
// the kernel hides kills the worker while its own death, if it was dying anyway, says why.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ErrorCode, type LoadOptions, type Plugin } from '../lib/index';
import { runtime } from '../lib/runtime';
import { unreadKillEndedIt } from '../lib/worker';
import { ASAN, ASAN_THREADS, bytes, load, notUnderAsan, text, threadGrant } from './helpers';

/** For tests whose plugin starts threads (not in the ASAN run). */
const withThreads = it.skipIf(ASAN);
const threaded = (name: string) => notUnderAsan(name, ASAN_THREADS);

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-budget-watch-')); });
afterAll(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

const MiB = 1 << 20;
/** A paced write of this many bytes takes about a second (64 KiB a millisecond). */
const PACED = 64 * MiB - 1;

type Outcome = { code?: string; reason?: string; message: string };
const outcome = (x: Promise<Uint8Array>): Promise<Outcome | string> => x.then(text, (e: Outcome) => e);
function syncOutcome(f: () => Uint8Array): Outcome | string {
  try {
    return text(f());
  } catch (e) {
    return e as Outcome;
  }
}

async function withPlugin(options: Omit<LoadOptions, 'trust'>, body: (p: Plugin) => Promise<void>): Promise<void> {
  const p = await load('hostile', options);
  try {
    await body(p);
    expect(text(await p.call('echo', bytes('after')))).toBe('after');  // replaced, serving
  } finally {
    await p.close();
  }
}

const writes = (extra: LoadOptions['limits'] = {}): Omit<LoadOptions, 'trust'> => ({
  policy: { fs: { write: [dir] } }, limits: { maxBytesWritten: MiB, timeoutMs: 10_000, ...extra },
});

describe.each(['call', 'callSync'] as const)('budgets on %s', (how) => {
  const run = (p: Plugin, fn: string, input: string) =>
    (how === 'call' ? outcome(p.call(fn, bytes(input))) : Promise.resolve(syncOutcome(() => p.callSync(fn, bytes(input)))));

  it('CPU: a call over its budget is killed at the budget, not let finish', async () => {
    await withPlugin({ limits: { cpuTimeMs: 50, timeoutMs: 10_000 } }, async (p) => {
      expect(await run(p, 'cpu_burn', '3000')).toMatchObject({ code: ErrorCode.CPU_LIMIT, reason: 'cpu' });
    });
  });

  it('CPU: log lines from the call do not restart its clock', async () => {
    await withPlugin({ limits: { cpuTimeMs: 100, timeoutMs: 10_000 } }, async (p) => {
      expect(await run(p, 'cpu_burn_logging', '3000')).toMatchObject({ code: ErrorCode.CPU_LIMIT, reason: 'cpu' });
    });
  });

  withThreads(threaded('CPU: counts every thread, not only the main one'), async () => {
    await withPlugin({ ...threadGrant(2), limits: { cpuTimeMs: 50, timeoutMs: 10_000 } }, async (p) => {
      expect(await run(p, 'cpu_burn_thread', '3000')).toMatchObject({ code: ErrorCode.CPU_LIMIT, reason: 'cpu' });
    });
  });

  it('CPU: held when a write budget is set too', async () => {
    await withPlugin(writes({ cpuTimeMs: 50 }), async (p) => {
      expect(await run(p, 'cpu_burn', '3000')).toMatchObject({ code: ErrorCode.CPU_LIMIT, reason: 'cpu' });
    });
  });

  it('writes: a call writing past its budget is killed while it writes, not when it answers', async () => {
    const file = path.join(dir, `${how}-paced`);
    await withPlugin(writes(), async (p) => {
      expect(await run(p, 'write_paced', `${file}:${PACED}`)).toMatchObject({ code: ErrorCode.WRITE_LIMIT, reason: 'write' });
      expect(fs.statSync(file).size).toBeLessThan(PACED / 2);
    });
  });

  it('writes: watched while the call runs when a CPU budget is set too', async () => {
    const file = path.join(dir, `${how}-paced-cpu`);
    await withPlugin(writes({ cpuTimeMs: 5000 }), async (p) => {
      expect(await run(p, 'write_paced', `${file}:${PACED}`)).toMatchObject({ code: ErrorCode.WRITE_LIMIT, reason: 'write' });
      expect(fs.statSync(file).size).toBeLessThan(PACED / 2);
    });
  });

  it('writes: a quick call over its budget fails when it answers', async () => {
    await withPlugin(writes(), async (p) => {
      expect(await run(p, 'write_big', `${path.join(dir, `${how}-quick`)}:${8 * MiB}`))
        .toMatchObject({ code: ErrorCode.WRITE_LIMIT, reason: 'write' });
    });
  });

  withThreads(threaded('writes: a worker whose main thread left while another writes (its count hidden from a non-root host) is killed'), async () => {
    const file = path.join(dir, `${how}-leader`);
    const grant = threadGrant(2);
    await withPlugin({ ...grant, ...writes(), policy: { ...grant.policy, fs: { write: [dir] } } }, async (p) => {
      expect(await run(p, 'leader_exit_write', `${file}:${PACED}`)).toMatchObject({ code: ErrorCode.WRITE_LIMIT, reason: 'write' });
      const size = fs.statSync(file).size;
      expect(size).toBeLessThan(PACED / 2);
      await new Promise((r) => setTimeout(r, 100));
      expect(fs.statSync(file).size, 'nothing writes on after the kill').toBe(size);
    });
  });
});

describe('threads left running after their call returned', () => {
  const crashes = (p: Plugin) => {
    const seen: Outcome[] = [];
    p.on('crash', (e: Outcome) => seen.push(e));
    return seen;
  };
  const until = async (pred: () => boolean) => {
    for (let i = 0; i < 300 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
    return pred();
  };

  withThreads(threaded('writes: the worker is killed while idle, and the next call never gets that error'), async () => {
    const file = path.join(dir, 'bg-write');
    await withPlugin({ ...threadGrant(2), ...writes(), policy: { threads: 2, fs: { write: [dir] } } }, async (p) => {
      const seen = crashes(p);
      expect(text(await p.call('bg_write', bytes(`${file}:${64 * MiB}`)))).toBe('started');
      await new Promise((r) => setTimeout(r, 30));  // past the budget, before the idle watch looks
      expect(text(await p.call('echo', bytes('innocent')))).toBe('innocent');
      expect(await until(() => seen.length > 0), 'a crash event').toBe(true);
      expect(seen[0]).toMatchObject({ code: ErrorCode.WRITE_LIMIT, reason: 'write' });
    });
  });

  withThreads.each(['call', 'callSync'] as const)(threaded('a call made to a worker that overran while idle, before the watch looked, goes to a replacement (%s)'), async (how) => {
    const file = path.join(dir, `bg-write-${how}`);
    await withPlugin({ ...threadGrant(2), ...writes(), policy: { threads: 2, fs: { write: [dir] } } }, async (p) => {
      expect(text(await p.call('bg_write', bytes(`${file}:${64 * MiB}`)))).toBe('started');
      const t0 = performance.now();
      while (performance.now() - t0 < 60) { /* the event loop held: the idle watch cannot look */ }
      const out = how === 'call' ? await outcome(p.call('echo', bytes('fresh'))) : syncOutcome(() => p.callSync('echo', bytes('fresh')));
      expect(out === 'fresh' || (out as Outcome).code === ErrorCode.NOT_READY, JSON.stringify(out)).toBe(true);
    });
  });
});

describe.each([1, 3, 20])('callSync on a worker that died while the event loop was held (cpuTimeMs %i)', (cpuTimeMs) => {
  withThreads(threaded('fails at once with the worker\'s own exit, not at its deadline'), async () => {
    await withPlugin({ ...threadGrant(1), limits: { cpuTimeMs, timeoutMs: 10_000 } }, async (p) => {
      expect(text(await p.call('exit_soon', bytes('20')))).toBe('started');
      const t0 = performance.now();
      while (performance.now() - t0 < 200) { /* held: the exit report cannot arrive */ }
      const t1 = performance.now();
      expect(syncOutcome(() => p.callSync('echo', bytes('x'), { timeoutMs: 2000 })))
        .toMatchObject({ code: ErrorCode.WORKER_EXITED, exitCode: 3 });
      expect(performance.now() - t1, 'settled by the death, long before the 2 s deadline').toBeLessThan(1000);
    });
  });
});

describe('a worker serving its last calls before it is recycled', () => {
  it('has its writes watched while the call runs', async () => {
    const file = path.join(dir, 'retiring');
    await withPlugin({ ...writes(), pool: { size: 1, maxCallsPerWorker: 1 } }, async (p) => {
      expect(await outcome(p.call('write_paced', bytes(`${file}:${PACED}`)))).toMatchObject({ code: ErrorCode.WRITE_LIMIT });
      expect(fs.statSync(file).size).toBeLessThan(PACED / 2);
    });
  });

  it('has its CPU budget held', async () => {
    await withPlugin({ limits: { cpuTimeMs: 50, timeoutMs: 10_000 }, pool: { size: 1, maxCallsPerWorker: 1 } }, async (p) => {
      expect(await outcome(p.call('cpu_burn', bytes('3000')))).toMatchObject({ code: ErrorCode.CPU_LIMIT });
    });
  });
});

describe('a worker dying of its own accord while its exit is not yet reported', () => {
  // The monitor (the zygote) is stopped, so the dead worker stays unreaped: the kernel hides a
  // zombie's /proc/<pid>/io from a non-root host, which then cannot tell a budget from a death.
  const hidden = process.getuid?.() !== 0;
  it(`dying of SIGXFSZ: the call gets ERR_FILE_SIZE_LIMIT, not the unreadable budget${hidden ? '' : ' (as root the count stays readable)'}`, async () => {
    const file = path.join(dir, 'fsize');
    await withPlugin(writes({ maxBytesWritten: 8 * MiB, maxFileSizeBytes: MiB }), async (p) => {
      const zygote = runtime.zygotePid()!;
      const [pid] = p.workerPids();
      process.kill(zygote, 'SIGSTOP');  // the test's own child
      let pending: Promise<Outcome | string>;
      try {
        pending = outcome(p.call('write_big', bytes(`${file}:${MiB + 1}`)));
        // Dead and unreaped: its stat line says Z.
        for (let i = 0; i < 200 && !/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'latin1')); i++) {
          await new Promise((r) => setTimeout(r, 5));
        }
        if (hidden) expect(() => fs.readFileSync(`/proc/${pid}/io`)).toThrow(/EACCES/);
        await new Promise((r) => setTimeout(r, 150));  // three looks at the count
      } finally {
        process.kill(zygote, 'SIGCONT');
      }
      expect(await pending).toMatchObject({ code: ErrorCode.FILE_SIZE_LIMIT, signal: 'SIGXFSZ' });
    });
  });

  it('decides by the wait status: only a SIGKILL with no other cause is the host\'s kill', () => {
    const KILL = os.constants.signals.SIGKILL;
    expect(unreadKillEndedIt(KILL, undefined, false)).toBe(true);
    expect(unreadKillEndedIt(null, undefined, false)).toBe(true);
    expect(unreadKillEndedIt(os.constants.signals.SIGXFSZ, undefined, false)).toBe(false);
    expect(unreadKillEndedIt(os.constants.signals.SIGSEGV | 0x80, undefined, false)).toBe(false);
    expect(unreadKillEndedIt(3 << 8, undefined, false)).toBe(false);  // exit(3)
    expect(unreadKillEndedIt(KILL, undefined, true)).toBe(false);  // the OOM killer's
    expect(unreadKillEndedIt(KILL, { nr: 0 } as never, false)).toBe(false);  // the monitor's, for a violation
  });
});
