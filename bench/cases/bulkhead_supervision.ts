// Ours: supervision latencies with absolute targets (DESIGN.md): warm spawn (template fork to a
// ready worker with its sandbox applied), crash to replacement serving, and timeout overshoot.

import * as dc from 'node:diagnostics_channel';

import { loadPlugin } from '../../dist/index';
import { plugin } from '../fixtures';
import { latency, main, quick, type Result } from '../harness';

main('bulkhead_supervision', {
  'warm-spawn': warmSpawn,
  'crash-to-serving': crashToServing,
  'timeout-overshoot': timeoutOvershoot,
});

async function load(restart = {}) {
  const p = plugin('hostile');
  return loadPlugin(p.path, { trust: { sha256: p.sha256 }, pool: { size: 1 }, restart: { maxRestarts: 1_000_000, ...restart } });
}

/** Spawn latency as the pool reports it on bulkhead:worker:spawn (spawn request to pidfd). */
async function warmSpawn(): Promise<Result> {
  const samples: number[] = [];
  const onSpawn = (m: unknown) => samples.push((m as { durationUs: number }).durationUs * 1000);
  dc.subscribe('bulkhead:worker:spawn', onSpawn);
  const p = await load();
  try {
    samples.length = 0;  // the first spawn also pays for the zygote and template
    const n = quick ? 40 : 200;
    for (let i = 0; i < n; i++) {
      await p.call('exit_now', Buffer.alloc(0)).catch(() => undefined);  // each exit forces a replacement
      await p.call('echo', Buffer.from('x'));
    }
  } finally {
    dc.unsubscribe('bulkhead:worker:spawn', onSpawn);
    await p.close();
  }
  return latency('warm-spawn', samples);
}

/** From the crashed call's rejection to the next call answered by the replacement. */
async function crashToServing(): Promise<Result> {
  const p = await load();
  const samples: number[] = [];
  try {
    const n = quick ? 40 : 200;
    for (let i = 0; i < n; i++) {
      await p.call('segfault', Buffer.alloc(0)).catch(() => undefined);
      const t0 = process.hrtime.bigint();
      await p.call('echo', Buffer.from('x'));
      samples.push(Number(process.hrtime.bigint() - t0));
    }
  } finally {
    await p.close();
  }
  return latency('crash-to-serving', samples);
}

/** How long after its 20 ms deadline a spinning call is rejected. */
async function timeoutOvershoot(): Promise<Result> {
  const p = await load();
  const samples: number[] = [];
  try {
    const n = quick ? 10 : 40;
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      await p.call('spin', Buffer.alloc(0), { timeoutMs: 20 }).catch(() => undefined);
      samples.push(Math.max(0, Number(process.hrtime.bigint() - t0) - 20e6));
    }
  } finally {
    await p.close();
  }
  return latency('timeout-overshoot', samples);
}
