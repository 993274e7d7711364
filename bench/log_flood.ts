// log_flood.ts: what a hostile worker's log flood costs the host, measured by hand (not a case of
// run.ts: it compares two builds, not us against a baseline). The hostile fixture writes N log
// lines straight into its response ring (log_flood_raw) while a second plugin (echo) keeps
// answering calls; prints the event-loop stall, the host's RSS growth, the 'log' events delivered
// and the sibling's call latency before and during the flood.
//
//   npm run build && node --import tsx bench/log_flood.ts [library root, default .] [lines, default 2500000]
//
// The root needs dist/ and build/Release (with hostile.so carrying log_flood_raw): point it at a
// checkout of another commit to get its figures beside these.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const root = path.resolve(process.argv[2] ?? '.');
const lines = Number(process.argv[3] ?? 2_500_000);
const { loadPlugin } = require(path.join(root, 'dist', 'index.js')) as typeof import('../lib/index');

function load(name: string, options: object) {
  const file = path.join(root, 'build', 'plugins', `${name}.so`);
  const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
  return loadPlugin(file, { trust: { sha256 }, ...options });
}

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function siblingLoop(echo: Awaited<ReturnType<typeof load>>, until: () => boolean): Promise<number[]> {
  const ms: number[] = [];
  const input = Buffer.from('sibling');
  while (!until()) {
    const t0 = performance.now();
    await echo.call('echo', input);
    ms.push(performance.now() - t0);
  }
  return ms.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  const hostile = await load('hostile', { pool: { size: 1 }, limits: { timeoutMs: 120_000 } });
  const echo = await load('echo', { pool: { size: 1 } });
  let events = 0;
  let summaries = 0;
  hostile.on('log', (e: { dropped?: number }) => { if (e.dropped === undefined) events++; else summaries++; });

  // Baseline: the sibling alone for 500 ms.
  const t0 = performance.now();
  const before = await siblingLoop(echo, () => performance.now() - t0 > 500);

  const rssAnon = () => Number(/^RssAnon:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'latin1'))?.[1] ?? NaN) * 1024;
  const rss0 = process.memoryUsage().rss;
  const anon0 = rssAnon();
  let rssPeak = rss0;
  let anonPeak = anon0;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    anonPeak = Math.max(anonPeak, rssAnon());
  }, 5);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  let done = false;
  const start = performance.now();
  const flood = hostile.call('log_flood_raw', Buffer.from(String(lines))).finally(() => { done = true; });
  const during = await siblingLoop(echo, () => done);
  const out = Buffer.from(await flood).toString();
  const floodMs = performance.now() - start;
  await new Promise((r) => setTimeout(r, 1100));  // trailing events and the drop summary
  delay.disable();
  clearInterval(sampler);

  const fmt = (x: number) => x.toFixed(2);
  console.log(JSON.stringify({
    root, lines, result: out, floodMs: Math.round(floodMs),
    logEvents: events, summaries, dropped: (hostile.metrics() as { droppedLogLines?: number }).droppedLogLines ?? null,
    loopDelayMaxMs: fmt(delay.max / 1e6), loopDelayP99Ms: fmt(delay.percentile(99) / 1e6),
    // RSS counts the ring's shared pages the host touched while reading; RssAnon is the host's own.
    rssGrowthMiB: fmt((rssPeak - rss0) / 2 ** 20), rssAnonGrowthMiB: fmt((anonPeak - anon0) / 2 ** 20),
    sibling: {
      before: { n: before.length, p50Ms: fmt(quantile(before, 0.5)), p99Ms: fmt(quantile(before, 0.99)) },
      during: { n: during.length, p50Ms: fmt(quantile(during, 0.5)), p99Ms: fmt(quantile(during, 0.99)), maxMs: fmt(during.at(-1) ?? NaN) },
    },
  }, null, 1));
  await hostile.close();
  await echo.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
