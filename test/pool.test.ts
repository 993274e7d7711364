// The warm pool: min workers at start, growth under load up to max, shrink when idle, recycling.
import { describe, expect, it } from 'vitest';

import { eventually, load, text } from './helpers';

describe('warm pool', () => {
  it('starts min workers and grows to max while every worker is busy', async () => {
    const p = await load('hostile', { pool: { min: 1, max: 3 } });
    expect(p.workerPids()).toHaveLength(1);
    const slow = Array.from({ length: 3 }, () => p.call('sleep_ms', Buffer.from('150')));
    expect(await eventually(() => p.workerPids().length === 3, 1000)).toBe(true);
    expect((await Promise.all(slow)).map(text)).toEqual(['slept', 'slept', 'slept']);
    await p.close();
  });

  it('shrinks back to min after idleMs', async () => {
    const p = await load('hostile', { pool: { min: 1, max: 3, idleMs: 50 } });
    await Promise.all(Array.from({ length: 3 }, () => p.call('sleep_ms', Buffer.from('100'))));
    expect(await eventually(() => p.workerPids().length === 1, 3000)).toBe(true);
    await p.close();
  });

  it('recycles a worker after maxCallsPerWorker calls', async () => {
    const p = await load('echo', { pool: { size: 1, maxCallsPerWorker: 5 } });
    const first = p.workerPids()[0];
    for (let i = 0; i < 5; i++) await p.call('echo', Buffer.from(`${i}`));
    expect(await eventually(() => p.workerPids().length === 1 && p.workerPids()[0] !== first, 2000)).toBe(true);
    expect(text(await p.call('echo', Buffer.from('fresh')))).toBe('fresh');
    expect(p.metrics().recycled).toBeGreaterThanOrEqual(1);
    await p.close();
  });

  it('rejects inconsistent pool options', async () => {
    await expect(load('echo', { pool: { size: 2, min: 1 } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(load('echo', { pool: { min: 3, max: 2 } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});
