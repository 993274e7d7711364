// rogue_template.test.ts: a template that takes its control socket over from init() and plays the
// monitor's counterpart itself (plugins/hostile/rogue_template.c). Each mode once beat the monitor;
// each must now end in its exact outcome with nothing of the plugin left, whatever happens to the
// host.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BulkheadError, ErrorCode, type Plugin } from '../lib/index';
import { ASAN, ASAN_THREADS, eventually, load, notUnderAsan, openFds, pluginPath, sha256Of, threadGrant } from './helpers';
import { Host, installSignalCounter, rejectionOf } from './invariants';

const signals = installSignalCounter();
const host = new Host(signals);

beforeAll(() => host.start());
afterAll(() => host.stop());

/** Pids of processes the fixture's stand-in workers named themselves as. */
function standIns(): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'bhrt_orphan') out.push(Number(d));
    } catch { /* gone */ }
  }
  return out;
}

function rogue(config: string, extra: object = {}): Promise<Plugin> {
  return load('rogue_template', { config: Buffer.from(config), pool: { size: 1 }, loadTimeoutMs: 1000, ...extra });
}

async function assertNothingLeft(fds0: number): Promise<void> {
  expect(await eventually(() => standIns().length === 0, 3000), `stand-in workers left: ${standIns()}`).toBe(true);
  await host.assertHostIntact();
  await host.assertReleased(fds0);
}

describe('a template that serves spawn requests itself', () => {
  it('a stand-in worker that never serves makes the load fail at its deadline, and is killed', async () => {
    const fds0 = openFds();
    const t0 = performance.now();
    const e = await rejectionOf(rogue('orphan'));
    expect(e.code).toBe(ErrorCode.LOAD_FAILED);
    expect(e.reason).toBe('timeout');
    expect(performance.now() - t0).toBeLessThan(5000);  // the fixture's own life is 20 s
    await assertNothingLeft(fds0);
  });

  it('no plugin process outlives a host killed by SIGKILL (the pid namespace dies with the zygote)', async () => {
    const script = `
      const { loadPlugin } = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'index.ts'))});
      loadPlugin(${JSON.stringify(pluginPath('rogue_template'))}, {
        trust: { sha256: ${JSON.stringify(sha256Of(pluginPath('rogue_template')))} },
        config: Buffer.from('orphan'), pool: { size: 1 }, loadTimeoutMs: 15000,
      }).catch(() => {});
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: 'ignore' });
    try {
      expect(await eventually(() => standIns().length > 0, 8000), 'the stand-in worker started').toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
    expect(await eventually(() => standIns().length === 0, 3000), `stand-in workers left: ${standIns()}`).toBe(true);
  });

  it('mapping a worker\'s shared region executable after the load is a violation of the template', async () => {
    const fds0 = openFds();
    const e = await rejectionOf(rogue('wx'));
    expect(e.code, e.message).toBe(ErrorCode.SANDBOX_VIOLATION);
    expect(e.syscall).toBe('mmap');
    await assertNothingLeft(fds0);
  });

  it('a template that stops reading its socket never blocks the monitor: its load fails, others load', async () => {
    const fds0 = openFds();
    const frozen = rogue('freeze');
    const other = await load('echo');
    try {
      expect(Buffer.from(await other.call('echo', Buffer.from('alive'))).toString()).toBe('alive');
    } finally {
      await other.close();
    }
    const e = await rejectionOf(frozen);
    expect(e.code).toBe(ErrorCode.LOAD_FAILED);
    await assertNothingLeft(fds0);
  });
});

describe('a template after its load', () => {
  it.skipIf(ASAN)(notUnderAsan('a violation by a template thread fails the plugin with that violation, never another plugin',
    ASAN_THREADS), async () => {
    const fds0 = openFds();
    const p = await rogue('tviol', threadGrant(1));
    try {
      // The template's thread makes its forbidden call 300 ms after init; everything of it dies.
      let last: unknown;
      const failed = await eventually(() => {
        p.call('noop', new Uint8Array(0)).then(() => { last = undefined; }, (err: unknown) => { last = err; });
        return last instanceof BulkheadError && last.code === ErrorCode.SANDBOX_VIOLATION;
      }, 4000);
      expect(failed, `last outcome: ${String(last)}`).toBe(true);
      expect((last as BulkheadError).syscall).toBe('socket');
      // Another plugin's crash is its own crash, not the template's violation.
      const h = await load('hostile');
      try {
        const crash = await rejectionOf(h.call('segfault', new Uint8Array(0)));
        expect(crash.code).toBe(ErrorCode.WORKER_CRASHED);
        expect(crash.syscall).toBeUndefined();
      } finally {
        await h.close();
      }
    } finally {
      await p.close();
    }
    await assertNothingLeft(fds0);
  });

  it('a filter the plugin stacks itself may refuse a call quietly: it can only tighten (documented)', async () => {
    const e = await rejectionOf(rogue('errno'));
    expect(e.code).toBe(ErrorCode.INIT_FAILED);
    expect(e.message).toMatch(/filter=0 socket=- P$/);
  });
});
