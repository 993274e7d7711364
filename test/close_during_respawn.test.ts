// close_during_respawn.test.ts: hazard "close while a replacement worker is being spawned". The
// host must not keep a spawn request pending forever (it would hold the event loop open and the
// Node process would never exit). Runs the scenario in its own process, which must end by itself.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

import { describe, expect, it } from 'vitest';

// The TypeScript loader runs inside the child itself, so the child's pid is the process to watch.
const TSX_LOADER = pathToFileURL(path.join(__dirname, '..', 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const SCRIPT = path.join(__dirname, 'fixtures', 'close_during_respawn.ts');

function runToExit(args: string[], ms: number): Promise<{ code: number | null; signal: string | null; out: string; err: string; hung: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', TSX_LOADER, SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let hung = false;
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => { hung = true; child.kill('SIGKILL'); }, ms);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, err, hung });
    });
  });
}

describe('close during respawn', () => {
  it('close() right after a crash, while the replacement spawns, leaves nothing pending: the process exits by itself', async () => {
    const r = await runToExit(['20'], 20_000);
    expect(r.err).toBe('');
    expect(r.out).toBe('done 20\n');
    expect(r.hung, 'the process finished its work but never exited (a pending request holds the event loop)').toBe(false);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
  }, 30_000);
});
