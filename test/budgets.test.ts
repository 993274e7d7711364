// Resource budgets: each one enforced by the kernel where it can be, each with its own outcome, and
// after each the host's descriptors and child processes are back where they were.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { capabilities, type Plugin } from '../lib/index';
import { cgroupSupport as probeCgroups } from '../lib/capabilities';
import { ASAN, ASAN_THREADS, bytes, childPids, eventually, load, notUnderAsan, openFds, text } from './helpers';

const cg = probeCgroups();
let fds0 = 0;
let children0 = 0;
let canary: Plugin;

beforeAll(async () => {
  canary = await load('echo');  // starts the zygote, so the baseline includes it
  fds0 = openFds();
  children0 = childPids().length;
});

afterAll(async () => {
  await canary?.close();
});

/** Loads hostile with `options`, runs `body`, closes, and checks the host is as it was. */
async function withHostile(options: Parameters<typeof load>[1], body: (p: Plugin) => Promise<void>): Promise<void> {
  const p = await load('hostile', options);
  try {
    await body(p);
  } finally {
    await p.close();
  }
  expect(text(await canary.call('echo', Buffer.from('canary')))).toBe('canary');
  expect(await eventually(() => openFds() === fds0)).toBe(true);
  expect(childPids().length).toBe(children0);
}

describe('memory', () => {
  it.runIf(cg.memory !== null)('kills a memory bomb at the cgroup limit with ERR_MEMORY_LIMIT (not the host)', async () => {
    await withHostile({ limits: { memoryMiB: 96 } }, async (p) => {
      const e = await p.call('alloc_bomb', Buffer.from('4096')).catch((x) => x);
      expect(e).toMatchObject({ code: 'ERR_MEMORY_LIMIT', reason: 'memory', signal: 'SIGKILL', fn: 'alloc_bomb' });
      expect(text(await p.call('echo', Buffer.from('replaced')))).toBe('replaced');
    });
  });

  it.runIf(cg.memory === null && !ASAN)(notUnderAsan('stops a memory bomb at the address-space cap (runs only without a memory cgroup)',
    'its shadow memory takes terabytes of address space, so the ASAN zygote applies no RLIMIT_AS'), async () => {
    await withHostile({ limits: { memoryMiB: 96 } }, async (p) => {
      const got = Number(text(await p.call('alloc_bomb', Buffer.from('4096'))));
      expect(got).toBeLessThan(4096);
    });
  });

  it('contains unbounded recursion as a SIGSEGV crash of that worker only', async () => {
    await withHostile({}, async (p) => {
      await expect(p.call('stack_overflow', Buffer.alloc(0))).rejects.toMatchObject({ code: 'ERR_WORKER_CRASHED', signal: 'SIGSEGV' });
    });
  });
});

describe('CPU', () => {
  it('rejects a call that burns more CPU than limits.cpuTimeMs with ERR_CPU_LIMIT', async () => {
    await withHostile({ limits: { cpuTimeMs: 50, timeoutMs: 10_000 } }, async (p) => {
      const t0 = performance.now();
      const e = await p.call('cpu_burn', Buffer.from('5000')).catch((x) => x);
      expect(e).toMatchObject({ code: 'ERR_CPU_LIMIT', reason: 'cpu', fn: 'cpu_burn' });
      expect(performance.now() - t0).toBeLessThan(2000);
      expect(text(await p.call('cpu_burn', Buffer.from('5')))).toBe('burned');  // within budget
    });
  });

  it('does not count time a call spends sleeping against its CPU budget', async () => {
    await withHostile({ limits: { cpuTimeMs: 20, timeoutMs: 10_000 } }, async (p) => {
      expect(text(await p.call('sleep_ms', Buffer.from('150')))).toBe('slept');
    });
  });

  it.runIf(cg.cpu !== null)('throttles a worker to limits.cpuQuotaPercent through the cgroup cpu controller', async () => {
    await withHostile({ limits: { cpuQuotaPercent: 20, timeoutMs: 10_000 } }, async (p) => {
      const t0 = performance.now();
      expect(text(await p.call('cpu_burn', Buffer.from('100')))).toBe('burned');
      // 100 ms of CPU at 20% of a core needs about 500 ms of wall time.
      expect(performance.now() - t0).toBeGreaterThan(300);
    });
  });

  it('times out a worker that stops itself (SIGSTOP uses no CPU, so only the wall deadline catches it)', async () => {
    await withHostile({ limits: { timeoutMs: 200 } }, async (p) => {
      await expect(p.call('stop_self', Buffer.alloc(0))).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
      expect(text(await p.call('echo', Buffer.from('next')))).toBe('next');
    });
  });
});

describe('processes, threads and descriptors', () => {
  it('refuses every fork of a fork bomb with EPERM', async () => {
    await withHostile({}, async (p) => {
      expect(text(await p.call('fork_bomb', Buffer.alloc(0)))).toMatch(/^forks ok 0 failed \d+/);
    });
  });

  it.skipIf(ASAN)(notUnderAsan(`bounds a thread bomb at exactly the threads the policy grants (the monitor's count${cg.pids ? ', and the pids cgroup' : ', no pids cgroup here'})`,
    ASAN_THREADS), async () => {
    await withHostile({ policy: { threads: 4 } }, async (p) => {
      expect(Number(text(await p.call('thread_bomb', Buffer.alloc(0))))).toBe(4);
      await new Promise((r) => setTimeout(r, 1200));  // the bomb's threads end: room again
      expect(Number(text(await p.call('thread_bomb', Buffer.alloc(0))))).toBe(4);
    });
  });

  it.skipIf(ASAN)(notUnderAsan('gives a grant\'s every thread to threads that start threads (a chain of 4 under a grant of 4; 5 asked, 4 made)',
    ASAN_THREADS), async () => {
    await withHostile({ policy: { threads: 4 } }, async (p) => {
      expect(text(await p.call('thread_chain', bytes('4')))).toBe('4');
      expect(text(await p.call('thread_chain', bytes('5')))).toBe('4');
    });
  });

  it.skipIf(ASAN)(notUnderAsan('bounds threads that many threads start at once at the grant (concurrent clones never pass it)',
    ASAN_THREADS), async () => {
    await withHostile({ policy: { threads: 6 } }, async (p) => {
      const made = Number(text(await p.call('thread_storm', Buffer.alloc(0))));
      expect(made).toBeGreaterThan(0);
      expect(made).toBeLessThanOrEqual(6);
    });
  });

  it('refuses every thread of a thread bomb without a grant', async () => {
    await withHostile({}, async (p) => {
      expect(Number(text(await p.call('thread_bomb', Buffer.alloc(0))))).toBe(0);
    });
  });

  it('caps open descriptors at limits.maxOpenFiles (EMFILE inside the worker only)', async () => {
    await withHostile({ limits: { maxOpenFiles: 32 } }, async (p) => {
      const [count, err] = text(await p.call('fd_bomb', Buffer.alloc(0))).split(' ');
      expect(err).toBe('EMFILE');
      expect(Number(count)).toBeLessThan(32);
    });
  });

  it('rejects output past limits.maxOutputBytes with ERR_OUTPUT_LIMIT', async () => {
    await withHostile({ limits: { maxOutputBytes: 1 << 20 } }, async (p) => {
      await expect(p.call('big_output', Buffer.from(String(2 << 20)))).rejects.toMatchObject({ code: 'ERR_OUTPUT_LIMIT' });
      expect((await p.call('big_output', Buffer.from(String(1 << 20)))).byteLength).toBe(1 << 20);
    });
  });
});

describe('bytes written', () => {
  it('kills a worker that writes past limits.maxBytesWritten with ERR_WRITE_LIMIT; within it, writes work', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulkhead-wbudget-'));
    try {
      await withHostile({ policy: { fs: { write: [dir] } }, limits: { maxBytesWritten: 2 << 20 } }, async (p) => {
        const file = path.join(dir, 'out.bin');
        expect(text(await p.call('write_big', Buffer.from(`${file}:${1 << 20}`)))).toBe(`wrote ${1 << 20}`);
        const e = await p.call('write_big', Buffer.from(`${file}:${4 << 20}`)).catch((x) => x);
        expect(e).toMatchObject({ code: 'ERR_WRITE_LIMIT', reason: 'write', fn: 'write_big' });
        expect(text(await p.call('echo', Buffer.from('replaced')))).toBe('replaced');
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('load', () => {
  it('kills an init() that hangs at loadTimeoutMs and reports it, leaving nothing behind', async () => {
    const t0 = performance.now();
    await expect(load('init_fail', { config: Buffer.from('hang'), loadTimeoutMs: 300 })).rejects.toMatchObject({
      code: 'ERR_LOAD_FAILED', reason: 'timeout',
    });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(await eventually(() => openFds() === fds0)).toBe(true);
    expect(await eventually(() => childPids().length === children0)).toBe(true);
  });
});

describe('posture', () => {
  it('reports each cgroup controller it can use, or the gap, in capabilities()', () => {
    const caps = capabilities();
    expect(caps.cgroups).toEqual(cg);
    for (const c of ['memory', 'pids', 'cpu'] as const) {
      expect(caps.gaps.some((g) => g.startsWith(`no ${c} cgroup`))).toBe(cg[c] === null);
    }
    if (!cg.memory || !cg.pids || !cg.cpu) expect(cg.reasons.length).toBeGreaterThan(0);
  });
});
