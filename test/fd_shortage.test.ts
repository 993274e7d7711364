// fd_shortage.test.ts: a host out of descriptors when a worker is needed: no untyped Error, none
// thrown at an unrelated call (the failed start is ERR_RESOURCES, retried shortly), and once
// descriptors are free the pool starts its workers and serves again. In a child process, which
// fills its own descriptor table.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import { pluginPath, sha256Of } from './helpers';

/** Runs `script` in a host with room for 256 descriptors, after `fs` and `loadPlugin` are in scope. */
function runShortage(script: string): Record<string, unknown> {
  const host = `const fs = require('node:fs');
    const { loadPlugin } = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'index.ts'))});
    ${script}`;
  const r = spawnSync('bash', ['-c', `ulimit -n 256 && exec "${process.execPath}" --import tsx -e "$0"`, host],
    { encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

// Inside a host's async body: `out`, and `p`, a hostile plugin whose pool (min 0) has gone idle,
// with no worker left (out.idleWorkers says so).
const IDLE_POOL = `const out = {};
        const p = await loadPlugin(${JSON.stringify(pluginPath('hostile'))}, {
          trust: { sha256: ${JSON.stringify(sha256Of(pluginPath('hostile')))} }, pool: { min: 0, max: 1, idleMs: 20 },
        });
        for (let i = 0; i < 200 && p.metrics().workers > 0; i++) await new Promise((r) => setTimeout(r, 10));
        out.idleWorkers = p.metrics().workers;`;

describe('descriptor shortage', () => {
  it('at spawn: a worker whose pidfd finds no room in the host is killed by the monitor, the call gets ERR_RESOURCES at once, and the pool serves once descriptors are free', () => {
    const out = runShortage(`
      const childrenOf = (pid) => fs.readdirSync('/proc/' + pid + '/task').flatMap((t) =>
        fs.readFileSync('/proc/' + pid + '/task/' + t + '/children', 'utf8').trim().split(/\\s+/).filter(Boolean));
      // The zygote is this process's only child; its children are the plugin's processes.
      const children = () => childrenOf(childrenOf(process.pid)[0]).length;
      (async () => {
        ${IDLE_POOL}
        out.before = children();
        // The call sets up the worker's ring now; its pidfd arrives from the monitor later, when
        // every descriptor is taken.
        const t0 = performance.now();
        const first = p.call('echo', Buffer.from('first'), { timeoutMs: 5000 });
        const filler = []; try { for (let i = 0; i < 100000; i++) filler.push(fs.openSync('/dev/null', 'r')); } catch {}
        out.first = await first.then((v) => Buffer.from(v).toString(), (e) => e.code);
        out.firstMs = performance.now() - t0;
        for (const fd of filler) fs.closeSync(fd);
        await new Promise((r) => setTimeout(r, 300));
        out.afterFail = children();
        out.restarts = p.metrics().restarts;
        out.back = Buffer.from(await p.call('echo', Buffer.from('back'), { timeoutMs: 5000 })).toString();
        await p.close();
        process.stdout.write(JSON.stringify(out));
      })().catch((e) => { process.stdout.write(JSON.stringify({ failed: String(e && e.stack || e) })); });`);
    expect(out.failed).toBeUndefined();
    expect(out.idleWorkers).toBe(0);
    expect(out.first).toBe('ERR_RESOURCES');
    expect(out.firstMs).toBeLessThan(4000);  // not its deadline: the start failed and said so
    expect(out.afterFail).toBe(out.before);  // the worker it could not take is gone
    expect(out.restarts).toBe(0);  // a shortage is not a crash
    expect(out.back).toBe('back');
  });

  it('with no worker and no descriptor even for a ring: the call gets ERR_RESOURCES at once and the event loop keeps running (no retry loop)', () => {
    const out = runShortage(`
      (async () => {
        ${IDLE_POOL}
        const ticked = new Promise((r) => setTimeout(() => r('ticked'), 50));
        const filler = []; try { for (let i = 0; i < 100000; i++) filler.push(fs.openSync('/dev/null', 'r')); } catch {}
        const t0 = performance.now();
        out.call = await p.call('echo', Buffer.from('x'), { timeoutMs: 5000 }).then(() => 'ok', (e) => e.code);
        out.callMs = performance.now() - t0;
        out.ticked = await ticked;
        for (const fd of filler) fs.closeSync(fd);
        await new Promise((r) => setTimeout(r, 300));
        out.back = Buffer.from(await p.call('echo', Buffer.from('back'), { timeoutMs: 5000 })).toString();
        await p.close();
        process.stdout.write(JSON.stringify(out));
      })().catch((e) => { process.stdout.write(JSON.stringify({ failed: String(e && e.stack || e) })); });`);
    expect(out.failed).toBeUndefined();
    expect(out.idleWorkers).toBe(0);
    expect(out.call).toBe('ERR_RESOURCES');
    expect(out.callMs).toBeLessThan(4000);
    expect(out.ticked).toBe('ticked');
    expect(out.back).toBe('back');
  });

  it('at growth: nothing untyped is thrown at any call, the call is served by the busy worker, and the pool grows again once descriptors are free', () => {
    const script = `
      const fs = require('node:fs');
      const { loadPlugin } = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'index.ts'))});
      (async () => {
        const out = {};
        const p = await loadPlugin(${JSON.stringify(pluginPath('hostile'))}, {
          trust: { sha256: ${JSON.stringify(sha256Of(pluginPath('hostile')))} }, pool: { min: 0, max: 2, idleMs: 20 },
        });
        const fill = () => { const f = []; try { for (let i = 0; i < 100000; i++) f.push(fs.openSync('/dev/null', 'r')); } catch {} return f; };
        // Growth: the one worker is busy and a second cannot get a ring. The call waits for the
        // first worker; nothing is thrown at it (or at any other call) synchronously.
        const busy = p.call('sleep_ms', Buffer.from('200'));
        let filler = fill();
        let threw = 'no';
        let grown;
        try { grown = p.call('echo', Buffer.from('grown')); } catch (e) { threw = String(e); }
        out.threw = threw;
        out.busy = Buffer.from(await busy).toString();
        out.grown = await grown.then((v) => Buffer.from(v).toString(), (e) => e.code);
        for (const fd of filler) fs.closeSync(fd);
        await new Promise((r) => setTimeout(r, 300));
        out.after = Buffer.from(await p.call('echo', Buffer.from('back'))).toString();
        await p.close();
        process.stdout.write(JSON.stringify(out));
      })().catch((e) => { process.stdout.write(JSON.stringify({ failed: String(e && e.stack || e) })); });`;
    const r = spawnSync('bash', ['-c', `ulimit -n 256 && exec "${process.execPath}" --import tsx -e "$0"`, script],
      { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.failed).toBeUndefined();
    expect(out.threw).toBe('no');
    expect(out.busy).toBe('slept');
    expect(out.grown).toBe('grown');
    expect(out.after).toBe('back');
  });
});
