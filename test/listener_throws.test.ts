// listener_throws.test.ts: application listeners that throw, or call back into the plugin, must not
// stop bulkhead: every later completion and zygote message of every plugin is still handled, the
// exception surfaces as an uncaught exception with the listener's own stack (as from any
// EventEmitter), and a callSync from inside a listener works without breaking its worker. Runs in
// a child process of its own, since it needs an 'uncaughtException' handler.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import { pluginPath, sha256Of } from './helpers';

const LIB = path.join(__dirname, '..', 'lib', 'index.ts');

function runChild(body: string): Record<string, unknown> {
  const script = `
    const { loadPlugin } = require(${JSON.stringify(LIB)});
    const trust = (n) => ({ trust: { sha256: ${JSON.stringify(Object.fromEntries(
      ['hostile', 'echo'].map((n) => [n, sha256Of(pluginPath(n))])))}[n] } });
    const file = (n) => ${JSON.stringify(path.dirname(pluginPath('echo')))} + '/' + n + '.so';
    const uncaught = [];
    process.on('uncaughtException', (e) => uncaught.push({ message: e.message, stack: String(e.stack) }));
    const out = { uncaught };
    (async () => { ${body} })().then(
      () => { process.stdout.write(JSON.stringify(out)); process.exit(0); },
      (e) => { process.stdout.write(JSON.stringify({ ...out, failed: String(e && e.stack || e) })); process.exit(0); });
    setTimeout(() => { process.stdout.write(JSON.stringify({ ...out, failed: 'timed out' })); process.exit(0); }, 20000).unref();`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('a listener that throws', () => {
  it('on crash, violation, worker, restart and log: each surfaces as an uncaught exception with its own stack; both plugins carry on', () => {
    const out = runChild(`
      const a = await loadPlugin(file('hostile'), { ...trust('hostile'), pool: { size: 1 } });
      const b = await loadPlugin(file('hostile'), { ...trust('hostile'), pool: { size: 1 } });
      a.on('crash', function crashListener() { throw new Error('from crash'); });
      a.on('violation', function violationListener() { throw new Error('from violation'); });
      a.on('worker', function workerListener() { throw new Error('from worker'); });
      a.on('restart', function restartListener() { throw new Error('from restart'); });
      a.on('log', function logListener() { throw new Error('from log'); });
      const slow = b.call('sleep_ms', Buffer.from('100'));
      out.crash = await a.call('segfault', Buffer.alloc(0)).then(() => 'resolved', (e) => e.code);
      out.violation = await a.call('connect_tcp', Buffer.from('9')).then(() => 'resolved', (e) => e.code);
      await a.call('log_line', Buffer.from('hello')).catch(() => {});
      out.afterA = Buffer.from(await a.call('echo', Buffer.from('a ok'))).toString();
      out.afterB = Buffer.from(await slow).toString();
      out.crashB = await b.call('segfault', Buffer.alloc(0)).then(() => 'resolved', (e) => e.code);
      out.againB = Buffer.from(await b.call('echo', Buffer.from('b ok'))).toString();
      await a.close();
      await b.close();
    `);
    expect(out.failed).toBeUndefined();
    expect(out.crash).toBe('ERR_WORKER_CRASHED');
    expect(out.violation).toBe('ERR_SANDBOX_VIOLATION');
    expect(out.afterA).toBe('a ok');
    expect(out.afterB).toBe('slept');
    expect(out.crashB).toBe('ERR_WORKER_CRASHED');
    expect(out.againB).toBe('b ok');
    const uncaught = out.uncaught as Array<{ message: string; stack: string }>;
    for (const [message, fn] of [['from crash', 'crashListener'], ['from violation', 'violationListener'],
      ['from worker', 'workerListener'], ['from restart', 'restartListener'], ['from log', 'logListener']]) {
      const e = uncaught.find((u) => u.message === message);
      expect(e, `no uncaught exception "${message}": ${JSON.stringify(uncaught)}`).toBeDefined();
      expect(e!.stack).toContain(fn);
    }
  });

  it('on state: close() still completes and the exception surfaces uncaught', () => {
    const out = runChild(`
      const a = await loadPlugin(file('echo'), trust('echo'));
      a.on('state', function stateListener() { throw new Error('from state'); });
      await a.close();
      out.state = a.state;
    `);
    expect(out.failed).toBeUndefined();
    expect(out.state).toBe('terminated');
    const uncaught = out.uncaught as Array<{ message: string; stack: string }>;
    expect(uncaught.some((u) => u.message === 'from state' && u.stack.includes('stateListener'))).toBe(true);
  });
});

describe('a listener that calls back into the plugin', () => {
  it('callSync from inside a log listener works and breaks no worker', () => {
    const out = runChild(`
      const a = await loadPlugin(file('hostile'), { ...trust('hostile'), pool: { size: 1 } });
      const answers = [];
      a.on('log', () => { answers.push(Buffer.from(a.callSync('echo', Buffer.from('inner'))).toString()); });
      const pid = a.workerPids()[0];
      await a.call('log_line', Buffer.from('hello')).catch((e) => { out.logCall = e.code; });
      await new Promise((r) => setTimeout(r, 50));
      out.answers = answers;
      out.sameWorker = a.workerPids()[0] === pid;
      out.after = Buffer.from(await a.call('echo', Buffer.from('outer'))).toString();
      await a.close();
    `);
    expect(out.failed).toBeUndefined();
    expect(out.logCall).toBeUndefined();
    expect(out.answers).toEqual(['inner']);
    expect(out.sameWorker).toBe(true);
    expect(out.after).toBe('outer');
  });
});
