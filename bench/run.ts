// Runs every bench/cases file, each variant in its own process, one after another, and prints one table
// with each of our figures as a ratio to its baseline from the same run, against DESIGN.md's targets.
//
// Usage: tsx bench/run.ts [--quick] [--only case,case] [--json [file]]

import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Result } from './harness';

const ROOT = path.join(__dirname, '..');
const CASES = path.join(__dirname, 'cases');
const DEFAULT_JSON = path.join(__dirname, 'results', 'latest.json');
/** A variant should finish in a few seconds; this only stops a hung one. */
const CHILD_TIMEOUT_MS = 60_000;

/** One of our figures against its baseline; DESIGN.md "Performance targets" gives each target. */
interface Comparison {
  what: string;
  ours: [string, string];
  /** Absent for absolute targets (µs), which have no baseline to divide by. */
  baseline?: [string, string];
  /** latency: ours/baseline median, pass at or below target; throughput: ours/baseline ops/s, pass
   *  at or above; absolute: our median in µs, pass at or below target. */
  metric: 'latency' | 'throughput' | 'absolute';
  target: number;
}

const COMPARISONS: Comparison[] = [
  { what: 'sync 64 B vs bare C ping-pong', ours: ['bulkhead_sync', 'rtt-64B'], baseline: ['baseline_shm_pingpong', 'pingpong-64B'], metric: 'latency', target: 2 },
  { what: 'sync 1 MiB in+out vs two memcpys', ours: ['bulkhead_sync', 'rtt-1MiB'], baseline: ['baseline_shm_pingpong', 'memcpy-2x1MiB'], metric: 'latency', target: 3 },
  { what: 'async 64 B hot vs worker_threads', ours: ['bulkhead_async', 'rtt-64B-hot'], baseline: ['baseline_worker_threads', 'rtt-64B'], metric: 'latency', target: 0.1 },
  { what: 'async 64 B cold vs worker_threads cold', ours: ['bulkhead_async', 'rtt-64B-cold'], baseline: ['baseline_worker_threads', 'rtt-64B-cold'], metric: 'latency', target: 1 },
  { what: 'async 1 MiB in+out vs two memcpys', ours: ['bulkhead_async', 'rtt-1MiB'], baseline: ['baseline_shm_pingpong', 'memcpy-2x1MiB'], metric: 'latency', target: 3 },
  { what: 'pipelined, pool 1 vs worker_threads pump', ours: ['bulkhead_async', 'pipelined-64B-pool1'], baseline: ['baseline_worker_threads', 'pipelined-64B'], metric: 'throughput', target: 5 },
  { what: 'pipelined, pool 2 vs worker_threads pump', ours: ['bulkhead_async', 'pipelined-64B-pool2'], baseline: ['baseline_worker_threads', 'pipelined-64B'], metric: 'throughput', target: 5 },
  { what: 'zlib inflate async vs node:zlib', ours: ['bulkhead_zlib', 'inflate-async'], baseline: ['baseline_node_zlib', 'inflateSync'], metric: 'latency', target: 1.2 },
  { what: 'zlib inflate sync vs node:zlib', ours: ['bulkhead_zlib', 'inflate-sync'], baseline: ['baseline_node_zlib', 'inflateSync'], metric: 'latency', target: 1.2 },
  { what: 'warm worker spawn', ours: ['bulkhead_supervision', 'warm-spawn'], metric: 'absolute', target: 250 },
  { what: 'crash to replacement serving', ours: ['bulkhead_supervision', 'crash-to-serving'], metric: 'absolute', target: 1000 },
  { what: 'timeout overshoot', ours: ['bulkhead_supervision', 'timeout-overshoot'], metric: 'absolute', target: 2000 },
  // The monitor: a call it decides vs one the filter answers alone, and a spawn while another plugin
  // floods it vs a quiet spawn (the fairness bound; no DESIGN target, 2x is ours).
  { what: 'monitored syscall vs filtered syscall', ours: ['bulkhead_monitor', 'monitored-syscall'], baseline: ['bulkhead_monitor', 'filtered-syscall'], metric: 'latency', target: 100 },
  { what: 'spawn under a notification flood vs quiet', ours: ['bulkhead_monitor', 'spawn-under-flood'], baseline: ['bulkhead_monitor', 'spawn-quiet'], metric: 'latency', target: 2 },
];

interface Row {
  case: string;
  variant: string;
  result?: Result;
  error?: string;
  /** Everything the failing process wrote to stderr, for the failures section. */
  detail?: string;
}

interface Verdict extends Comparison {
  ratio?: number;
  pass?: boolean;
}

interface Options {
  quick: boolean;
  only?: string[];
  json?: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { quick: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--only') {
      const list = argv[++i];
      if (!list || list.startsWith('--')) throw new Error(`Expected a comma-separated list of cases for --only but received ${list ?? 'nothing'}`);
      o.only = list.split(',').map((s) => s.trim()).filter(Boolean);
    } else if (a === '--json') {
      const next = argv[i + 1];
      o.json = next && !next.startsWith('--') ? path.resolve(argv[++i]) : DEFAULT_JSON;
    } else throw new Error(`Expected --quick, --only or --json but received ${a}`);
  }
  return o;
}

interface ChildOutput {
  line?: { bench: 1; case: string; results?: Result[]; variants?: string[] };
  error?: string;
  detail?: string;
}

/** Runs one case process and returns its result line, or why there is none. */
function runChild(file: string, args: string[]): Promise<ChildOutput> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: CHILD_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => resolve({ error: e.message }));
    child.on('close', (code, signal) => {
      const line = stdout
        .split('\n')
        .reverse()
        .map(parseLine)
        .find((l) => l !== undefined);
      if (code === 0 && line) return resolve({ line });
      const why = signal ? `killed by ${signal}${signal === 'SIGKILL' ? ` (over ${CHILD_TIMEOUT_MS / 1000} s?)` : ''}` : `exit ${code}`;
      resolve({ error: `${firstErrorLine(stderr) ?? 'no result line'} (${why})`, detail: stderr.trim() });
    });
  });
}

function parseLine(text: string): ChildOutput['line'] {
  if (!text.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(text);
    return v && v.bench === 1 ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The line of a stack trace that says what went wrong, not where. */
function firstErrorLine(stderr: string): string | undefined {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /^\w*Error\b|^Error:/.test(l)) ?? lines.find((l) => !l.startsWith('at ')) ?? lines[0];
}

async function runCase(name: string, quick: boolean): Promise<Row[]> {
  const file = path.join(CASES, `${name}.ts`);
  const flags = quick ? ['--quick'] : [];
  const listed = await runChild(file, ['--list', ...flags]);
  if (!listed.line?.variants) return [{ case: name, variant: '-', error: listed.error, detail: listed.detail }];
  const rows: Row[] = [];
  for (const variant of listed.line.variants) {
    process.stderr.write(`  ${name} ${variant}\n`);
    const out = await runChild(file, ['--variant', variant, ...flags]);
    const result = out.line?.results?.[0];
    rows.push(result ? { case: name, variant, result } : { case: name, variant, error: out.error, detail: out.detail });
  }
  return rows;
}

function judge(rows: Row[]): Verdict[] {
  const find = ([c, v]: [string, string]) => rows.find((r) => r.case === c && r.variant === v)?.result;
  return COMPARISONS.map((cmp) => {
    const ours = find(cmp.ours);
    if (cmp.metric === 'absolute') {
      const a = ours?.medianUs;
      return a === undefined ? { ...cmp } : { ...cmp, ratio: a, pass: a <= cmp.target };
    }
    const base = cmp.baseline && find(cmp.baseline);
    const field = cmp.metric === 'latency' ? 'medianUs' : 'opsPerSec';
    const a = ours?.[field];
    const b = base?.[field];
    if (a === undefined || b === undefined || b === 0) return { ...cmp };
    const ratio = a / b;
    return { ...cmp, ratio, pass: cmp.metric === 'latency' ? ratio <= cmp.target : ratio >= cmp.target };
  });
}

function fmtUs(x?: number): string {
  if (x === undefined) return '';
  if (x < 10) return x.toFixed(3);
  if (x < 1000) return x.toFixed(1);
  return Math.round(x).toString();
}

function fmtOps(x?: number): string {
  return x === undefined ? '' : Math.round(x).toLocaleString('en-US');
}

function fmtRatio(x: number): string {
  return x < 0.1 ? `${x.toFixed(3)}x` : `${x.toFixed(2)}x`;
}

function table(rows: Row[], verdicts: Verdict[]): string {
  const header = ['case', 'variant', 'median µs', 'p99 µs', 'ops/s', 'baseline', 'ratio', 'target', 'verdict'];
  const numeric = new Set([2, 3, 4, 6]);
  const body: string[][] = rows.map((r) => {
    if (r.error) return [r.case, r.variant, `error: ${truncate(r.error, 110)}`];
    const v = verdicts.find((c) => c.ours[0] === r.case && c.ours[1] === r.variant);
    const res = r.result!;
    const cells = [r.case, r.variant, fmtUs(res.medianUs), fmtUs(res.p99Us), fmtOps(res.opsPerSec)];
    if (!v) return cells;
    if (v.metric === 'absolute') {
      return [...cells, '(absolute)', '', `≤ ${v.target} µs`, v.pass === undefined ? 'n/a' : v.pass ? 'pass' : 'MISS'];
    }
    const target = `${v.metric === 'latency' ? '≤' : '≥'} ${v.target}x`;
    const base = `${v.baseline![0].replace(/^baseline_/, '')} ${v.baseline![1]}`;
    if (v.ratio === undefined) return [...cells, base, 'n/a', target, 'no baseline'];
    return [...cells, base, fmtRatio(v.ratio), target, v.pass ? 'pass' : 'MISS'];
  });
  const widths = header.map((h, i) =>
    Math.max(h.length, ...body.filter((b) => b.length > 3 || i < 2).map((b) => (b[i] ?? '').length)),
  );
  const render = (cells: string[]): string => {
    if (cells.length === 3 && cells[2].startsWith('error: ')) {
      return [cells[0].padEnd(widths[0]), cells[1].padEnd(widths[1]), cells[2]].join('  ');
    }
    return cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  };
  const rule = widths.map((w) => '-'.repeat(w)).join('  ').trimEnd();
  return [render(header), rule, ...body.map(render)].join('\n');
}

/** A failing child's stderr without the frames of Node's and tsx's own loaders. */
function trimStack(stderr: string): string {
  const noise = /node:internal|node_modules\/tsx\/|^\s*\^+\s*$/;
  return stderr
    .split('\n')
    .filter((l) => !noise.test(l))
    .slice(0, 15)
    .join('\n');
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const all = readdirSync(CASES)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
  const unknown = (o.only ?? []).filter((n) => !all.includes(n));
  if (unknown.length) throw new Error(`Expected case names from ${all.join(', ')} for --only but received ${unknown.join(', ')}`);
  const names = o.only ? all.filter((n) => o.only!.includes(n)) : all;

  const started = Date.now();
  const rows: Row[] = [];
  for (const name of names) {
    process.stderr.write(`${name}\n`);
    rows.push(...(await runCase(name, o.quick)));
  }
  const verdicts = judge(rows);
  const seconds = (Date.now() - started) / 1000;

  console.log();
  console.log(table(rows, verdicts));
  console.log();
  console.log(
    `${o.quick ? 'quick run, ' : ''}${seconds.toFixed(1)} s; node ${process.version}, ${os.cpus().length} CPUs ` +
      `(${os.cpus()[0]?.model ?? 'unknown'}), load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}. ` +
      'Ratios compare figures from this run only.',
  );
  const shown = new Set<string>();
  for (const r of rows.filter((x) => x.detail)) {
    const detail = trimStack(r.detail!);
    console.log(`\n--- ${r.case} ${r.variant} failed${shown.has(detail) ? ' the same way as above' : `:\n${detail}`}`);
    shown.add(detail);
  }

  if (o.json) {
    mkdirSync(path.dirname(o.json), { recursive: true });
    const doc = {
      date: new Date().toISOString(),
      quick: o.quick,
      seconds,
      node: process.version,
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      loadavg: os.loadavg(),
      results: rows.map(({ detail: _, ...r }) => (r.result ? { case: r.case, ...r.result } : r)),
      comparisons: verdicts,
    };
    writeFileSync(o.json, JSON.stringify(doc, null, 2) + '\n');
    console.log(`\nwrote ${path.relative(process.cwd(), o.json)}`);
  }

  const caseFailed = (name: string) => rows.filter((r) => r.case === name).every((r) => r.error);
  return names.length > 0 && names.every(caseFailed) ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 2;
  },
);
