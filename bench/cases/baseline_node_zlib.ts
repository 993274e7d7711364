// Baseline: node:zlib inflating the shared corpus in-process, the work bulkhead_zlib does in a sandbox.

import { deflateSync, inflateSync } from 'node:zlib';
import { INFLATE, assertSameBytes, zlibCorpus } from '../fixtures';
import { main, timeSync } from '../harness';

main('baseline_node_zlib', {
  inflateSync: async () => {
    const corpus = zlibCorpus();
    const compressed = deflateSync(corpus);
    assertSameBytes('node:zlib inflateSync', inflateSync(compressed), corpus);
    return timeSync('inflateSync', () => inflateSync(compressed), INFLATE);
  },
});
