// Ours: callSync round trips through the echo plugin, against baseline_shm_pingpong's floors.

import { loadPlugin } from '../../dist/index';
import { BULK, LARGE, SMALL, SPIN, assertSameBytes, payload, plugin } from '../fixtures';
import { main, timeSync, type LoopOptions, type Result } from '../harness';

main('bulkhead_sync', {
  'rtt-64B': () => echoSync('rtt-64B', SMALL, SPIN),
  'rtt-1MiB': () => echoSync('rtt-1MiB', LARGE, BULK),
});

async function echoSync(variant: string, size: number, loop: LoopOptions): Promise<Result> {
  const echo = plugin('echo');
  const p = await loadPlugin(echo.path, {
    trust: { sha256: echo.sha256 },
    pool: { size: 1 },
    limits: { maxInputBytes: 2 * LARGE, maxOutputBytes: 2 * LARGE, timeoutMs: 5000 },
  });
  try {
    const input = payload(size);
    assertSameBytes('echo via callSync', p.callSync('echo', input), input);
    return timeSync(variant, () => p.callSync('echo', input), loop);
  } finally {
    await p.close();
  }
}
