// host_exit.test.ts: no sandbox process outlives its host or its zygote in any window, start-up
// included: hosts that exit, or are SIGKILLed, while a 32-worker pool is starting leave no plugin
// process behind (the plugins' pid namespace dies with the zygote, which dies with the host).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import { eventually, pluginPath, sha256Of } from './helpers';

/** Live processes of a bulkhead zygote (templates, workers, namespace inits) whose parent is no
 *  longer a zygote or its host: orphans, by construction only of the hosts this test killed. */
function orphans(): number[] {
  const comm = (pid: string) => { try { return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return ''; } };
  const status = (pid: string) => { try { return fs.readFileSync(`/proc/${pid}/status`, 'utf8'); } catch { return ''; } };
  const ppid = (pid: string) => /^PPid:\s+(\d+)/m.exec(status(pid))?.[1] ?? '';
  const zombie = (pid: string) => /^State:\s+Z/m.test(status(pid));  // dead, waiting for init to reap it
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d) && comm(d) === 'bulkhead_zygote' && !zombie(d))
    .filter((d) => { const parent = ppid(d); const c = comm(parent); return c !== 'bulkhead_zygote' && c !== 'node' && !c.startsWith('vitest'); })
    .map(Number);
}

describe('a host that dies while its pool starts', () => {
  it.each(['exit', 'SIGKILL'] as const)('by %s: no plugin process is left, at any moment of the start', async (how) => {
    const script = `
      const { loadPlugin } = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'index.ts'))});
      loadPlugin(${JSON.stringify(pluginPath('echo'))}, { trust: { sha256: ${JSON.stringify(sha256Of(pluginPath('echo')))} }, pool: { size: 32 } })
        .then(() => process.stdout.write('loaded\\n'), () => {});
      process.stdout.write('started\\n');
      setInterval(() => {}, 1000);`;
    for (let i = 0; i < 8; i++) {
      const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
      await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, 20 + i * 40));  // from just after the request to mid-start
      if (how === 'SIGKILL') child.kill('SIGKILL');
      else child.kill('SIGTERM');  // node's default for SIGTERM: exit
      await new Promise((r) => child.once('exit', r));
    }
    expect(await eventually(() => orphans().length === 0, 3000), `orphans: ${orphans()}`).toBe(true);
  }, 60_000);
});
