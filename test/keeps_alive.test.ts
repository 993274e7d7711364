// keeps_alive.test.ts: a pending call keeps the process alive until it settles, as any pending I/O
// does; nothing else in these hosts holds the event loop. Each case runs in a child process that
// prints its outcomes last: a host that exited with a call still pending prints nothing. Found
// with a call made while a worker killed for its write budget was dying: node exited at once.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { pluginPath, sha256Of } from './helpers';

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-alive-')); });
afterAll(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

/** Runs `body` (with `p`, the hostile plugin loaded with `options`, `code` and `out` in scope) in a
 *  child host; returns `out`, or fails when the host exited before printing it. */
function host(options: string, body: string): Record<string, unknown> {
  const file = pluginPath('hostile');
  const script = `
    const { loadPlugin } = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'index.ts'))});
    const code = (x) => x.then((v) => Buffer.from(v).toString(), (e) => e.code);
    (async () => {
      const out = {};
      const p = await loadPlugin(${JSON.stringify(file)}, { trust: { sha256: ${JSON.stringify(sha256Of(file))} }, ...${options} });
      ${body}
      await p.close();
      process.stdout.write(JSON.stringify(out));
    })().catch((e) => { process.stdout.write(JSON.stringify({ failed: String(e && e.stack || e) })); });`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout, 'the host exited with a call pending').not.toBe('');
  const out = JSON.parse(r.stdout);
  expect(out.failed).toBeUndefined();
  return out;
}

describe('a pending call keeps the host alive', () => {
  it('made while a worker killed for its write budget is dying: it runs on the replacement', () => {
    const file = path.join(dir, 'out.bin');
    const out = host(`{ policy: { fs: { write: [${JSON.stringify(dir)}] } }, limits: { maxBytesWritten: 1 << 20 } }`, `
      out.over = await code(p.call('write_big', Buffer.from(${JSON.stringify(file)} + ':' + (8 << 20))));
      out.next = await code(p.call('echo', Buffer.from('next')));`);
    expect(out).toEqual({ over: 'ERR_WRITE_LIMIT', next: 'next' });
  });

  it('behind a call killed at its deadline on the same ring: retried, or ERR_WORKER_LOST', () => {
    const out = host('{ pool: { size: 1 } }', `
      const ahead = code(p.call('spin', Buffer.alloc(0), { timeoutMs: 100 }));
      const lost = code(p.call('echo', Buffer.from('lost')));
      const retried = code(p.call('echo', Buffer.from('retried'), { idempotent: true }));
      Object.assign(out, { ahead: await ahead, lost: await lost, retried: await retried });`);
    expect(out).toEqual({ ahead: 'ERR_TIMEOUT', lost: 'ERR_WORKER_LOST', retried: 'retried' });
  });

  it('made on a fresh zygote after the old one died while a worker it was to reap was dying', () => {
    // The zygote is stopped so the killed worker's exit report cannot come, then killed: the
    // dying worker's hold on the event loop is released by the zygote's death, not twice.
    const echo = pluginPath('echo');
    const out = host('{ pool: { size: 1 } }', `
      const fs = require('node:fs');
      const kids = (pid) => fs.readdirSync('/proc/' + pid + '/task').flatMap((t) =>
        fs.readFileSync('/proc/' + pid + '/task/' + t + '/children', 'utf8').trim().split(/\\s+/).filter(Boolean)).map(Number);
      const zygote = kids(process.pid)[0];
      process.kill(zygote, 'SIGSTOP');
      out.killed = await code(p.call('spin', Buffer.alloc(0), { timeoutMs: 100 }));
      process.kill(zygote, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 200));
      const q = await loadPlugin(${JSON.stringify(echo)}, { trust: { sha256: ${JSON.stringify(sha256Of(echo))} } });
      out.fresh = await code(q.call('echo', Buffer.from('fresh')));
      await q.close();`);
    expect(out).toEqual({ killed: 'ERR_TIMEOUT', fresh: 'fresh' });
  });

  it('queued while the pool waits out its restart backoff after a crash', () => {
    const out = host('{ pool: { size: 1 }, restart: { initialBackoffMs: 300 } }', `
      out.crash = await code(p.call('segfault', Buffer.alloc(0)));
      out.queued = await code(p.call('echo', Buffer.from('after backoff')));`);
    expect(out).toEqual({ crash: 'ERR_WORKER_CRASHED', queued: 'after backoff' });
  });
});
