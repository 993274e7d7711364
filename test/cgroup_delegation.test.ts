// cgroup_delegation.test.ts: the cgroup v2 delegation opt-in, end to end in a child host placed in
// a scratch v2 cgroup (standing in for a container's or a systemd unit's): its processes move into
// the leaf, plugin cgroups go beside it, each controller asked for is on or named with its reason;
// where the cgroup is not the host's own to change, the opt-in is refused and moves nothing.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import { delegateCgroups, ErrorCode } from '../lib/index';
import { load, pluginPath, sha256Of } from './helpers';

/** This process's cgroup v2 directory, where the unified hierarchy is mounted. */
function ownUnifiedDir(): string | undefined {
  const line = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
  if (!line) return undefined;
  for (const m of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = m.split(' ');
    const dash = f.indexOf('-');
    if (dash > 0 && f[dash + 1] === 'cgroup2' && f[3] === '/') return path.join(f[4], line.slice(3));
  }
  return undefined;
}

const unified = ownUnifiedDir();
function scratchWritable(): boolean {
  if (!unified) return false;
  try {
    fs.accessSync(unified, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
const canStage = scratchWritable();

describe('delegateCgroups()', () => {
  it.skipIf(!canStage)(`moves the host's cgroup into its leaf; plugin cgroups go beside it${canStage ? '' : ' [skipped: no writable cgroup v2 hierarchy to stage a delegated cgroup in]'}`, () => {
    const root = path.join(unified!, `bulkhead-delegation-e2e-${process.pid}`);
    fs.mkdirSync(root);
    try {
      const script = `
        const fs = require('node:fs');
        const { delegateCgroups, loadPlugin } = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'index.ts'))});
        (async () => {
          const d = delegateCgroups();
          const again = delegateCgroups();
          const p = await loadPlugin(${JSON.stringify(pluginPath('echo'))}, { trust: { sha256: ${JSON.stringify(sha256Of(pluginPath('echo')))} } });
          const out = Buffer.from(await p.call('echo', Buffer.from('delegated'))).toString();
          const worker = fs.readFileSync('/proc/' + p.workerPids()[0] + '/cgroup', 'utf8').split('\\n').find((l) => l.startsWith('0::')).slice(3);
          const self = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\\n').find((l) => l.startsWith('0::')).slice(3);
          let late; try { delegateCgroups(); } catch (e) { late = e.code; }
          await p.close();
          console.log(JSON.stringify({ d, again, out, worker, self, late, pid: process.pid }));
        })().catch((e) => { console.log(JSON.stringify({ failed: String(e) })); });`;
      // The host starts inside the scratch cgroup: the shell moves itself there, then becomes node.
      const r = spawnSync('sh', ['-c', `echo $$ > ${JSON.stringify(path.join(root, 'cgroup.procs'))} && exec "$0" --import tsx -e "$1"`, process.execPath, script],
        { encoding: 'utf8', timeout: 30_000 });
      const last = r.stdout.trim().split('\n').pop() ?? '';
      const got = JSON.parse(last || '{}');
      expect(got.failed, r.stderr).toBeUndefined();
      const rel = root.slice(unified!.length).replace(/^\/*/, '/');
      expect(got.d.root).toBe(root);
      expect(got.d.moved).toContain(got.pid);
      expect(got.self).toBe(`${rel}/bulkhead-host`);
      // Each controller is on or named with why not (here memory, pids and cpu are bound to v1).
      for (const c of ['memory', 'pids', 'cpu']) {
        const on = got.d.enabled.includes(c);
        const why = got.d.unavailable.filter((u: string) => u.startsWith(`${c}: `));
        expect(on ? why.length === 0 : why.length === 1, `${c}: ${JSON.stringify(got.d)}`).toBe(true);
      }
      expect(got.again).toMatchObject({ root, moved: [], enabled: got.d.enabled });
      expect(got.out).toBe('delegated');
      expect(got.worker.startsWith(`${rel}/bulkhead-${got.pid}/`), got.worker).toBe(true);
      expect(got.late).toBe(ErrorCode.INVALID_STATE);
    } finally {
      for (let i = 0; i < 50 && fs.existsSync(root); i++) {
        try {
          fs.rmdirSync(path.join(root, 'bulkhead-host'));
        } catch { /* gone, or its host still exiting */ }
        try {
          fs.rmdirSync(root);
        } catch {
          spawnSync('sleep', ['0.05']);
        }
      }
    }
  });

  it.skipIf(canStage)(`where this user may not change its cgroup: ERR_SANDBOX_UNAVAILABLE naming why, nothing moved${canStage ? ' [skipped: this user may write its cgroup]' : ''}`, () => {
    const before = fs.readFileSync('/proc/self/cgroup', 'utf8');
    let e: unknown;
    try {
      delegateCgroups();
    } catch (x) {
      e = x;
    }
    expect(e).toMatchObject({ code: ErrorCode.SANDBOX_UNAVAILABLE, reason: 'cgroup-delegation' });
    expect((e as Error).message).toMatch(/cannot create .*not writable by this user|no cgroup v2|no cgroup2 mount/);
    expect(fs.readFileSync('/proc/self/cgroup', 'utf8')).toBe(before);
  });

  it('refuses controllers it does not know, before touching anything', () => {
    expect(() => delegateCgroups({ controllers: ['memory', 'io' as never] })).toThrow(/options.controllers/);
  });

  it('after the first load: ERR_INVALID_STATE (the monitor already placed its cgroups)', async () => {
    const p = await load('echo');
    try {
      expect(() => delegateCgroups()).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_STATE }));
    } finally {
      await p.close();
    }
  });
});
