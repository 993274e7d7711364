// log_flood.test.ts: a worker that writes log lines straight into its response ring, bypassing the
// worker-side cap of host->log (hostile.c, log_flood_raw). The host's own caps must hold: the
// lines over limits.logLinesPerCall / logLinesPerSecond are dropped in the native drain, one
// summary says how many, the call's result is intact, and other calls keep completing meanwhile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ErrorCode, type LogEvent, type Plugin } from '../lib/index';
import { bytes, eventually, load, openFds, text } from './helpers';
import { Host, installSignalCounter, rejectionOf } from './invariants';

const signals = installSignalCounter();
const host = new Host(signals);

beforeAll(() => host.start());
afterAll(() => host.stop());

/** Plugin lines and bulkhead's drop summaries, as they arrive. */
function collect(p: Plugin): { lines: LogEvent[]; summaries: LogEvent[] } {
  const got = { lines: [] as LogEvent[], summaries: [] as LogEvent[] };
  p.on('log', (e: LogEvent) => (e.dropped === undefined ? got.lines : got.summaries).push(e));
  return got;
}

/** The flood's worker exits once the host has read everything; the pool replaces it. */
async function expectServingAgain(p: Plugin, size: number): Promise<void> {
  expect(await eventually(() => p.workerPids().length === size, 3000)).toBe(true);
  expect(text(await p.call('echo', bytes('after')))).toBe('after');
}

describe('log flood written straight into the response ring', () => {
  it('delivers exactly logLinesPerCall (100) lines of the call, drops the rest before JS, and says so once', async () => {
    const fds0 = openFds();
    const p = await load('hostile', { limits: { timeoutMs: 20_000 }, pool: { size: 1 } });
    try {
      const got = collect(p);
      expect(text(await p.call('log_flood_raw', bytes('200000')))).toBe('flooded');
      // The lines precede the response in the ring, so every one of them was counted by now.
      expect(p.metrics().droppedLogLines).toBe(200_000 - 100);
      expect(got.lines).toHaveLength(100);
      expect(got.lines.map((e) => e.message)).toEqual(Array.from({ length: 100 }, (_, i) => `raw ${i}`));
      expect(new Set(got.lines.map((e) => `${e.level} ${e.fn}`))).toEqual(new Set(['info log_flood_raw']));

      expect(await eventually(() => got.summaries.length > 0, 3000)).toBe(true);
      expect(got.summaries).toEqual([{
        level: 'warn', dropped: 199_900,
        message: 'bulkhead dropped 199900 log lines of hostile over its limits (100 per call, 1000 per second)',
      }]);
      expect(got.lines).toHaveLength(100);
      await expectServingAgain(p, 1);
      await host.assertHostIntact();
    } finally {
      await p.close();
    }
    await host.assertReleased(fds0);
  });

  it('caps the plugin at logLinesPerSecond when that binds first (30 of 20000 lines)', async () => {
    const p = await load('hostile', { limits: { timeoutMs: 20_000, logLinesPerSecond: 30 }, pool: { size: 1 } });
    try {
      const got = collect(p);
      expect(text(await p.call('log_flood_raw', bytes('20000')))).toBe('flooded');
      expect(got.lines.map((e) => e.message)).toEqual(Array.from({ length: 30 }, (_, i) => `raw ${i}`));
      expect(p.metrics().droppedLogLines).toBe(20_000 - 30);
      expect(await eventually(() => got.summaries.length > 0, 3000)).toBe(true);
      expect(got.summaries.map((e) => e.dropped)).toEqual([19_970]);
      expect(got.summaries[0].message).toContain('(100 per call, 30 per second)');
    } finally {
      await p.close();
    }
  });

  it('logLinesPerCall: 0 silences the plugin; every line is counted as dropped', async () => {
    const p = await load('hostile', { limits: { logLinesPerCall: 0 }, pool: { size: 1 } });
    try {
      const got = collect(p);
      expect(text(await p.call('log_line', bytes('hello')))).toBe('logged');
      expect(await eventually(() => p.metrics().droppedLogLines === 1)).toBe(true);
      expect(await eventually(() => got.summaries.length > 0, 3000)).toBe(true);
      expect(got.lines).toEqual([]);
      expect(got.summaries.map((e) => e.dropped)).toEqual([1]);
      expect(got.summaries[0].message).toBe('bulkhead dropped 1 log line of hostile over its limits (0 per call, 1000 per second)');
    } finally {
      await p.close();
    }
  });

  it('a sibling plugin and a sibling worker keep completing correct calls during a flood', async () => {
    const fds0 = openFds();
    const p = await load('hostile', { limits: { timeoutMs: 20_000 }, pool: { size: 2 } });
    try {
      const got = collect(p);
      // The in-pool sibling: its call is in flight on the other worker before the flood starts.
      const canary = p.call('sleep_ms', bytes('20'), { timeoutMs: 20_000 });
      let flooding = true;
      const flood = p.call('log_flood_raw', bytes('3000000')).finally(() => { flooding = false; });
      let during = 0;
      for (let i = 0; flooding; i++) {
        const token = `sibling-${i}`;
        expect(text(await host.echo.call('echo', bytes(token)))).toBe(token);
        if (flooding) during++;
      }
      expect(text(await flood)).toBe('flooded');
      expect(text(await canary)).toBe('slept');
      expect(during, 'sibling calls completed while the flood was read').toBeGreaterThan(0);
      expect(got.lines).toHaveLength(100);
      expect(p.metrics().droppedLogLines).toBe(3_000_000 - 100);
      await expectServingAgain(p, 2);
      await host.assertHostIntact();
    } finally {
      await p.close();
    }
    await host.assertReleased(fds0);
  });

  it.each([
    ['logLinesPerCall', -1, 'Expected an integer between 0 and 10000 for options.limits.logLinesPerCall but received the number -1'],
    ['logLinesPerCall', 1.5, 'Expected an integer between 0 and 10000 for options.limits.logLinesPerCall but received the number 1.5'],
    ['logLinesPerSecond', 1e7, 'Expected an integer between 0 and 1000000 for options.limits.logLinesPerSecond but received the number 10000000'],
  ])('rejects limits.%s = %s', async (key, value, message) => {
    const e = await rejectionOf(load('hostile', { limits: { [key]: value } }));
    expect(e.code).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(e.message).toBe(message);
  });
});
