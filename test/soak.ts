// soak.ts: the fault-injection soak (`npm run soak -- --calls N --seconds S`; not part of npm test).
// Pools of the hostile fixture take a stream of calls (echoes of random sizes, crashes, hangs, calls
// aborted at random moments) while the soak SIGKILLs random workers from outside and listeners
// throw. It prints calls correct, rejected by code, wrong (an answer that is not the call's own),
// hung (not settled within its deadline plus slack), misattributed (an error no cause of its own
// explains) and leak counters before and after; it exits 1 unless wrong, hung and misattributed
// are all 0 and the counters are flat.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { BulkheadError, ErrorCode, loadPlugin, type Plugin } from '../lib/index';
import { zygoteChildren } from './helpers';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const CALLS = arg('calls', 100_000);
const SECONDS = arg('seconds', 300);
const IN_FLIGHT = arg('inflight', 64);
const PLUGINS = arg('plugins', 2);
const FIXTURE = path.join(__dirname, '..', 'build', 'plugins', 'hostile.so');

let seed = arg('seed', 1);
function rand(): number {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
}

type Kind = 'echo' | 'crash' | 'hang' | 'abort';
// What each kind of call may end in besides its own answer: the faults the soak injects.
const OUTSIDE = [ErrorCode.WORKER_CRASHED, ErrorCode.WORKER_LOST];
const ALLOWED: Record<Kind, string[]> = {
  echo: OUTSIDE,
  crash: [ErrorCode.WORKER_CRASHED, ErrorCode.WORKER_LOST],
  hang: [ErrorCode.TIMEOUT, ...OUTSIDE],
  abort: [ErrorCode.ABORTED, ...OUTSIDE],
};

function leaks(): Record<string, number> {
  const fds = fs.readdirSync('/proc/self/fd');
  const memfds = fds.filter((f) => {
    try { return fs.readlinkSync(`/proc/self/fd/${f}`).startsWith('/memfd:'); } catch { return false; }
  }).length;
  const zygote = zygoteChildren().length;
  let cgroups = 0;
  for (const root of ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/pids', '/sys/fs/cgroup/unified', '/sys/fs/cgroup']) {
    const dir = path.join(root, `bulkhead-${process.pid}`);
    if (!fs.existsSync(dir)) continue;
    const walk = (d: string): number => fs.readdirSync(d, { withFileTypes: true })
      .filter((e) => e.isDirectory()).reduce((n, e) => n + 1 + walk(path.join(d, e.name)), 0);
    cgroups += walk(dir);
  }
  return { fds: fds.length, memfds, zygoteChildren: zygote, cgroups };
}

async function main(): Promise<void> {
  let listenerThrows = 0;
  process.on('uncaughtException', (e) => {
    if ((e as Error).message === 'soak listener') listenerThrows++;
    else throw e;
  });
  // Baseline with the zygote up (it starts on the first load) but no soak plugin loaded.
  const warm = await loadPlugin(FIXTURE, { trust: { dangerouslySkipVerification: true }, pool: { size: 1 } });
  const before = leaks();
  const plugins: Plugin[] = [];
  for (let i = 0; i < PLUGINS; i++) {
    const p = await loadPlugin(FIXTURE, {
      trust: { dangerouslySkipVerification: true }, pool: { min: 2, max: 8 },
      restart: { maxRestarts: 1_000_000, windowMs: 1000 }, limits: { timeoutMs: 2000 },
    });
    p.on('crash', () => { if (rand() < 0.05) throw new Error('soak listener'); });
    plugins.push(p);
  }
  const counts = { correct: 0, wrong: 0, hung: 0, misattributed: 0, outsideKills: 0 };
  const byCode: Record<string, number> = {};
  const misattributedSamples: string[] = [];
  let started = 0;
  let settled = 0;
  const until = Date.now() + SECONDS * 1000;

  const killer = setInterval(() => {
    const p = plugins[Math.floor(rand() * plugins.length)];
    const pids = p.workerPids();
    if (pids.length === 0) return;
    try {
      process.kill(pids[Math.floor(rand() * pids.length)], 'SIGKILL');
      counts.outsideKills++;
    } catch { /* already gone */ }
  }, 20);

  async function one(): Promise<void> {
    const p = plugins[Math.floor(rand() * plugins.length)];
    const r = rand();
    const kind: Kind = r < 0.85 ? 'echo' : r < 0.9 ? 'crash' : r < 0.95 ? 'hang' : 'abort';
    const size = rand() < 0.01 ? 1 << 20 : Math.floor(rand() * 4096);
    const input = Buffer.alloc(size + 8);
    input.writeUInt32LE(started, 0);
    for (let i = 8; i < input.length; i += 97) input[i] = (started + i) & 0xff;
    const ac = new AbortController();
    const timeoutMs = kind === 'hang' ? 20 : 2000;
    const deadline = Date.now() + timeoutMs + 5000;
    const call = kind === 'crash' ? p.call('segfault', Buffer.alloc(0))
      : kind === 'hang' ? p.call('sleep_ms', Buffer.from('1000'), { timeoutMs })
        : p.call('echo', input, { signal: kind === 'abort' ? ac.signal : undefined, timeoutMs });
    if (kind === 'abort') setTimeout(() => ac.abort(), Math.floor(rand() * 3));
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<'hung'>((resolve) => { timer = setTimeout(() => resolve('hung'), deadline - Date.now()); });
    const outcome = await Promise.race([call.then((v) => ({ v }), (e: unknown) => ({ e })), hung]);
    clearTimeout(timer);
    settled++;
    if (outcome === 'hung') {
      counts.hung++;
      return;
    }
    if ('v' in outcome) {
      const ok = kind === 'echo' || kind === 'abort' ? Buffer.compare(Buffer.from(outcome.v), input) === 0 : false;
      if (ok) counts.correct++;
      else counts.wrong++;
      return;
    }
    const e = outcome.e as BulkheadError;
    const code = e instanceof BulkheadError ? e.code : `untyped ${String(e)}`;
    byCode[code] = (byCode[code] ?? 0) + 1;
    if (!ALLOWED[kind].includes(code)) {
      counts.misattributed++;
      if (misattributedSamples.length < 5) misattributedSamples.push(`${kind}: ${code}: ${e.message}`);
    }
  }

  const lanes = Array.from({ length: IN_FLIGHT }, async () => {
    while (started < CALLS && Date.now() < until) {
      started++;
      await one();
    }
  });
  const progress = setInterval(() => process.stderr.write(`soak: ${settled} calls settled\n`), 10_000);
  await Promise.all(lanes);
  clearInterval(killer);
  clearInterval(progress);
  for (const p of plugins) await p.close();
  await new Promise((r) => setTimeout(r, 500));  // exits and cgroup removals land
  const after = leaks();
  await warm.close();
  const flat = Object.keys(before).every((k) => before[k] === after[k]);
  console.log(JSON.stringify({
    calls: settled, ...counts, rejectedByCode: byCode, listenerThrows, misattributedSamples,
    leaksBefore: before, leaksAfter: after, flat,
  }, null, 2));
  process.exitCode = counts.wrong === 0 && counts.hung === 0 && counts.misattributed === 0 && flat ? 0 : 1;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
