// demo.ts: `npm run demo`. Loads the zlib plugin into a sandbox, uses it, then shows a crash, a
// sandbox violation and a timeout being contained while the host carries on.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

import { capabilities, isBulkheadError, loadPlugin } from '../lib/index';

const dir = path.join(__dirname, '..', 'build', 'plugins');
const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function zlibDemo(zlibPath: string): Promise<void> {
  const codec = await loadPlugin(zlibPath, { trust: { sha256: sha256(zlibPath) }, pool: { size: 2 } });
  console.log(`\nloaded ${codec.name} ${codec.version} into workers ${codec.workerPids().join(', ')}: ${codec.functions.join(', ')}`);
  const text = Buffer.from(Array.from({ length: 20000 }, (_, i) => `line ${i}: the quick brown fox\n`).join(''));
  const packed = zlib.deflateSync(text);
  const out = await codec.call('inflate', packed);
  console.log(`inflate: ${packed.length} B -> ${out.byteLength} B, identical to the original: ${Buffer.compare(Buffer.from(out), text) === 0}`);
  const ours: number[] = [];
  const node: number[] = [];
  for (let i = 0; i < 200; i++) {
    let t = performance.now();
    codec.callSync('inflate', packed);
    ours.push(performance.now() - t);
    t = performance.now();
    zlib.inflateSync(packed);
    node.push(performance.now() - t);
  }
  console.log(`median inflate of ${(text.length / 1024).toFixed(0)} KiB: sandboxed ${(median(ours) * 1000).toFixed(0)} µs, ` +
    `node:zlib in-process ${(median(node) * 1000).toFixed(0)} µs`);
  await codec.close();
}

async function main(): Promise<void> {
  const caps = capabilities();
  console.log(`kernel ${caps.kernelRelease} (${caps.arch}): seccomp ${caps.seccomp.available ? 'yes' : 'no'}, ` +
    `Landlock ABI ${caps.landlock.abi}, isolation level '${caps.level}'`);

  // 1. A real library in a sandbox: zlib, pinned by digest (built where libz.a is installed).
  const zlibPath = path.join(dir, 'zlib_codec.so');
  if (fs.existsSync(zlibPath)) await zlibDemo(zlibPath);
  else console.log('\n(the zlib example was not built: install zlib1g-dev, then npm run build:plugins)');

  // 2. Hostile code, contained.
  const hostilePath = path.join(dir, 'hostile.so');
  const hostile = await loadPlugin(hostilePath, { trust: { sha256: sha256(hostilePath) }, pool: { size: 2 }, limits: { timeoutMs: 250 } });
  console.log(`\nloaded the hostile test plugin into workers ${hostile.workerPids().join(', ')}`);
  hostile.on('crash', (e) => console.log(`  event 'crash': ${e.code}`));
  hostile.on('violation', (e) => console.log(`  event 'violation': ${e.syscall}`));
  const sibling = hostile.call('sleep_ms', Buffer.from('200'), { timeoutMs: 2000 });  // runs on the other worker
  for (const [fn, input, what] of [
    ['segfault', '', 'writes through a NULL pointer'],
    ['connect_tcp', '80', 'opens a TCP socket'],
    ['read_file', '/etc/shadow', 'reads a file outside its grant'],
    ['spin', '', 'loops forever'],
  ] as const) {
    const t0 = performance.now();
    try {
      await hostile.call(fn, Buffer.from(input));
      console.log(`${fn} (${what}): unexpectedly succeeded`);
    } catch (e) {
      if (!isBulkheadError(e)) throw e;
      console.log(`${fn} (${what}) -> ${e.code} in ${(performance.now() - t0).toFixed(1)} ms: ${e.message}`);
    }
  }
  console.log(`the sibling call on the other worker: ${Buffer.from(await sibling).toString()}`);
  const again = await hostile.call('echo', Buffer.from('still serving'));
  await new Promise((r) => setTimeout(r, 20));  // let the last replacement finish starting
  console.log(`next call: "${Buffer.from(again).toString()}"; workers now ${hostile.workerPids().join(', ')}; ` +
    `restarts ${hostile.metrics().restarts}; host pid ${process.pid} alive`);

  await hostile.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
