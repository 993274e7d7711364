// Round trips: every size from empty to large comes back byte-exact, across a pool, async and sync,
// and a real library (zlib) agrees with Node's own.
import * as crypto from 'node:crypto';
import * as zlib from 'node:zlib';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import * as fs from 'node:fs';
import * as path from 'node:path';

import type { Plugin } from '../lib/index';
import { load, PLUGIN_DIR, text } from './helpers';

// plugins/Makefile builds the zlib example only where libz.a is installed (zlib1g-dev).
const HAVE_ZLIB = fs.existsSync(path.join(PLUGIN_DIR, 'zlib_codec.so'));

let echo: Plugin;
let codec: Plugin;

beforeAll(async () => {
  echo = await load('echo', { pool: { size: 3 }, limits: { maxInputBytes: 64 << 20, maxOutputBytes: 64 << 20 } });
  if (HAVE_ZLIB) codec = await load('zlib_codec', { pool: { size: 2 } });
});

afterAll(async () => {
  await echo?.close();
  await codec?.close();
});

function randomSizes(n: number, max: number): number[] {
  const sizes = [0, 1, 63, 64, 65, 4095, 4096, 4097, 65536];
  for (let i = 0; i < n; i++) sizes.push(crypto.randomInt(0, max));
  return sizes;
}

describe('echo round trips', () => {
  it('returns every size byte-exact, async, with calls spread over the pool', async () => {
    const inputs = randomSizes(200, 300_000).map((n) => crypto.randomBytes(n));
    const outs = await Promise.all(inputs.map((b) => echo.call('echo', b)));
    outs.forEach((o, i) => expect(Buffer.compare(Buffer.from(o), inputs[i])).toBe(0));
    expect(echo.metrics().workers).toBe(3);
  });

  it('returns every size byte-exact through callSync', () => {
    for (const n of randomSizes(50, 2_000_000)) {
      const input = crypto.randomBytes(n);
      expect(Buffer.compare(Buffer.from(echo.callSync('echo', input)), input)).toBe(0);
    }
  });

  it('carries a 64 MiB payload each way (the default maximum)', async () => {
    const big = crypto.randomBytes(64 << 20);
    const out = await echo.call('echo', big);
    expect(out.byteLength).toBe(big.byteLength);
    expect(Buffer.compare(Buffer.from(out), big)).toBe(0);
  });

  it('never mixes up results of concurrent calls (each output matches its own input)', async () => {
    const n = 2000;
    const inputs = Array.from({ length: n }, (_, i) => Buffer.from(`call-${i}-${'x'.repeat(i % 97)}`));
    const outs = await Promise.all(inputs.map((b, i) => echo.call(i % 2 ? 'echo' : 'reverse', b)));
    outs.forEach((o, i) => {
      const expected = i % 2 ? inputs[i] : Buffer.from(inputs[i]).reverse();
      expect(text(o)).toBe(expected.toString());
    });
  });

  it('lets the caller reuse its input buffer as soon as call() returns', async () => {
    const buf = Buffer.from('first');
    const pending = Array.from({ length: 100 }, () => echo.call('echo', buf));
    buf.write('XXXXX');
    for (const o of await Promise.all(pending)) expect(text(o)).toBe('first');
  });

  it('interleaves sync and async calls on the same workers', async () => {
    const a = echo.call('upper', Buffer.from('async'));
    expect(text(echo.callSync('upper', Buffer.from('sync')))).toBe('SYNC');
    expect(text(await a)).toBe('ASYNC');
  });
});

describe.skipIf(!HAVE_ZLIB)(`a real library: zlib${HAVE_ZLIB ? '' : ' [skipped: the zlib example was not built, no libz.a (zlib1g-dev)]'}`, () => {
  it('inflates what node:zlib deflated, and node:zlib inflates what it deflated', async () => {
    const data = Buffer.from(JSON.stringify(Array.from({ length: 20000 }, (_, i) => ({ i, v: `value ${i % 113}` }))));
    const ours = await codec.call('inflate', zlib.deflateSync(data));
    expect(Buffer.compare(Buffer.from(ours), data)).toBe(0);
    const deflated = await codec.call('deflate', data);
    expect(Buffer.compare(zlib.inflateSync(deflated), data)).toBe(0);
    const gz = codec.callSync('gzip', data);
    expect(Buffer.compare(zlib.gunzipSync(gz), data)).toBe(0);
    expect(Buffer.from(await codec.call('crc32', Buffer.from('123456789'))).readUInt32LE(0)).toBe(0xcbf43926);
  });

  it('reports corrupt input as a plugin error with zlib\'s message, and keeps serving', async () => {
    await expect(codec.call('inflate', Buffer.from('definitely not zlib'))).rejects.toMatchObject({
      code: 'ERR_PLUGIN_ERROR', status: 'BH_ERR_INVALID_INPUT', fn: 'inflate',
    });
    expect(text(await codec.call('inflate', zlib.deflateSync(Buffer.from('ok'))))).toBe('ok');
  });
});
