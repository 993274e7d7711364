// Per-worker cgroups: what the probe finds, and that memory, CPU and pids limits, killAll and cleanup
// hold against real child processes. Needs root or a delegated cgroup; skips what the machine lacks.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { probeCgroups, reapStaleCgroups, removeHostCgroups, WorkerCgroup } from '../lib/cgroup';
import { isBulkheadError } from '../lib/errors';

const support = probeCgroups();
const anyHierarchy = support.memory !== null || support.cpu !== null || support.pids !== null || support.killSupported;
const skip = (what: string) => `(skipped: no writable ${what})`;

// Everything a test starts, undone after it even when it fails.
const children: ChildProcess[] = [];
const groups: WorkerCgroup[] = [];

afterEach(async () => {
  for (const g of groups) g.killAll();
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await once(c, 'exit');
    }
  }
  for (const g of groups.splice(0)) expect(g.remove()).toBe(true);
});

afterAll(() => {
  expect(removeHostCgroups()).toBe(true);
});

function group(label: string, limits: Parameters<typeof WorkerCgroup.create>[1] = {}): WorkerCgroup {
  const g = WorkerCgroup.create(label, limits);
  groups.push(g);
  return g;
}

interface Child {
  proc: ChildProcess;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout: () => string;
}

function track(proc: ChildProcess): Child {
  children.push(proc);
  let out = '';
  proc.stdout?.on('data', (b: Buffer) => { out += b.toString(); });
  const exit = once(proc, 'exit').then(([code, signal]) => ({ code, signal }));
  return { proc, exit, stdout: () => out };
}

/** A node child that prints "ready", waits for a line on stdin, then runs `body`: so it can be put in
 *  its cgroup after its own start-up and before the work under test. */
async function held(body: string): Promise<Child> {
  const script = `process.stdin.once('data', async () => { ${body} }); console.log('ready');`;
  const c = track(spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] }));
  await new Promise<void>((resolve, reject) => {
    c.proc.stdout!.on('data', () => { if (c.stdout().includes('ready')) resolve(); });
    c.proc.once('exit', () => reject(new Error(`child exited before it was ready: ${c.stdout()}`)));
  });
  return c;
}

function release(c: Child): void {
  c.proc.stdin!.write('go\n');
}

function sleeper(): Child {
  return track(spawn('sleep', ['30'], { stdio: 'ignore' }));
}

function hostOomKills(): number {
  const dir = support.dirs.memory!;
  const text = fs.readFileSync(path.join(dir, support.memory === 'v2' ? 'memory.events' : 'memory.oom_control'), 'utf8');
  return Number(/^oom_kill (\d+)$/m.exec(text)?.[1] ?? 0);
}

describe('probeCgroups()', () => {
  const own = fs.readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n').map((l) => {
    const [id, controllers, ...rest] = l.split(':');
    return { id, controllers: controllers.split(','), path: rest.join(':') };
  });

  it('agrees with /proc/self/cgroup for each controller, and says why where none is usable', () => {
    expect(probeCgroups()).toBe(support);
    for (const c of ['memory', 'cpu', 'pids'] as const) {
      const v = support[c];
      const dir = support.dirs[c];
      if (v === null) {
        expect(dir).toBeNull();
        expect(support.reasons.some((r) => r.startsWith(`${c}:`))).toBe(true);
        continue;
      }
      const line = v === 'v1' ? own.find((l) => l.id !== '0' && l.controllers.includes(c))
        : own.find((l) => l.id === '0' && l.controllers[0] === '');
      expect(line).toBeDefined();
      expect(dir!.endsWith(line!.path === '/' ? '' : line!.path)).toBe(true);
      expect(fs.statSync(dir!).isDirectory()).toBe(true);
      if (v === 'v2') expect(fs.readFileSync(path.join(dir!, 'cgroup.controllers'), 'utf8')).toContain(c);
    }
    if (support.killSupported) expect(own.some((l) => l.id === '0')).toBe(true);
    else expect(support.reasons.some((r) => r.startsWith('cgroup.kill:'))).toBe(true);
  });

  it('leaves no trial directories behind', () => {
    for (const dir of Object.values(support.dirs)) {
      if (dir !== null) expect(fs.existsSync(path.join(dir, `bulkhead-${process.pid}`))).toBe(false);
    }
  });
});

describe('WorkerCgroup.create()', () => {
  it('rejects bad labels and limits with ERR_INVALID_ARGUMENT', () => {
    const bad: Array<[unknown, unknown]> = [
      ['', {}], ['Upper', {}], ['a_b', {}], ['../x', {}], ['a/b', {}], ['x'.repeat(65), {}], [7, {}],
      ['ok', { memoryBytes: -1 }], ['ok', { memoryBytes: 1.5 }], ['ok', { memoryBytes: '64M' }],
      ['ok', { cpuQuotaPercent: 0 }], ['ok', { cpuQuotaPercent: NaN }], ['ok', { pidsMax: 0 }],
      ['ok', { pidsMax: 2 ** 23 }], ['ok', { memroyBytes: 1 << 20 }], ['ok', null], ['ok', [1]],
    ];
    for (const [label, limits] of bad) {
      let caught: unknown;
      try {
        group(label as string, limits as object);
      } catch (e) {
        caught = e;
      }
      expect(isBulkheadError(caught, 'ERR_INVALID_ARGUMENT'), `${String(label)} ${JSON.stringify(limits)}`).toBe(true);
      expect((caught as Error).message).toMatch(/^Expected .+ for .+ but received .+/);
    }
    expect(groups).toHaveLength(0);
  });

  it.runIf(anyHierarchy)(`rejects a label already in use and leaves the first group intact ${anyHierarchy ? '' : skip('cgroup')}`, () => {
    const first = group('dup');
    expect(() => WorkerCgroup.create('dup', {})).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    for (const dir of first.dirs) expect(fs.existsSync(dir)).toBe(true);
  });

  it('applies exactly the limits whose controller the probe found, and they read back', () => {
    const g = group('limits', { memoryBytes: 64 << 20, cpuQuotaPercent: 25, pidsMax: 16 });
    expect(g.limitsApplied).toEqual({ memory: support.memory !== null, cpu: support.cpu !== null, pids: support.pids !== null });
    const readIn = (dir: string | null, file: string) =>
      fs.readFileSync(path.join(dir!, `bulkhead-${process.pid}`, 'limits', file), 'utf8').trim();
    if (support.memory === 'v1') expect(readIn(support.dirs.memory, 'memory.limit_in_bytes')).toBe(String(64 << 20));
    if (support.memory === 'v2') expect(readIn(support.dirs.memory, 'memory.max')).toBe(String(64 << 20));
    if (support.cpu === 'v1') expect(readIn(support.dirs.cpu, 'cpu.cfs_quota_us')).toBe('25000');
    if (support.cpu === 'v2') expect(readIn(support.dirs.cpu, 'cpu.max')).toBe('25000 100000');
    if (support.pids !== null) expect(readIn(support.dirs.pids, 'pids.max')).toBe('16');
  });

  it('asks for nothing, enforces nothing', () => {
    expect(group('none').limitsApplied).toEqual({ memory: false, cpu: false, pids: false });
  });
});

describe('limits against real processes', () => {
  it.runIf(support.memory !== null)(`a child over its memory limit is OOM-killed, and the host is not ${support.memory ? '' : skip('memory controller')}`, async () => {
    const hostKillsBefore = hostOomKills();
    const g = group('oom', { memoryBytes: 64 << 20 });
    const c = await held(`
      const keep = [];
      for (let i = 0; i < 128; i++) keep.push(Buffer.alloc(8 << 20, i + 1));
      console.log('survived');`);
    g.addPid(c.proc.pid!);
    release(c);
    const { signal } = await c.exit;
    expect(signal).toBe('SIGKILL');
    expect(c.stdout()).not.toContain('survived');
    expect(g.oomKills()).toBeGreaterThanOrEqual(1);
    const peak = g.memoryPeakBytes();
    if (peak !== null) expect(peak).toBeLessThanOrEqual(64 << 20);
    expect(hostOomKills()).toBe(hostKillsBefore);
    expect(Buffer.alloc(128 << 20, 1).at(-1)).toBe(1);
  });

  it.runIf(support.cpu !== null)(`a child spinning under a 10% quota gets well under half the wall time ${support.cpu ? '' : skip('cpu controller')}`, async () => {
    const g = group('cpu', { cpuQuotaPercent: 10 });
    const c = await held(`const end = Date.now() + 1000; while (Date.now() < end); process.exit(0);`);
    g.addPid(c.proc.pid!);
    const start = process.hrtime.bigint();
    release(c);
    expect((await c.exit).code).toBe(0);
    const wallNs = Number(process.hrtime.bigint() - start);
    const used = g.cpuUsageNs();
    expect(used).not.toBeNull();
    expect(used!).toBeGreaterThan(0);
    expect(used!).toBeLessThan(0.5 * wallNs);
  });

  it.runIf(support.pids !== null)(`a child capped at 4 pids cannot start 10 processes ${support.pids ? '' : skip('pids controller')}`, async () => {
    const g = group('pids', { pidsMax: 4 });
    const c = await held(`
      const { spawn } = require('node:child_process');
      const kids = [];
      for (let i = 0; i < 10; i++) {
        try {
          const k = spawn('sleep', ['5'], { stdio: 'ignore' });
          if (await new Promise((r) => { k.once('spawn', () => r(true)); k.once('error', () => r(false)); })) kids.push(k);
        } catch {}
      }
      console.log('started ' + kids.length);
      for (const k of kids) k.kill('SIGKILL');
      process.exit(0);`);
    g.addPid(c.proc.pid!);
    release(c);
    await c.exit;
    const started = Number(/started (\d+)/.exec(c.stdout())?.[1] ?? 0);
    expect(started).toBeLessThan(10);
    const refused = g.pidsEvents();
    if (refused !== null) expect(refused).toBeGreaterThanOrEqual(1);
  });
});

describe('killAll() and remove()', () => {
  it.runIf(anyHierarchy)(`killAll() kills a sleeping child and its descendants ${anyHierarchy ? '' : skip('cgroup')}`, async () => {
    const g = group('killall');
    const c = track(spawn('sh', ['-c', 'read go; sleep 30 & sleep 30 & wait'], { stdio: ['pipe', 'ignore', 'ignore'] }));
    g.addPid(c.proc.pid!);
    c.proc.stdin!.write('go\n');  // only now, so the two sleeps inherit the cgroup
    const procs = () => fs.readFileSync(path.join(g.dirs[0], 'cgroup.procs'), 'utf8').trim().split('\n');
    for (let i = 0; i < 200 && procs().length < 3; i++) await new Promise((r) => setTimeout(r, 5));
    expect(procs()).toHaveLength(3);
    g.killAll();
    expect((await c.exit).signal).toBe('SIGKILL');
    expect(g.remove()).toBe(true);
  });

  it.runIf(anyHierarchy)(`killAll() without cgroup.kill signals each listed pid ${anyHierarchy ? '' : skip('cgroup')}`, async () => {
    const g = group('killall-v1');
    // The fallback a v1-only kernel takes; reached here by hiding the v2 directory from the instance.
    (g as unknown as { killDir: string | undefined }).killDir = undefined;
    const bystander = sleeper();
    const c = sleeper();
    g.addPid(c.proc.pid!);
    g.killAll();
    expect((await c.exit).signal).toBe('SIGKILL');
    expect(bystander.proc.exitCode === null && bystander.proc.signalCode === null).toBe(true);
  });

  it.runIf(anyHierarchy)(`remove() right after killAll() waits for the dying process and leaves nothing ${anyHierarchy ? '' : skip('cgroup')}`, () => {
    const g = group('remove');
    g.addPid(sleeper().proc.pid!);
    g.killAll();
    expect(g.remove()).toBe(true);
    for (const dir of g.dirs) expect(fs.existsSync(dir)).toBe(false);
    expect(g.remove()).toBe(true);
  });

  it.runIf(anyHierarchy)(`remove() of a group with a live process returns false instead of throwing ${anyHierarchy ? '' : skip('cgroup')}`, () => {
    const g = group('busy');
    g.addPid(sleeper().proc.pid!);
    expect(g.remove()).toBe(false);
    expect(g.dirs.every((d) => fs.existsSync(d))).toBe(true);
  });

  it.runIf(anyHierarchy)(`addPid() of a pid that no longer exists throws ERR_SANDBOX_UNAVAILABLE ${anyHierarchy ? '' : skip('cgroup')}`, async () => {
    const g = group('gone');
    const c = track(spawn('true'));
    await c.exit;
    expect(() => g.addPid(c.proc.pid!)).toThrow(expect.objectContaining({ code: 'ERR_SANDBOX_UNAVAILABLE' }));
    expect(() => g.addPid(0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});

describe('host-level cleanup', () => {
  it.runIf(anyHierarchy)(`reapStaleCgroups() removes empty directories of dead hosts only ${anyHierarchy ? '' : skip('cgroup')}`, async () => {
    const roots = group('reap').dirs.map((d) => path.dirname(path.dirname(d)));
    const dead = track(spawn('true'));
    await dead.exit;
    const stale = roots.map((r) => path.join(r, `bulkhead-${dead.proc.pid}`));
    const living = roots.map((r) => path.join(r, 'bulkhead-1'));  // pid 1 is alive
    try {
      for (const d of [...stale, ...living]) fs.mkdirSync(path.join(d, 'w1'), { recursive: true });
      expect(reapStaleCgroups()).toBeGreaterThanOrEqual(stale.length);
      for (const d of stale) expect(fs.existsSync(d)).toBe(false);
      for (const d of living) expect(fs.existsSync(path.join(d, 'w1'))).toBe(true);
      for (const r of roots) expect(fs.existsSync(path.join(r, `bulkhead-${process.pid}`, 'reap'))).toBe(true);
    } finally {
      for (const d of [...stale, ...living]) {
        for (const sub of [path.join(d, 'w1'), d]) {
          try { fs.rmdirSync(sub); } catch { /* already gone */ }
        }
      }
    }
  });

  it.runIf(anyHierarchy)(`removeHostCgroups() removes this host's directories, and create() makes them again ${anyHierarchy ? '' : skip('cgroup')}`, () => {
    const roots = WorkerCgroup.create('host-a', {}).dirs.map((d) => path.dirname(path.dirname(d)));
    WorkerCgroup.create('host-b', {});
    expect(removeHostCgroups()).toBe(true);
    for (const r of roots) expect(fs.existsSync(path.join(r, `bulkhead-${process.pid}`))).toBe(false);
    const again = group('host-a', { pidsMax: 8 });
    expect(again.limitsApplied.pids).toBe(support.pids !== null);
    for (const dir of again.dirs) expect(fs.existsSync(dir)).toBe(true);
  });
});
