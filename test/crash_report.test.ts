// crash_report.test.ts: a crashing worker's report about itself, and the host's distrust of it.
// parseCrashReport is fed hostile raw reports (what a plugin could leave in its region); the
// end-to-end cases crash real workers (crash_deep, stack_overflow) and read the report the
// crash error carries.
import * as crypto from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseCrashReport, type CrashReport, type RawCrashFrame, type RawCrashReport } from '../lib/crash_report';
import { ErrorCode, type Plugin } from '../lib/index';
import { load, text } from './helpers';

const MAGIC = 0x48535243;
// What no symbol may contain once parsed: the characters untrustedText escapes.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
const MODULE = /^[A-Za-z0-9_.+-]{1,23}$/;
const HEX = /^0x[0-9a-f]{1,16}$/;
const FATAL = ['SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGABRT', 'SIGTRAP'];

function field(s: string, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  b.write(s, 'latin1');
  return b;
}

function frame(module: number, offset: bigint, symbol = '', moduleName = ''): RawCrashFrame {
  return { module, offset, symbol: field(symbol, 48), moduleName: field(moduleName, 24) };
}

function raw(overrides: Partial<RawCrashReport> = {}): RawCrashReport {
  const frames = [
    frame(0, 0x5404n, 'bh_deep_c'),
    frame(0, 0x541dn, 'bh_deep_b'),
    frame(1, 0x27305n, '__libc_start_main', 'libc.so.6'),
    frame(2, 0xdeadn),
  ];
  while (frames.length < 16) frames.push(frame(0, 0n));
  return { kind: MAGIC, signo: 11, code: 1, address: 0n, frameCount: 4, frames, ...overrides };
}

/** What every parsed report must look like, whatever went in. */
function expectSane(r: CrashReport): void {
  expect(FATAL).toContain(r.signal);
  expect(Number.isInteger(r.code)).toBe(true);
  expect(r.address).toMatch(HEX);
  expect(r.frames.length).toBeGreaterThanOrEqual(1);
  expect(r.frames.length).toBeLessThanOrEqual(16);
  for (const f of r.frames) {
    expect(Object.keys(f).every((k) => ['module', 'offset', 'symbol'].includes(k))).toBe(true);
    expect(f.offset).toMatch(HEX);
    expect(f.module === 'plugin' || f.module === '<other>' || f.module === '<unknown>' || MODULE.test(f.module)).toBe(true);
    if (f.symbol !== undefined) expect(f.symbol).not.toMatch(UNSAFE);
  }
}

describe('parseCrashReport', () => {
  it('turns a well-formed report into signal, code, hex address and named frames', () => {
    expect(parseCrashReport(raw())).toEqual({
      signal: 'SIGSEGV', code: 1, address: '0x0',
      frames: [
        { module: 'plugin', offset: '0x5404', symbol: 'bh_deep_c' },
        { module: 'plugin', offset: '0x541d', symbol: 'bh_deep_b' },
        { module: 'libc.so.6', offset: '0x27305', symbol: '__libc_start_main' },
        { module: '<unknown>', offset: '0xdead' },
      ],
    });
  });

  it('reads no frame beyond the count', () => {
    const r = raw({ frameCount: 1 });
    r.frames[1] = { module: 99 } as never;
    expect(parseCrashReport(r)?.frames).toEqual([{ module: 'plugin', offset: '0x5404', symbol: 'bh_deep_c' }]);
  });

  it.each([
    ['no report (kind 0)', { kind: 0 }],
    ['a wrong magic', { kind: MAGIC ^ 1 }],
    ['SIGKILL', { signo: 9 }],
    ['SIGSYS (violations are reported elsewhere)', { signo: 31 }],
    ['signal 0', { signo: 0 }],
    ['a signal number out of range', { signo: 2 ** 32 - 1 }],
    ['a fractional code', { code: 1.5 }],
    ['a code past int32', { code: 2 ** 31 }],
    ['a negative address', { address: -1n }],
    ['an address past 64 bits', { address: 1n << 64n }],
    ['a numeric address', { address: 0 as never }],
    ['zero frames', { frameCount: 0 }],
    ['17 frames', { frameCount: 17 }],
    ['a huge frame count', { frameCount: 2 ** 32 - 1 }],
    ['a negative frame count', { frameCount: -1 }],
    ['a frame list shorter than its count', { frames: [frame(0, 0n)], frameCount: 2 }],
    ['frames that are not a list', { frames: {} as never }],
  ])('rejects %s', (_, overrides) => {
    expect(parseCrashReport(raw(overrides as Partial<RawCrashReport>))).toBeUndefined();
  });

  it.each([
    ['a module kind out of range', 3],
    ['a negative module kind', -1],
    ['a fractional module kind', 0.5],
  ])('rejects a frame with %s', (_, module) => {
    const r = raw();
    r.frames[1] = { ...r.frames[1], module };
    expect(parseCrashReport(r)).toBeUndefined();
  });

  it('rejects a frame whose offset is not a u64', () => {
    for (const offset of [-1n, 1n << 64n, 5 as never, undefined as never]) {
      const r = raw();
      r.frames[0] = { ...r.frames[0], offset };
      expect(parseCrashReport(r)).toBeUndefined();
    }
  });

  it.each([
    ['a control character', 'bad\x01name', 'bad\\x01name'],
    ['DEL', 'bad\x7fname', 'bad\\x7fname'],
    ['a C1 control (CSI)', 'bad\xc2\x9b2J', 'bad\\x9b2J'],
    ['an invalid UTF-8 byte', 'caf\xe9', 'caf\ufffd'],
    ['a newline (log injection)', 'fn\nERROR forged', 'fn\\x0aERROR forged'],
    ['a quote', 'fn"', 'fn"'],
    ['a slash', '/etc/passwd', '/etc/passwd'],
  ])('shows a symbol with %s escaped, as sent', (_, name, shown) => {
    const r = raw();
    r.frames[0] = { ...r.frames[0], symbol: field(name, 48) };
    expect(parseCrashReport(r)?.frames[0]).toEqual({ module: 'plugin', offset: '0x5404', symbol: shown });
  });

  it('omits an empty symbol', () => {
    const r = raw();
    r.frames[0] = { ...r.frames[0], symbol: field('', 48) };
    expect(parseCrashReport(r)?.frames[0]).toEqual({ module: 'plugin', offset: '0x5404' });
  });

  it('omits a symbol that fills its field without a NUL, or a field of the wrong size', () => {
    for (const symbol of [Buffer.alloc(48, 0x41), Buffer.alloc(47), field('ok', 64), 'bh_deep_c' as never]) {
      const r = raw();
      r.frames[0] = { ...r.frames[0], symbol };
      expect(parseCrashReport(r)?.frames[0].symbol).toBeUndefined();
    }
  });

  it('stops a symbol at its NUL: bytes after it never appear', () => {
    const r = raw();
    const s = field('bh_deep_c', 48);
    s.write('SECRET', 10, 'latin1');
    r.frames[0] = { ...r.frames[0], symbol: s };
    expect(parseCrashReport(r)?.frames[0].symbol).toBe('bh_deep_c');
  });

  it.each([
    ['unnamed', ''],
    ['a control character', 'libc\x1b[31m.so'],
    ['a path', '../../etc/passwd'],
    ['"plugin" (cannot pose as the plugin)', 'plugin'],
  ])('names another module with an invalid basename (%s) <other>', (_, name) => {
    const r = raw();
    r.frames[2] = { ...r.frames[2], moduleName: field(name, 24) };
    expect(parseCrashReport(r)?.frames[2].module).toBe('<other>');
  });

  it('never throws on random reports, and whatever it returns is sane', () => {
    const pick = <T,>(xs: T[]) => xs[crypto.randomInt(xs.length)];
    const u64 = () => crypto.randomBytes(8).readBigUInt64LE();
    const anyValue = () => pick<unknown>([undefined, null, -1, 0, 1, 2, 11, 1.5, NaN, 2 ** 53, 'x', {}, [], -1n, 1n << 64n, u64(), crypto.randomBytes(48)]);
    let parsed = 0;
    for (let i = 0; i < 3000; i++) {
      const frames = Array.from({ length: crypto.randomInt(20) }, () => (crypto.randomInt(4) === 0 ? anyValue() : {
        module: crypto.randomInt(5) === 0 ? anyValue() : crypto.randomInt(3),
        offset: crypto.randomInt(5) === 0 ? anyValue() : u64(),
        symbol: crypto.randomInt(2) === 0 ? crypto.randomBytes(48) : field(crypto.randomBytes(crypto.randomInt(50)).toString('latin1'), 48),
        moduleName: crypto.randomInt(5) === 0 ? anyValue() : crypto.randomBytes(24),
      }));
      const r = {
        kind: crypto.randomInt(4) === 0 ? anyValue() : MAGIC,
        signo: crypto.randomInt(4) === 0 ? anyValue() : pick([4, 5, 6, 7, 8, 11, 9, 31, 0, 64]),
        code: crypto.randomInt(4) === 0 ? anyValue() : crypto.randomInt(-200, 200),
        address: crypto.randomInt(4) === 0 ? anyValue() : u64(),
        frameCount: crypto.randomInt(4) === 0 ? anyValue() : crypto.randomInt(0, 20),
        frames: crypto.randomInt(10) === 0 ? anyValue() : frames,
      };
      const out = parseCrashReport(crypto.randomInt(50) === 0 ? anyValue() : r);
      if (out === undefined) continue;
      parsed++;
      expectSane(out);
      expect(JSON.parse(JSON.stringify(out))).toEqual(out);
    }
    expect(parsed).toBeGreaterThan(0);
  });
});

describe('crash reports from real workers', () => {
  let hostile: Plugin;

  beforeAll(async () => {
    hostile = await load('hostile', { pool: { size: 1 } });
  });

  afterAll(async () => {
    await hostile?.close();
  });

  it('names bh_deep_c, bh_deep_b and bh_deep_a in the plugin for a NULL write three calls deep', async () => {
    const e = await hostile.call('crash_deep', Buffer.alloc(0)).catch((x) => x);
    expect(e).toMatchObject({ code: ErrorCode.WORKER_CRASHED, signal: 'SIGSEGV', fn: 'crash_deep' });
    const report = (e as { report?: CrashReport }).report;
    expect(report).toBeDefined();
    expectSane(report!);
    expect(report).toMatchObject({ signal: 'SIGSEGV', code: 1, address: '0x0' });
    expect(report!.frames.slice(0, 3)).toEqual([
      expect.objectContaining({ module: 'plugin', symbol: 'bh_deep_c' }),
      expect.objectContaining({ module: 'plugin', symbol: 'bh_deep_b' }),
      expect.objectContaining({ module: 'plugin', symbol: 'bh_deep_a' }),
    ]);
  });

  it('reports a stack overflow as SIGSEGV (the handler has a stack of its own), then serves again', async () => {
    const e = await hostile.call('stack_overflow', Buffer.alloc(0)).catch((x) => x);
    expect(e).toMatchObject({ code: ErrorCode.WORKER_CRASHED, signal: 'SIGSEGV', fn: 'stack_overflow' });
    expect(text(await hostile.call('echo', Buffer.from('after overflow')))).toBe('after overflow');
    const report = (e as { report?: CrashReport }).report;
    expect(report).toBeDefined();
    expectSane(report!);
    expect(report!.frames).toHaveLength(16);
    expect(report!.frames.every((f) => f.module === 'plugin' && f.symbol === 'bh_overflow')).toBe(true);
  });
});
