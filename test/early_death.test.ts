// early_death.test.ts: workers killed from outside the moment they appear, before or just after the
// host takes them: no slot wedges, every call settles with a typed code by its deadline, the pool
// serves again once the killing stops, and nothing of the plugin is left. The killer is a bounded
// shell loop aimed only at the plugin's own process group (its template's), never the template.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BulkheadError, ErrorCode } from '../lib/index';
import { runtime } from '../lib/runtime';
import { bytes, eventually, load, openFds, text, zygoteChildren } from './helpers';
import { Host, installSignalCounter } from './invariants';

const signals = installSignalCounter();
const host = new Host(signals);
beforeAll(() => host.start());
afterAll(() => host.stop());

/** Process group of `pid` (/proc/<pid>/stat field 5). */
function pgrpOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

/** SIGKILLs, for `ms`, every child of the zygote in process group `group` other than its leader;
 *  resolves with how many it killed. */
function killWorkersAsTheyAppear(zygote: number, group: number, ms: number): Promise<number> {
  const script = `
    n=0; end=$((SECONDS + ${Math.ceil(ms / 1000)}))
    while [ $SECONDS -lt $end ]; do
      for p in $(cat /proc/${zygote}/task/*/children 2>/dev/null); do
        [ "$p" = ${group} ] && continue
        stat=$(cat /proc/$p/stat 2>/dev/null) || continue
        set -- \${stat##*) }
        [ "$3" = ${group} ] && kill -9 "$p" 2>/dev/null && n=$((n + 1))
      done
    done
    echo $n`;
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    host.ownChildren.add(child.pid!);
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('error', reject);
    child.on('exit', () => { host.ownChildren.delete(child.pid!); resolve(Number(out.trim())); });
  });
}

const SETTLED_CODES = new Set<string>([ErrorCode.WORKER_CRASHED, ErrorCode.WORKER_EXITED, ErrorCode.WORKER_LOST, ErrorCode.QUARANTINED,
  ErrorCode.TIMEOUT, ErrorCode.ZYGOTE]);

describe('workers killed as soon as they appear', () => {
  it('never wedge a slot: every call settles by its deadline with a typed code, and the pool serves once the killing stops', async () => {
    const fds0 = openFds();
    const kids0 = zygoteChildren();
    const plugin = await load('echo', { pool: { min: 2, max: 4 }, restart: { maxRestarts: 100_000, maxBackoffMs: 20 } });
    const group = pgrpOf(plugin.workerPids()[0]);
    expect(group).not.toBe(runtime.zygotePid());
    const killing = killWorkersAsTheyAppear(runtime.zygotePid()!, group, 2000);
    const outcomes = new Map<string, number>();
    const t0 = performance.now();
    let calls = 0;
    while (performance.now() - t0 < 1800) {
      const batch = Array.from({ length: 8 }, (_, i) => {
        const started = performance.now();
        return plugin.call('echo', bytes(`c${i}`), { timeoutMs: 1000, idempotent: i % 2 === 0 }).then(
          (v) => { expect(text(v)).toBe(`c${i}`); return 'ok'; },
          (e: unknown) => {
            expect(e).toBeInstanceOf(BulkheadError);
            expect(SETTLED_CODES, (e as Error).message).toContain((e as BulkheadError).code);
            // The deadline holds: no call waits past its own 1 s (plus scheduling slack).
            expect(performance.now() - started).toBeLessThan(1500);
            return (e as BulkheadError).code;
          });
      });
      for (const o of await Promise.all(batch)) outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
      calls += batch.length;
    }
    const killed = await killing;
    expect(killed, 'the killer found workers to kill').toBeGreaterThan(0);
    expect([...outcomes.values()].reduce((a, b) => a + b, 0)).toBe(calls);
    // Killing over: the pool starts workers again and serves (out of quarantine if it went there).
    // (A worker the killer's last round hit may still take one call before its death is seen.)
    if (plugin.state === 'quarantined') plugin.unquarantine();
    await new Promise((r) => setTimeout(r, 100));
    expect(text(await plugin.call('echo', bytes('after'), { timeoutMs: 5000 }))).toBe('after');
    await plugin.close();
    await host.assertHostIntact();
    expect(await eventually(() => zygoteChildren().join() === kids0.join(), 3000), 'processes left behind').toBe(true);
    await host.assertReleased(fds0);
  });
});
