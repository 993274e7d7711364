// Bad input of every kind gets a typed error with a stable code, and nothing else is disturbed.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BulkheadError, loadPlugin, type Plugin } from '../lib/index';
import { load, pluginPath, sha256Of, text } from './helpers';

let echo: Plugin;
let tmp: string;

beforeAll(async () => {
  echo = await load('echo', { limits: { maxInputBytes: 1024 } });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bulkhead-bad-'));
});

afterAll(async () => {
  await echo?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function stillServes(): Promise<void> {
  expect(text(await echo.call('echo', Buffer.from('still here')))).toBe('still here');
}

describe('call arguments', () => {
  it.each([
    ['a number as function name', () => echo.call(42 as never, Buffer.alloc(1)), /Expected a non-empty string for fn but received the number 42/],
    ['a string as input', () => echo.call('echo', 'text' as never), /Expected a Uint8Array \(or Buffer\) for input/],
    ['an array as options', () => echo.call('echo', Buffer.alloc(1), [] as never), /Expected an object for options/],
    ['an unknown option', () => echo.call('echo', Buffer.alloc(1), { retries: 3 } as never), /Expected one of signal, timeoutMs/],
    ['a fractional timeout', () => echo.call('echo', Buffer.alloc(1), { timeoutMs: 1.5 }), /Expected an integer between 1 and/],
    ['a non-signal', () => echo.call('echo', Buffer.alloc(1), { signal: {} as never }), /Expected an AbortSignal/],
  ])('rejects %s with ERR_INVALID_ARGUMENT', async (_name, fn, message) => {
    await expect(fn()).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(message) });
    await stillServes();
  });

  it('rejects an unknown function with ERR_UNKNOWN_FUNCTION naming the ones that exist', async () => {
    const e = await echo.call('nope', Buffer.alloc(0)).catch((x) => x);
    expect(e).toBeInstanceOf(BulkheadError);
    expect(e).toMatchObject({ code: 'ERR_UNKNOWN_FUNCTION', fn: 'nope' });
    expect(e.message).toContain('echo, reverse, upper, sum');
    expect(() => echo.callSync('nope', Buffer.alloc(0))).toThrow(expect.objectContaining({ code: 'ERR_UNKNOWN_FUNCTION' }));
  });

  it('rejects an oversized payload with ERR_INPUT_TOO_LARGE before it reaches the worker', async () => {
    await expect(echo.call('echo', Buffer.alloc(1025))).rejects.toMatchObject({ code: 'ERR_INPUT_TOO_LARGE' });
    expect(echo.metrics().restarts).toBe(0);
    await stillServes();
  });

  it('reports a plugin\'s own input validation as ERR_PLUGIN_ERROR with its message', async () => {
    await expect(echo.call('sum', Buffer.alloc(3))).rejects.toMatchObject({
      code: 'ERR_PLUGIN_ERROR', status: 'BH_ERR_INVALID_INPUT', message: expect.stringContaining('multiple of 4'),
    });
  });

  it('rejects calls on a closed handle with ERR_CLOSED', async () => {
    const p = await load('echo');
    await p.close();
    await expect(p.call('echo', Buffer.alloc(1))).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(() => p.callSync('echo', Buffer.alloc(1))).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
    await p.close();  // idempotent
  });

  it('rejects calls queued at close() with ERR_CLOSED, never leaving them hanging', async () => {
    const p = await load('echo');
    const many = Array.from({ length: 50 }, () => p.call('echo', Buffer.alloc(10)));
    const closing = p.close();
    const results = await Promise.allSettled(many);
    await closing;
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'ERR_CLOSED' });
      else expect(r.value.byteLength).toBe(10);
    }
  });
});

describe('load arguments and plugin files', () => {
  const echoFile = pluginPath('echo');

  it('requires a trust option', async () => {
    await expect(loadPlugin(echoFile, {} as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('rejects a malformed digest', async () => {
    await expect(loadPlugin(echoFile, { trust: { sha256: 'abc' } })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('64 hex digits'),
    });
  });

  it('refuses a digest mismatch with ERR_VERIFICATION_FAILED, before any of its code runs', async () => {
    const wrong = sha256Of(echoFile).replace(/^./, (c) => (c === '0' ? '1' : '0'));
    await expect(loadPlugin(echoFile, { trust: { sha256: wrong } })).rejects.toMatchObject({ code: 'ERR_VERIFICATION_FAILED' });
  });

  it('loads an unpinned plugin only with the explicit dangerouslySkipVerification opt-in', async () => {
    await expect(loadPlugin(echoFile, { trust: { dangerouslySkipVerification: 'yes' } as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    const p = await loadPlugin(echoFile, { trust: { dangerouslySkipVerification: true } });
    expect(text(await p.call('echo', Buffer.from('unpinned')))).toBe('unpinned');
    await p.close();
  });

  it('rejects a missing file with ERR_LOAD_FAILED', async () => {
    await expect(loadPlugin(path.join(tmp, 'missing.so'), { trust: { dangerouslySkipVerification: true } }))
      .rejects.toMatchObject({ code: 'ERR_LOAD_FAILED', reason: 'unreadable' });
  });

  it('rejects a file that is not an ELF shared object with ERR_LOAD_FAILED', async () => {
    const f = path.join(tmp, 'text.so');
    fs.writeFileSync(f, 'this is not an ELF file\n'.repeat(10));
    await expect(loadPlugin(f, { trust: { sha256: sha256Of(f) } })).rejects.toMatchObject({
      code: 'ERR_LOAD_FAILED', reason: 'not-loadable',
    });
    await stillServes();
  });

  it('rejects a corrupt ELF (truncated plugin) with ERR_LOAD_FAILED', async () => {
    const f = path.join(tmp, 'truncated.so');
    fs.writeFileSync(f, fs.readFileSync(echoFile).subarray(0, 2000));
    await expect(loadPlugin(f, { trust: { sha256: sha256Of(f) } })).rejects.toMatchObject({ code: 'ERR_LOAD_FAILED' });
    await stillServes();
  });

  it('rejects a shared object without the entry symbol', async () => {
    await expect(load('no_entry')).rejects.toMatchObject({ code: 'ERR_LOAD_FAILED', reason: 'no-entry' });
    await stillServes();
  });

  it('rejects a plugin built for another ABI version with ERR_ABI_MISMATCH', async () => {
    const e = await load('bad_abi').catch((x) => x);
    expect(e).toMatchObject({ code: 'ERR_ABI_MISMATCH' });
    expect(e.message).toMatch(/plugin ABI version 99, host supports 1/);
    await stillServes();
  });

  it('reports a failing init() with ERR_INIT_FAILED and its message; the right config loads', async () => {
    await expect(load('init_fail', { config: Buffer.from('nope') })).rejects.toMatchObject({
      code: 'ERR_INIT_FAILED', message: expect.stringContaining("bad config: expected 'ok'"),
    });
    const p = await load('init_fail', { config: Buffer.from('ok') });
    expect(text(await p.call('echo', Buffer.from('configured')))).toBe('configured');
    await p.close();
  });

  it.each([
    ['pool size 0', { pool: { size: 0 } }],
    ['an unknown limit', { limits: { cpu: 1 } }],
    ['a relative read path', { policy: { fs: { read: ['relative/dir'] } } }],
    ['an unknown policy preset', { policy: 'network' }],
    ['an unknown requireLevel', { requireLevel: 'lax' }],
  ])('rejects %s with ERR_INVALID_ARGUMENT', async (_n, extra) => {
    await expect(loadPlugin(echoFile, { trust: { sha256: sha256Of(echoFile) }, ...(extra as object) })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});
