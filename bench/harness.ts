// Shared by every case: bounded timing loops, median/p99, and the one JSON line a case prints for run.ts.

import { setTimeout as sleep } from 'node:timers/promises';

export const quick = process.argv.includes('--quick');

/** One measured variant, as run.ts reads it. Latencies in µs; throughput in completed calls per second. */
export interface Result {
  variant: string;
  medianUs?: number;
  p99Us?: number;
  opsPerSec?: number;
  iterations: number;
}

/** The line a case process prints on stdout; run.ts finds it by the `bench` tag. */
export interface ResultLine {
  bench: 1;
  case: string;
  results: Result[];
}

/** Every loop stops at whichever comes first: `iterations` samples or `maxMs` of timed work. */
export interface LoopOptions {
  warmup: number;
  iterations: number;
  maxMs: number;
  /** Idle time before each call, so the callee goes cold between calls. */
  idleMs?: number;
}

/**
 * --quick cuts timed iterations and time, never warmup: the first hundred or so calls after a start run
 * in a different scheduling regime here (cold worker_threads round trips: ~110 µs, then ~17 µs).
 */
export function scaled(o: LoopOptions): LoopOptions {
  if (!quick) return o;
  return {
    ...o,
    iterations: Math.max(10, Math.ceil(o.iterations / 5)),
    maxMs: Math.max(50, Math.ceil(o.maxMs / 4)),
  };
}

export function timeSync(variant: string, fn: () => unknown, options: LoopOptions): Result {
  const o = scaled(options);
  for (let i = 0; i < o.warmup; i++) fn();
  const samples = new Float64Array(o.iterations);
  const deadline = process.hrtime.bigint() + BigInt(o.maxMs) * 1_000_000n;
  let n = 0;
  while (n < o.iterations) {
    const t0 = process.hrtime.bigint();
    fn();
    const t1 = process.hrtime.bigint();
    samples[n++] = Number(t1 - t0);
    if (t1 > deadline) break;
  }
  return latency(variant, samples.subarray(0, n));
}

export async function timeAsync(variant: string, fn: () => Promise<unknown>, options: LoopOptions): Promise<Result> {
  const o = scaled(options);
  for (let i = 0; i < o.warmup; i++) await fn();
  const samples = new Float64Array(o.iterations);
  const deadline = process.hrtime.bigint() + BigInt(o.maxMs) * 1_000_000n;
  let n = 0;
  while (n < o.iterations) {
    if (o.idleMs) await sleep(o.idleMs);
    const t0 = process.hrtime.bigint();
    await fn();
    const t1 = process.hrtime.bigint();
    samples[n++] = Number(t1 - t0);
    if (t1 > deadline) break;
  }
  return latency(variant, samples.subarray(0, n));
}

/** Keeps `inFlight` calls outstanding for `durationMs` (or until `maxOps` complete) and counts completions. */
export async function pump(
  variant: string,
  send: () => Promise<unknown>,
  options: { inFlight: number; durationMs: number; warmupMs: number; maxOps: number },
): Promise<Result> {
  const run = async (durationMs: number, maxOps: number): Promise<{ ops: number; ns: number }> => {
    const t0 = process.hrtime.bigint();
    const deadline = t0 + BigInt(durationMs) * 1_000_000n;
    let ops = 0;
    let stop = false;
    const lane = async (): Promise<void> => {
      while (!stop) {
        await send();
        if (++ops >= maxOps || process.hrtime.bigint() > deadline) stop = true;
      }
    };
    await Promise.all(Array.from({ length: options.inFlight }, lane));
    return { ops, ns: Number(process.hrtime.bigint() - t0) };
  };
  const durationMs = quick ? Math.ceil(options.durationMs / 4) : options.durationMs;
  const maxOps = quick ? Math.ceil(options.maxOps / 4) : options.maxOps;
  await run(options.warmupMs, maxOps);
  const { ops, ns } = await run(durationMs, maxOps);
  return { variant, opsPerSec: round((ops * 1e9) / ns), iterations: ops };
}

/** Builds a latency result from per-call samples in nanoseconds. */
export function latency(variant: string, samplesNs: ArrayLike<number>): Result {
  const sorted = Float64Array.from(samplesNs).sort();
  if (sorted.length === 0) throw new Error(`Expected at least one sample for ${variant} but received none`);
  return {
    variant,
    medianUs: round(percentile(sorted, 0.5) / 1000),
    p99Us: round(percentile(sorted, 0.99) / 1000),
    iterations: sorted.length,
  };
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const rank = Math.ceil(p * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

function round(x: number): number {
  return Number(x.toPrecision(4));
}

/**
 * Runs a case's variants and prints its result line. `--list` prints the variant names instead;
 * `--variant name` runs only that one, which is how run.ts gives every variant its own process.
 */
export async function runCase(name: string, variants: Record<string, () => Promise<Result>>): Promise<void> {
  const argv = process.argv;
  if (argv.includes('--list')) {
    process.stdout.write(JSON.stringify({ bench: 1, case: name, variants: Object.keys(variants) }) + '\n');
    return;
  }
  const at = argv.indexOf('--variant');
  const chosen = at >= 0 ? [argv[at + 1]] : Object.keys(variants);
  const results: Result[] = [];
  for (const v of chosen) {
    const fn = variants[v];
    if (!fn) throw new Error(`Expected one of ${Object.keys(variants).join(', ')} for --variant but received ${v}`);
    results.push(await fn());
  }
  const line: ResultLine = { bench: 1, case: name, results };
  process.stdout.write(JSON.stringify(line) + '\n');
}

/** Entry point of a case file: runs it and exits non-zero with the error on stderr if it fails. */
export function main(name: string, variants: Record<string, () => Promise<Result>>): void {
  runCase(name, variants).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
