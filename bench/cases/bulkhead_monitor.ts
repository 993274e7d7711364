// Ours: what the monitor costs. A call the monitor decides (kill(self, 0), which the boundary hands to
// it) against one the kernel's filter answers alone (getppid) in the same worker loop; and another
// plugin's warm spawn (which passes through the monitor) while a plugin floods it with notifications,
// against the same spawn without the flood, in the same process.

import { loadPlugin, type Plugin } from '../../dist/index';
import { plugin } from '../fixtures';
import { latency, main, quick, type Result } from '../harness';

main('bulkhead_monitor', {
  'monitored-syscall': () => syscallCost('kill_ns'),
  'filtered-syscall': () => syscallCost('getppid_ns'),
  'spawn-quiet': () => spawnWhile(false),
  'spawn-under-flood': () => spawnWhile(true),
});

async function load(name: string, pool: number): Promise<Plugin> {
  const p = plugin(name);
  return loadPlugin(p.path, { trust: { sha256: p.sha256 }, pool: { size: pool }, restart: { maxRestarts: 1_000_000 } });
}

/** Per-syscall time inside a worker, one sample per batch of 2000 calls. */
async function syscallCost(key: 'kill_ns' | 'getppid_ns'): Promise<Result> {
  const p = await load('boundary', 1);
  const samples: number[] = [];
  try {
    for (let i = 0; i < (quick ? 10 : 50); i++) {
      const said = Buffer.from(await p.call('attack', Buffer.from('signal_loop:2000'))).toString();
      const m = new RegExp(`${key}=(\\d+)`).exec(said);
      if (!m) throw new Error(`unexpected fixture answer: ${said}`);
      samples.push(Number(m[1]));
    }
  } finally {
    await p.close();
  }
  return latency(key === 'kill_ns' ? 'monitored-syscall' : 'filtered-syscall', samples);
}

/** Warm spawns of hostile (request to pidfd, as the pool reports it), optionally while boundary's two
 *  workers keep the monitor answering kill(self, 0). */
async function spawnWhile(flood: boolean): Promise<Result> {
  const dc = await import('node:diagnostics_channel');
  const victim = await load('hostile', 1);
  const flooder = flood ? await load('boundary', 2) : undefined;
  const samples: number[] = [];
  const onSpawn = (m: unknown) => samples.push((m as { durationUs: number }).durationUs * 1000);
  let flooding = flood;
  const floods = flooder ? [0, 1].map(async () => {
    while (flooding) await flooder.call('attack', Buffer.from('signal_flood:200'));
  }) : [];
  dc.subscribe('bulkhead:worker:spawn', onSpawn);
  try {
    samples.length = 0;
    for (let i = 0; i < (quick ? 30 : 150); i++) {
      await victim.call('exit_now', Buffer.alloc(0)).catch(() => undefined);
      await victim.call('echo', Buffer.from('x'));
    }
  } finally {
    dc.unsubscribe('bulkhead:worker:spawn', onSpawn);
    flooding = false;
    await Promise.all(floods);
    await flooder?.close();
    await victim.close();
  }
  return latency(flood ? 'spawn-under-flood' : 'spawn-quiet', samples);
}
