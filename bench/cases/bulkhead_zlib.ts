// Ours: the zlib_codec plugin inflating baseline_node_zlib's corpus in a sandbox, async and sync.

import { deflateSync } from 'node:zlib';
import { loadPlugin } from '../../dist/index';
import { INFLATE, LARGE, assertSameBytes, plugin, zlibCorpus } from '../fixtures';
import { main, timeAsync, timeSync, type Result } from '../harness';

type Plugin = Awaited<ReturnType<typeof loadPlugin>>;

main('bulkhead_zlib', {
  'inflate-async': () =>
    withCodec(async (p, compressed, corpus) => {
      assertSameBytes('zlib_codec inflate via call', await p.call('inflate', compressed), corpus);
      return timeAsync('inflate-async', () => p.call('inflate', compressed), INFLATE);
    }),
  'inflate-sync': () =>
    withCodec(async (p, compressed, corpus) => {
      assertSameBytes('zlib_codec inflate via callSync', p.callSync('inflate', compressed), corpus);
      return timeSync('inflate-sync', () => p.callSync('inflate', compressed), INFLATE);
    }),
});

/** Loads the codec and hands over the corpus deflated by node:zlib, exactly as baseline_node_zlib inflates it. */
async function withCodec(measure: (p: Plugin, compressed: Buffer, corpus: Buffer) => Promise<Result>): Promise<Result> {
  const codec = plugin('zlib_codec');
  const p = await loadPlugin(codec.path, {
    trust: { sha256: codec.sha256 },
    pool: { size: 1 },
    limits: { maxInputBytes: 2 * LARGE, maxOutputBytes: 2 * LARGE, timeoutMs: 5000 },
  });
  try {
    const corpus = zlibCorpus();
    return await measure(p, deflateSync(corpus), corpus);
  } finally {
    await p.close();
  }
}
