// Baseline: the C floor in bench/c/shm_pingpong.c, compiled here and run as its own pair of processes.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BULK, SPIN } from '../fixtures';
import { main, scaled, type LoopOptions, type Result } from '../harness';

main('baseline_shm_pingpong', {
  'pingpong-64B': () => runC('pingpong-64B', 'pingpong', SPIN),
  'memcpy-2x1MiB': () => runC('memcpy-2x1MiB', 'memcpy', BULK),
});

async function runC(variant: string, mode: string, loop: LoopOptions): Promise<Result> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bulkhead-bench-'));
  try {
    const exe = path.join(dir, 'shm_pingpong');
    execFileSync('cc', ['-O2', '-o', exe, path.join(__dirname, '..', 'c', 'shm_pingpong.c')], { stdio: 'inherit' });
    const o = scaled(loop);
    const out = execFileSync(exe, [mode, String(o.warmup), String(o.iterations), String(o.maxMs)], {
      encoding: 'utf8',
      timeout: 30_000,
      killSignal: 'SIGKILL',
    });
    const r = JSON.parse(out) as { variant: string; medianNs: number; p99Ns: number; iterations: number };
    if (r.variant !== variant) throw new Error(`Expected variant ${variant} from shm_pingpong but received ${r.variant}`);
    return { variant, medianUs: r.medianNs / 1000, p99Us: r.p99Ns / 1000, iterations: r.iterations };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
