// kill_attribution.test.ts: a kill aimed at one call (its deadline, an abort, its CPU or write
// budget) settles that call with its own code and no other: the calls on the same worker's ring
// behind it are retried when idempotent and otherwise get ERR_WORKER_LOST, never the killed call's
// error or output.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ErrorCode, type CallOptions, type LoadOptions } from '../lib/index';
import { bytes, load, text } from './helpers';

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-attribution-')); });
afterAll(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

interface Cause {
  code: string;
  options: () => Omit<LoadOptions, 'trust'>;
  /** The call the kill is aimed at. */
  head: () => { fn: string; input: Uint8Array; options?: CallOptions; after?: () => void };
}

const CAUSES: Record<string, Cause> = {
  deadline: {
    code: ErrorCode.TIMEOUT,
    options: () => ({}),
    head: () => ({ fn: 'spin', input: bytes(''), options: { timeoutMs: 200 } }),
  },
  abort: {
    code: ErrorCode.ABORTED,
    options: () => ({}),
    head: () => {
      const ac = new AbortController();
      return { fn: 'spin', input: bytes(''), options: { signal: ac.signal }, after: () => setTimeout(() => ac.abort(), 100) };
    },
  },
  'CPU budget': {
    code: ErrorCode.CPU_LIMIT,
    options: () => ({ limits: { cpuTimeMs: 50, timeoutMs: 10_000 } }),
    head: () => ({ fn: 'cpu_burn', input: bytes('5000') }),
  },
  'write budget': {
    code: ErrorCode.WRITE_LIMIT,
    options: () => ({ policy: { fs: { write: [dir] } }, limits: { maxBytesWritten: 1 << 20, timeoutMs: 10_000 } }),
    head: () => ({ fn: 'write_big', input: bytes(`${path.join(dir, 'out.bin')}:${64 << 20}`) }),
  },
};

describe.each(Object.keys(CAUSES))('a kill for the %s of one call', (name) => {
  it('settles only that call; the calls behind it on the ring are retried (idempotent) or get ERR_WORKER_LOST', async () => {
    const cause = CAUSES[name];
    const p = await load('hostile', { pool: { size: 1 }, ...cause.options() });
    try {
      const h = cause.head();
      const settle = (x: Promise<Uint8Array>) => x.then(text, (e: { code: string }) => e.code);
      const head = settle(p.call(h.fn, h.input, h.options));
      const behind = Array.from({ length: 6 }, (_, i) =>
        settle(p.call('echo', bytes(`behind-${i}`), { timeoutMs: 10_000, idempotent: i % 2 === 1 })));
      expect(p.metrics().queued, 'the calls wait on the worker\'s ring, not in the pool').toBe(0);
      h.after?.();
      expect(await head).toBe(cause.code);
      expect(await Promise.all(behind)).toEqual(Array.from({ length: 6 }, (_, i) =>
        (i % 2 === 1 ? `behind-${i}` : ErrorCode.WORKER_LOST)));
      expect(text(await p.call('echo', bytes('next')))).toBe('next');
      expect(p.metrics().inflight).toBe(0);
    } finally {
      await p.close();
    }
  });
});

describe('a call rejected at its deadline while it waited behind another', () => {
  it('that hangs once the worker reaches it gets the worker killed: the calls behind it settle at once, not at their own deadlines', async () => {
    const p = await load('hostile', { pool: { size: 1 } });
    try {
      const settle = (x: Promise<Uint8Array>) => x.then(text, (e: { code: string }) => e.code);
      const ahead = settle(p.call('sleep_ms', bytes('300'), { timeoutMs: 2000 }));
      const abandoned = settle(p.call('spin', bytes(''), { timeoutMs: 100 }));  // expires behind `ahead`
      const t0 = performance.now();
      const lost = settle(p.call('echo', bytes('lost'), { timeoutMs: 10_000 }));
      const retried = settle(p.call('echo', bytes('retried'), { timeoutMs: 10_000, idempotent: true }));
      expect(await abandoned).toBe(ErrorCode.TIMEOUT);
      expect(await ahead).toBe('slept');
      expect(await lost).toBe(ErrorCode.WORKER_LOST);
      expect(await retried).toBe('retried');
      expect(performance.now() - t0).toBeLessThan(3000);  // not the 10 s deadlines behind it
      expect(text(await p.call('echo', bytes('next')))).toBe('next');
    } finally {
      await p.close();
    }
  });
});

describe('a call aborted while it waited behind another', () => {
  it('that hangs once the worker reaches it gets the worker killed after the grace, not at its own deadline', async () => {
    const p = await load('hostile', { pool: { size: 1 } });
    try {
      const settle = (x: Promise<Uint8Array>) => x.then(text, (e: { code: string }) => e.code);
      const ahead = settle(p.call('sleep_ms', bytes('300'), { timeoutMs: 2000 }));
      const ac = new AbortController();
      const aborted = settle(p.call('spin', bytes(''), { timeoutMs: 30_000, signal: ac.signal }));
      const t0 = performance.now();
      const behind = settle(p.call('echo', bytes('behind'), { timeoutMs: 30_000, idempotent: true }));
      setTimeout(() => ac.abort(), 50);
      expect(await aborted).toBe(ErrorCode.ABORTED);
      expect(await ahead).toBe('slept');
      expect(await behind).toBe('behind');  // retried on the replacement
      expect(performance.now() - t0).toBeLessThan(3000);  // not the aborted call's 30 s
    } finally {
      await p.close();
    }
  });
});

describe('a quick call aborted or rejected while it waited behind a slow one', () => {
  it.each(['abort', 'deadline'] as const)('(by %s) runs when the worker reaches it and costs nobody anything: the worker lives, the call behind it is served', async (how) => {
    const p = await load('hostile', { pool: { size: 1 } });
    try {
      const settle = (x: Promise<Uint8Array>) => x.then(text, (e: { code: string }) => e.code);
      const ahead = settle(p.call('sleep_ms', bytes('300'), { timeoutMs: 2000 }));
      const ac = new AbortController();
      const quick = settle(p.call('sleep_ms', bytes('5'), how === 'abort' ? { signal: ac.signal } : { timeoutMs: 100 }));
      const behind = settle(p.call('echo', bytes('behind'), { timeoutMs: 5000 }));  // not idempotent
      const pid = p.workerPids()[0];
      if (how === 'abort') setTimeout(() => ac.abort(), 50);
      expect(await quick).toBe(how === 'abort' ? ErrorCode.ABORTED : ErrorCode.TIMEOUT);
      expect(await ahead).toBe('slept');
      expect(await behind).toBe('behind');
      expect(p.workerPids()).toEqual([pid]);
    } finally {
      await p.close();
    }
  });
});
