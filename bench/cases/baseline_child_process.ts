// Baseline: a round trip over child_process.fork IPC with 'advanced' (structured clone) serialization.

import { fork, type ChildProcess } from 'node:child_process';
import { BULK, HOT, LARGE, SMALL, assertSameBytes, payload } from '../fixtures';
import { main, timeAsync, type LoopOptions } from '../harness';

const CHILD = '--echo-child';

if (process.argv.includes(CHILD)) {
  process.on('message', (m) => process.send!(m));
  process.on('disconnect', () => process.exit(0));
} else {
  main('baseline_child_process', {
    'rtt-64B': () => roundTrip('rtt-64B', SMALL, HOT),
    'rtt-1MiB': () => roundTrip('rtt-1MiB', LARGE, BULK),
  });
}

async function roundTrip(variant: string, size: number, loop: LoopOptions) {
  const child = fork(__filename, [CHILD], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  try {
    const input = payload(size);
    const echo = echoer(child);
    assertSameBytes('the echoed message', await echo(input), input);
    return await timeAsync(variant, () => echo(input), loop);
  } finally {
    child.disconnect();
  }
}

function echoer(child: ChildProcess): (m: Buffer) => Promise<Uint8Array> {
  let pending: { resolve: (m: Uint8Array) => void; reject: (e: Error) => void } | undefined;
  child.on('message', (m) => pending?.resolve(m as Uint8Array));
  child.on('exit', (code) => pending?.reject(new Error(`Expected the echo child to stay up but it exited with ${code}`)));
  return (m) =>
    new Promise((resolve, reject) => {
      pending = { resolve, reject };
      child.send(m);
    });
}
