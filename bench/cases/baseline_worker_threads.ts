// Baseline: a worker_threads postMessage echo (structured clone, no transfer), the usual way Node offloads work.

import { Worker } from 'node:worker_threads';
import { BULK, COLD, HOT, LARGE, PIPELINE, SMALL, assertSameBytes, payload } from '../fixtures';
import { main, pump, timeAsync, type Result } from '../harness';

const ECHO = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (m) => parentPort.postMessage(m));
`;

main('baseline_worker_threads', {
  'rtt-64B': () => withEcho(SMALL, (echo) => timeAsync('rtt-64B', echo, HOT)),
  'rtt-64B-cold': () =>
    withEcho(SMALL, (echo) => timeAsync('rtt-64B-cold', echo, COLD)),
  'rtt-1MiB': () => withEcho(LARGE, (echo) => timeAsync('rtt-1MiB', echo, BULK)),
  'pipelined-64B': () =>
    withEcho(SMALL, (echo) => pump('pipelined-64B', echo, PIPELINE)),
});

/** Starts an echo worker; `echo` resolves with each reply in order, so many may be in flight. */
async function withEcho(size: number, measure: (echo: () => Promise<unknown>) => Promise<Result>): Promise<Result> {
  const worker = new Worker(ECHO, { eval: true });
  const waiting: Array<{ resolve: (m: Uint8Array) => void; reject: (e: Error) => void }> = [];
  let failed: Error | undefined;
  worker.on('message', (m: Uint8Array) => waiting.shift()!.resolve(m));
  worker.on('error', (e) => {
    failed = e;
    for (const w of waiting.splice(0)) w.reject(e);
  });
  const input = payload(size);
  const echo = (): Promise<Uint8Array> => {
    if (failed) return Promise.reject(failed);
    return new Promise((resolve, reject) => {
      waiting.push({ resolve, reject });
      worker.postMessage(input);
    });
  };
  try {
    assertSameBytes('the echoed message', await echo(), input);
    return await measure(echo);
  } finally {
    await worker.terminate();
  }
}
