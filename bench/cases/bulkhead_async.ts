// Ours: call() round trips, hot and cold, and pipelined throughput, against baseline_worker_threads.

import { loadPlugin } from '../../dist/index';
import { BULK, COLD, HOT, LARGE, PIPELINE, SMALL, assertSameBytes, payload, plugin } from '../fixtures';
import { main, pump, timeAsync, type Result } from '../harness';

type Plugin = Awaited<ReturnType<typeof loadPlugin>>;

main('bulkhead_async', {
  'rtt-64B-hot': () =>
    withEcho(1, SMALL, (call) => timeAsync('rtt-64B-hot', call, HOT)),
  'rtt-64B-cold': () =>
    withEcho(1, SMALL, (call) => timeAsync('rtt-64B-cold', call, COLD)),
  'rtt-1MiB': () => withEcho(1, LARGE, (call) => timeAsync('rtt-1MiB', call, BULK)),
  'pipelined-64B-pool1': () => withEcho(1, SMALL, (call) => pipelined('pipelined-64B-pool1', call)),
  'pipelined-64B-pool2': () => withEcho(2, SMALL, (call) => pipelined('pipelined-64B-pool2', call)),
});

function pipelined(variant: string, call: () => Promise<Uint8Array>): Promise<Result> {
  return pump(variant, call, PIPELINE);
}

async function withEcho(
  poolSize: number,
  size: number,
  measure: (call: () => Promise<Uint8Array>) => Promise<Result>,
): Promise<Result> {
  const echo = plugin('echo');
  const p: Plugin = await loadPlugin(echo.path, {
    trust: { sha256: echo.sha256 },
    pool: { size: poolSize },
    limits: { maxInputBytes: 2 * LARGE, maxOutputBytes: 2 * LARGE, timeoutMs: 5000 },
  });
  try {
    const input = payload(size);
    assertSameBytes('echo via call', await p.call('echo', input), input);
    return await measure(() => p.call('echo', input));
  } finally {
    await p.close();
  }
}
