// cgroup.test.ts: the monitor's cgroups as a user meets them: every process of a plugin starts in
// the plugin's cgroup and each worker moves into its own before its first call, the limits asked
// for are the ones the kernel holds, nothing is left after close() or destroy(), and plugin code
// cannot touch cgroupfs. The tree itself is tested without Node in cpp/monitor/cgroup_tree_test.cc.
// Needs root or a delegated cgroup; each test says what it skips for.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { cgroupSupport } from '../lib/capabilities';
import { ErrorCode, type Plugin } from '../lib/index';
import { bytes, eventually, load, text, zygoteChildren } from './helpers';

const support = cgroupSupport();
const anyHierarchy = support.memory !== null || support.cpu !== null || support.pids !== null || support.killSupported;
const HOST_DIR = `bulkhead-${process.pid}`;

/** The directories a process is in, per hierarchy, relative to each hierarchy's root. */
function cgroupsOf(pid: number): string[] {
  return fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n').map((l) => l.split(':').slice(2).join(':'));
}

/** This host's directory in each usable controller's hierarchy. */
function hostDirs(): string[] {
  return [...new Set(Object.values(support.dirs).filter((d): d is string => d !== null))].map((d) => path.join(d, HOST_DIR));
}

/** The zygote's children that are not workers: the templates (and the pid namespace's init). */
function templatesOf(p: Plugin): number[] {
  const kids = zygoteChildren();
  const workers = new Set(p.workerPids());
  return kids.filter((k) => !workers.has(k) && cgroupsOf(k).some((c) => c.includes(`${HOST_DIR}/p`)));
}

let plugin: Plugin;

beforeAll(async () => {
  // Where a controller is missing its limit is accepted unenforced; the tests that need it skip.
  plugin = await load('hostile', { pool: { size: 2 }, limits: { memoryMiB: 64, cpuQuotaPercent: 50 }, policy: { threads: 2 },
    bestEffort: ['cpuQuotaPercent', 'threads'] });
});

afterAll(() => plugin?.close());

describe('placement', () => {
  it.runIf(anyHierarchy)('each worker is in its own cgroup beneath its plugin\'s, in every hierarchy used (skipped without a writable cgroup)', () => {
    const workers = plugin.workerPids();
    expect(workers).toHaveLength(2);
    const dirs = workers.map((w) => cgroupsOf(w).filter((c) => c.includes(HOST_DIR)));
    for (const d of dirs) {
      expect(d.length).toBeGreaterThan(0);
      for (const c of d) expect(c).toMatch(new RegExp(`/${HOST_DIR}/p\\d+/w\\d+$`));
    }
    expect(dirs[0]).not.toEqual(dirs[1]);
  });

  it.runIf(anyHierarchy)('the template lives in its plugin\'s cgroup, where everything it makes starts (skipped without a writable cgroup)', () => {
    const templates = templatesOf(plugin);
    expect(templates).toHaveLength(1);
    const own = cgroupsOf(templates[0]).filter((c) => c.includes(HOST_DIR));
    for (const c of own) expect(c).toMatch(new RegExp(`/${HOST_DIR}/p\\d+(/t)?$`));
    const worker = cgroupsOf(plugin.workerPids()[0]).filter((c) => c.includes(HOST_DIR));
    expect(worker[0].startsWith(own[0].replace(/\/t$/, ''))).toBe(true);
  });
});

describe('limits the kernel holds', () => {
  it.runIf(support.memory !== null)('a worker\'s memory limit is its plugin\'s memoryMiB (skipped without a memory controller)', () => {
    const w = plugin.workerPids()[0];
    const rel = cgroupsOf(w).find((c) => c.includes(HOST_DIR))!;
    const file = support.memory === 'v2' ? 'memory.max' : 'memory.limit_in_bytes';
    const dir = path.join(support.dirs.memory!, HOST_DIR, rel.slice(rel.indexOf(HOST_DIR) + HOST_DIR.length));
    expect(Number(fs.readFileSync(path.join(dir, file), 'utf8'))).toBe(64 << 20);
  });

  it.runIf(support.pids !== null)('a worker\'s pids limit is one plus its thread grant (skipped without a pids controller)', () => {
    const w = plugin.workerPids()[0];
    const rel = cgroupsOf(w).find((c) => c.includes(HOST_DIR))!;
    const dir = path.join(support.dirs.pids!, HOST_DIR, rel.slice(rel.indexOf(HOST_DIR) + HOST_DIR.length));
    expect(fs.readFileSync(path.join(dir, 'pids.max'), 'utf8').trim()).toBe('3');
  });

  it.runIf(support.memory !== null)('a memory bomb is ERR_MEMORY_LIMIT for its worker; the sibling serves on (skipped without a memory controller)', async () => {
    const bomb = plugin.call('alloc_bomb', bytes(String(512)), { timeoutMs: 10_000 });
    await expect(bomb).rejects.toMatchObject({ code: ErrorCode.MEMORY_LIMIT });
    expect(text(await plugin.call('echo', bytes('still here')))).toBe('still here');
  });
});

describe('nothing left behind', () => {
  it.runIf(anyHierarchy)('close() removes the plugin\'s cgroups; destroy() too (skipped without a writable cgroup)', async () => {
    for (const end of ['close', 'destroy'] as const) {
      const p = await load('echo', { pool: { size: 2 } });
      const rel = cgroupsOf(p.workerPids()[0]).find((c) => c.includes(HOST_DIR))!;
      const pluginRel = rel.replace(/\/w\d+$/, '');
      const dirs = hostDirs().map((d) => path.join(d, pluginRel.slice(pluginRel.indexOf(HOST_DIR) + HOST_DIR.length)));
      expect(dirs.some((d) => fs.existsSync(d))).toBe(true);
      if (end === 'close') await p.close();
      else await p.destroy();
      expect(await eventually(() => dirs.every((d) => !fs.existsSync(d)), 3000), `left: ${dirs.filter((d) => fs.existsSync(d))}`).toBe(true);
    }
  });

  it('plugin code cannot open cgroupfs, even read-only', async () => {
    // A cgroupfs file that exists (else the open fails ENOENT before any permission check).
    const dir = [support.dirs.memory, support.dirs.pids, '/sys/fs/cgroup/memory', '/sys/fs/cgroup/pids', '/sys/fs/cgroup']
      .find((d) => d && fs.existsSync(path.join(d, 'cgroup.procs')))!;
    expect(dir).toBeDefined();
    await expect(plugin.call('read_file', bytes(path.join(dir, 'cgroup.procs')))).rejects.toMatchObject({
      code: ErrorCode.PLUGIN_ERROR, message: expect.stringMatching(/open: EACCES$/),
    });
  });
});
