// crash_report.test.ts: a crashing worker's report about itself, as a crash error carries it.
// The hostile cases (what a plugin could leave in its region) are validated in C++ and tested
// there (cpp/ring/crash_report_test.cc, fuzzed by cpp/fuzz/crash_report_fuzz.cc); here the
// formatting of a validated report, and real workers that crash (crash_deep, stack_overflow).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { formatCrashReport, type CrashReport } from '../lib/crash_report';
import { ErrorCode, type Plugin } from '../lib/index';
import { load, text } from './helpers';

const SYMBOL = /^[A-Za-z0-9_.$@:<>~ -]{1,47}$/;
const MODULE = /^[A-Za-z0-9_.+-]{1,23}$/;
const HEX = /^0x[0-9a-f]{1,16}$/;
const FATAL = ['SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGABRT', 'SIGTRAP'];

/** What every report must look like, whatever the plugin wrote. */
function expectSane(r: CrashReport): void {
  expect(Object.keys(r).sort()).toEqual(['address', 'code', 'frames', 'signal', 'source']);
  expect(r.source).toBe('plugin');
  expect(FATAL).toContain(r.signal);
  expect(Number.isInteger(r.code)).toBe(true);
  expect(r.address).toMatch(HEX);
  expect(r.frames.length).toBeGreaterThanOrEqual(1);
  expect(r.frames.length).toBeLessThanOrEqual(16);
  for (const f of r.frames) {
    expect(Object.keys(f).every((k) => ['module', 'offset', 'symbol'].includes(k))).toBe(true);
    expect(f.offset).toMatch(HEX);
    expect(f.module === 'plugin' || f.module === '<other>' || f.module === '<unknown>' || MODULE.test(f.module)).toBe(true);
    if (f.symbol !== undefined) expect(f.symbol).toMatch(SYMBOL);
  }
}

describe('formatCrashReport', () => {
  it('marks the report as the plugin\'s own account and writes addresses and offsets in hex', () => {
    const r = formatCrashReport({
      signal: 'SIGSEGV', code: -6, address: (1n << 64n) - 1n,
      frames: [
        { module: 'plugin', offset: 0x5404n, symbol: 'bh_deep_c' },
        { module: 'libc.so.6', offset: 0x27305n, symbol: '__libc_start_main' },
        { module: '<unknown>', offset: 0xdeadn },
      ],
    });
    expect(r).toEqual({
      source: 'plugin', signal: 'SIGSEGV', code: -6, address: '0xffffffffffffffff',
      frames: [
        { module: 'plugin', offset: '0x5404', symbol: 'bh_deep_c' },
        { module: 'libc.so.6', offset: '0x27305', symbol: '__libc_start_main' },
        { module: '<unknown>', offset: '0xdead' },
      ],
    });
    expectSane(r!);
  });

  it('has no report when the binding found none valid', () => {
    expect(formatCrashReport(undefined)).toBeUndefined();
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
    expect(report).toMatchObject({ source: 'plugin', signal: 'SIGSEGV', code: 1, address: '0x0' });
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
