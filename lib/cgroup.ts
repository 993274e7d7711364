// cgroup.ts: per-worker cgroups beneath this process's own cgroup (v2 where delegated, v1 where not), so
// a worker's memory, CPU and pids are capped, its OOM kills counted and its whole process tree killable.
//
// Where each kind of hierarchy can help, and why:
// - v1 (one hierarchy per controller, or a few co-mounted): any writable directory beneath our own cgroup
//   can hold a worker, so a worker joins one directory per hierarchy (one cgroup.procs write each).
// - v2 controllers: a cgroup offers a controller to its children only through cgroup.subtree_control, and
//   the no-internal-processes rule refuses that (EBUSY) for any cgroup holding processes except the root.
//   This process sits in its own cgroup, so v2 limits beneath it work only when that cgroup is the root.
//   Elsewhere (systemd user slices, containers) the host would first have to move itself into a leaf;
//   bulkhead does not move the host.
// - v2 without controllers: any cgroup may have children, so workers still join a v2 cgroup where the
//   unified hierarchy is writable, which gives cgroup.kill (a race-free kill of the whole tree) and
//   cpu.stat (CPU time, counted by the core without the cpu controller), even on hybrid machines.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { BulkheadError, ErrorCode } from './errors';
import { checkInt, checkKnownKeys, checkObject, invalid } from './validate';

export type CgroupController = 'memory' | 'cpu' | 'pids';
export type CgroupVersion = 'v1' | 'v2';

export interface CgroupSupport {
  memory: CgroupVersion | null;
  cpu: CgroupVersion | null;
  pids: CgroupVersion | null;
  /** This process's own cgroup directory for each controller; bulkhead's go beneath it. */
  dirs: Record<CgroupController, string | null>;
  /** Workers also join a v2 cgroup with cgroup.kill, so killAll() is one race-free write. */
  killSupported: boolean;
  /** Why a controller or cgroup.kill is unavailable, in words. */
  reasons: string[];
}

export interface CgroupLimits {
  memoryBytes?: number;
  cpuQuotaPercent?: number;
  pidsMax?: number;
}

interface Hierarchy {
  version: CgroupVersion;
  /** Our own cgroup in this hierarchy. */
  dir: string;
}

interface Layout {
  support: CgroupSupport;
  memory?: Hierarchy;
  cpu?: Hierarchy;
  pids?: Hierarchy;
  /** v1 cpuacct where it exists, else the v2 cgroup. */
  cpuUsage?: Hierarchy;
  /** The v2 cgroup workers join, with or without controllers. */
  unified?: Hierarchy;
}

interface Mount {
  root: string;
  point: string;
  fstype: string;
  options: string[];
}

const CONTROLLERS: readonly CgroupController[] = ['memory', 'cpu', 'pids'];
// A child cgroup shows these only when the controller can limit it there.
const LIMIT_FILE: Record<CgroupVersion, Record<CgroupController, string>> = {
  v1: { memory: 'memory.limit_in_bytes', cpu: 'cpu.cfs_quota_us', pids: 'pids.max' },
  v2: { memory: 'memory.max', cpu: 'cpu.max', pids: 'pids.max' },
};
const HOST_DIR = `bulkhead-${process.pid}`;
const HOST_DIR_RE = /^bulkhead-(\d+)$/;
const LABEL_RE = /^[a-z0-9-]{1,64}$/;
const CPU_PERIOD_US = 100_000;
// 4096 CPUs: more than any machine this runs on, and far inside what the kernel accepts.
const MAX_CPU_PERCENT = 409_600;
// The kernel rejects pids.max at or above PID_MAX_LIMIT + 1.
const MAX_PIDS = 4_194_304;
// A killed process stays in its cgroup until it has finished exiting, which takes a few milliseconds.
const REMOVE_RETRY_MS = 200;
// Bounds the v1 kill loop; each round signals every pid forked since the last one, and pids.max bounds those.
const KILL_ROUNDS = 64;

const SLEEP_CELL = new Int32Array(new SharedArrayBuffer(4));
function sleepMs(ms: number): void {
  Atomics.wait(SLEEP_CELL, 0, 0, ms);
}

function errno(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? String(e);
}

function read(dir: string, file: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dir, file), 'utf8');
  } catch {
    return undefined;
  }
}

function write(dir: string, file: string, value: string | number): boolean {
  try {
    fs.writeFileSync(path.join(dir, file), String(value));
    return true;
  } catch {
    return false;
  }
}

/** The number after `key` in a "key value" per line file (memory.events, cpu.stat, ...). */
function keyed(text: string | undefined, key: string): number | undefined {
  const m = text === undefined ? null : new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

function numberIn(text: string | undefined): number | null {
  const n = Number(text?.trim());
  return text === undefined || !Number.isFinite(n) ? null : n;
}

function pidsIn(dir: string): number[] {
  return (read(dir, 'cgroup.procs') ?? '').split('\n').filter(Boolean).map(Number);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errno(e) === 'EPERM';
  }
}

function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

function cgroupMounts(): Mount[] {
  const out: Mount[] = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (sep < 0 || (f[sep + 1] !== 'cgroup' && f[sep + 1] !== 'cgroup2')) continue;
    out.push({ root: unescapeMountField(f[3]), point: unescapeMountField(f[4]), fstype: f[sep + 1],
               options: (f[sep + 3] ?? '').split(',') });
  }
  return out;
}

/** Our cgroup path in the v2 hierarchy and, per v1 controller, in its hierarchy. */
function ownCgroups(): { v2: string | undefined; v1: Map<string, string> } {
  let v2: string | undefined;
  const v1 = new Map<string, string>();
  for (const line of fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') v2 = m[3];
    else for (const c of m[2].split(',')) v1.set(c, m[3]);
  }
  return { v2, v1 };
}

/** Where `own` lives under mount `m`; undefined when that mount shows another part of the hierarchy
 *  (a container's bind mount of its own subtree, say). */
function dirIn(m: Mount, own: string): string | undefined {
  const rel = m.root === '/' ? own
    : own === m.root || own.startsWith(m.root + '/') ? own.slice(m.root.length) : undefined;
  return rel === undefined ? undefined : path.resolve(m.point, `.${rel}`);
}

function reachable(mounts: Mount[], own: string, fstype: string, controller?: string): string | undefined {
  for (const m of mounts) {
    if (m.fstype !== fstype || (controller !== undefined && !m.options.includes(controller))) continue;
    const dir = dirIn(m, own);
    if (dir !== undefined && fs.existsSync(dir)) return dir;
  }
  return undefined;
}

function enableForChildren(dir: string, controller: CgroupController): void {
  if (!(read(dir, 'cgroup.subtree_control') ?? '').split(/\s+/).includes(controller)) {
    fs.writeFileSync(path.join(dir, 'cgroup.subtree_control'), `+${controller}`);
  }
}

/** Makes this host's directory in `h` if missing, with `enable` (v2 controllers) on for its children.
 *  Returns it and whether this call made it; throws the mkdir or enable error. */
function hostDir(h: Hierarchy, enable: readonly CgroupController[]): { dir: string; made: boolean } {
  const dir = path.join(h.dir, HOST_DIR);
  try {
    fs.mkdirSync(dir);
  } catch (e) {
    if (errno(e) === 'EEXIST') return { dir, made: false };
    throw e;
  }
  try {
    for (const c of enable) enableForChildren(dir, c);
  } catch (e) {
    fs.rmdirSync(dir);
    throw e;
  }
  return { dir, made: true };
}

/** rmdir of each child cgroup of `dir`; populated ones stay. */
function removeChildren(dir: string): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    try {
      fs.rmdirSync(path.join(dir, e.name));
    } catch { /* populated */ }
  }
}

/** removeChildren, then rmdir of `dir`; true when `dir` is gone. */
function removeTree(dir: string): boolean {
  try {
    removeChildren(dir);
    fs.rmdirSync(dir);
    return true;
  } catch (e) {
    return errno(e) === 'ENOENT';
  }
}

let cached: Layout | undefined;

function probe(): Layout {
  cached ??= freeze(probeOnce());
  return cached;
}

function freeze(layout: Layout): Layout {
  Object.freeze(layout.support.dirs);
  Object.freeze(layout.support.reasons);
  Object.freeze(layout.support);
  return layout;
}

function probeOnce(): Layout {
  const support: CgroupSupport = {
    memory: null, cpu: null, pids: null,
    dirs: { memory: null, cpu: null, pids: null },
    killSupported: false,
    reasons: [],
  };
  const layout: Layout = { support };
  let own: ReturnType<typeof ownCgroups>;
  let mounts: Mount[];
  try {
    own = ownCgroups();
    mounts = cgroupMounts();
  } catch (e) {
    support.reasons.push(`cgroups: cannot read /proc/self/cgroup or /proc/self/mountinfo (${errno(e)})`);
    return layout;
  }

  // The probe makes each host directory it needs to try, and removes those it made at the end.
  const made: string[] = [];
  const tryHostDir = (h: Hierarchy): string => {
    const r = hostDir(h, []);
    if (r.made) made.push(r.dir);
    else removeChildren(r.dir);  // a dead host whose pid we now have left it: its labels would clash
    return r.dir;
  };

  const v2Dir = own.v2 === undefined ? undefined : reachable(mounts, own.v2, 'cgroup2');
  if (v2Dir !== undefined) {
    try {
      tryHostDir({ version: 'v2', dir: v2Dir });
      layout.unified = { version: 'v2', dir: v2Dir };
      support.killSupported = fs.existsSync(path.join(v2Dir, HOST_DIR, 'cgroup.kill'));
      if (!support.killSupported) support.reasons.push('cgroup.kill: needs Linux 5.14; killAll() signals pids one by one');
    } catch (e) {
      support.reasons.push(`cgroup.kill: cannot create a cgroup in ${v2Dir} (${errno(e)}); killAll() signals pids one by one`);
    }
  } else {
    support.reasons.push('cgroup.kill: no cgroup v2 hierarchy reaches this process\'s cgroup; killAll() signals pids one by one');
  }
  const v2Offers = v2Dir === undefined ? [] : (read(v2Dir, 'cgroup.controllers') ?? '').trim().split(/\s+/).filter(Boolean);

  for (const c of CONTROLLERS) {
    const v1Path = own.v1.get(c);
    let h: Hierarchy;
    if (v1Path !== undefined) {
      // A controller bound to a v1 hierarchy is absent from v2 until that hierarchy is unmounted.
      const dir = reachable(mounts, v1Path, 'cgroup', c);
      if (dir === undefined) {
        support.reasons.push(`${c}: its cgroup v1 hierarchy is not mounted where this process can reach ${v1Path}`);
        continue;
      }
      h = { version: 'v1', dir };
      try {
        tryHostDir(h);
      } catch (e) {
        support.reasons.push(`${c}: cannot create a cgroup in ${dir} (${errno(e)}): not writable or not delegated`);
        continue;
      }
    } else if (v2Dir !== undefined && v2Offers.includes(c)) {
      h = { version: 'v2', dir: v2Dir };
      try {
        enableForChildren(v2Dir, c);
      } catch (e) {
        support.reasons.push(errno(e) === 'EBUSY'
          ? `${c}: cgroup v2 will not enable it for children of ${v2Dir}: that cgroup holds processes (this one ` +
            'among them) and only the root cgroup is exempt from the no-internal-processes rule'
          : `${c}: cannot write ${v2Dir}/cgroup.subtree_control (${errno(e)}): not delegated to this user`);
        continue;
      }
      try {
        enableForChildren(tryHostDir(h), c);
      } catch (e) {
        support.reasons.push(`${c}: cannot create a cgroup in ${v2Dir} with it enabled (${errno(e)})`);
        continue;
      }
    } else {
      support.reasons.push(`${c}: no cgroup v1 hierarchy has it and cgroup v2 does not offer it here ` +
        `(${v2Dir === undefined ? 'no v2 mount' : `${v2Dir}/cgroup.controllers: ${v2Offers.join(' ') || 'empty'}`})`);
      continue;
    }
    const file = LIMIT_FILE[h.version][c];
    if (!fs.existsSync(path.join(h.dir, HOST_DIR, file))) {
      support.reasons.push(`${c}: a child cgroup in ${h.dir} has no ${file} (kernel built without it)`);
      continue;
    }
    layout[c] = h;
    support[c] = h.version;
    support.dirs[c] = h.dir;
  }

  const cpuacctPath = own.v1.get('cpuacct');
  const cpuacctDir = cpuacctPath === undefined ? undefined : reachable(mounts, cpuacctPath, 'cgroup', 'cpuacct');
  if (cpuacctDir !== undefined) {
    try {
      tryHostDir({ version: 'v1', dir: cpuacctDir });
      layout.cpuUsage = { version: 'v1', dir: cpuacctDir };
    } catch { /* the v2 cgroup counts CPU time too */ }
  }
  layout.cpuUsage ??= layout.unified;

  for (const dir of made.reverse()) removeTree(dir);
  return layout;
}

/** Which hierarchy can hold each controller beneath this process's own cgroup, and why not where none
 *  can. Probes once (it makes and removes trial directories) and caches the answer. */
export function probeCgroups(): CgroupSupport {
  return probe().support;
}

/** Our own cgroup in every hierarchy bulkhead uses, each once. */
function hierarchies(layout: Layout): Hierarchy[] {
  const byDir = new Map<string, Hierarchy>();
  for (const h of [layout.memory, layout.cpu, layout.pids, layout.cpuUsage, layout.unified]) {
    if (h) byDir.set(h.dir, h);
  }
  return [...byDir.values()];
}

function checkLimits(v: unknown): CgroupLimits {
  const o = checkObject(v, 'the cgroup limits');
  checkKnownKeys(o, 'the cgroup limits', ['memoryBytes', 'cpuQuotaPercent', 'pidsMax']);
  const p = o.cpuQuotaPercent;
  if (p !== undefined && (typeof p !== 'number' || !(p >= 1 && p <= MAX_CPU_PERCENT))) {
    throw invalid(`a number between 1 and ${MAX_CPU_PERCENT}`, 'limits.cpuQuotaPercent', p);
  }
  return {
    // One page: the kernel rounds a memory limit down to whole pages.
    memoryBytes: o.memoryBytes === undefined ? undefined
      : checkInt(o.memoryBytes, 'limits.memoryBytes', 4096, Number.MAX_SAFE_INTEGER, 0),
    cpuQuotaPercent: p,
    pidsMax: o.pidsMax === undefined ? undefined : checkInt(o.pidsMax, 'limits.pidsMax', 1, MAX_PIDS, 0),
  };
}

function applyMemory(h: Hierarchy, dir: string, bytes: number): boolean {
  if (h.version === 'v2') {
    if (!write(dir, 'memory.max', bytes)) return false;
    // Swap would let the worker keep its excess; oom.group has the OOM killer take all of the worker's
    // processes rather than one of them.
    write(dir, 'memory.swap.max', 0);
    write(dir, 'memory.oom.group', 1);
    return true;
  }
  if (!write(dir, 'memory.limit_in_bytes', bytes)) return false;
  // memsw exists only with swap accounting; without it swappiness 0 is the only brake on swapping.
  write(dir, 'memory.memsw.limit_in_bytes', bytes);
  write(dir, 'memory.swappiness', 0);
  return true;
}

function applyCpu(h: Hierarchy, dir: string, percent: number): boolean {
  const quota = Math.round(percent * CPU_PERIOD_US / 100);
  if (h.version === 'v2') return write(dir, 'cpu.max', `${quota} ${CPU_PERIOD_US}`);
  return write(dir, 'cpu.cfs_period_us', CPU_PERIOD_US) && write(dir, 'cpu.cfs_quota_us', quota);
}

/** One worker's cgroup: a directory `bulkhead-<host pid>/<label>` in every hierarchy that is usable. */
export class WorkerCgroup {
  private readonly applied: Record<CgroupController, boolean> = { memory: false, cpu: false, pids: false };

  private constructor(
    readonly label: string,
    /** Every directory this cgroup spans, one per hierarchy. */
    readonly dirs: readonly string[],
    private readonly memory: Hierarchy | undefined,
    private readonly cpuUsage: Hierarchy | undefined,
    private readonly pids: string | undefined,
    /** The v2 directory, when it has cgroup.kill. */
    private readonly killDir: string | undefined,
  ) {}

  /** Makes the directories and sets the limits asked for. Throws only for a bad label or limits, or a
   *  label in use; an unusable controller leaves its limit unset (see limitsApplied). */
  static create(label: string, limits: CgroupLimits = {}): WorkerCgroup {
    if (typeof label !== 'string' || !LABEL_RE.test(label)) {
      throw invalid('1 to 64 characters from a-z, 0-9 and -', 'the cgroup label', label);
    }
    const want = checkLimits(limits);
    const layout = probe();
    const enable = CONTROLLERS.filter((c) => layout[c]?.version === 'v2');
    const labelDirs = new Map<string, string | undefined>();
    const made: string[] = [];
    const join = (h: Hierarchy | undefined): string | undefined => {
      if (h === undefined) return undefined;
      if (!labelDirs.has(h.dir)) {
        let dir: string | undefined = path.join(h.dir, HOST_DIR, label);
        try {
          hostDir(h, h.version === 'v2' ? enable : []);
          fs.mkdirSync(dir);
          made.push(dir);
        } catch (e) {
          if (errno(e) === 'EEXIST') {
            for (const d of made) removeTree(d);
            throw invalid('a label no other worker cgroup of this host uses', 'the cgroup label', label);
          }
          dir = undefined;  // this hierarchy stopped being usable since the probe
        }
        labelDirs.set(h.dir, dir);
      }
      return labelDirs.get(h.dir);
    };
    // Every hierarchy joined is one more cgroup.procs write on the spawn path: the cpu ones only
    // when a quota is wanted.
    const wantsCpu = want.cpuQuotaPercent !== undefined;
    const memoryDir = join(layout.memory);
    const cpuDir = wantsCpu ? join(layout.cpu) : undefined;
    const pidsDir = join(layout.pids);
    const usageDir = wantsCpu ? join(layout.cpuUsage) : undefined;
    const unifiedDir = join(layout.unified);
    const cg = new WorkerCgroup(label, made,
      memoryDir === undefined ? undefined : { version: layout.memory!.version, dir: memoryDir },
      usageDir === undefined ? undefined : { version: layout.cpuUsage!.version, dir: usageDir },
      pidsDir,
      layout.support.killSupported ? unifiedDir : undefined);
    if (want.memoryBytes !== undefined && memoryDir !== undefined) {
      cg.applied.memory = applyMemory(layout.memory!, memoryDir, want.memoryBytes);
    }
    if (want.cpuQuotaPercent !== undefined && cpuDir !== undefined) {
      cg.applied.cpu = applyCpu(layout.cpu!, cpuDir, want.cpuQuotaPercent);
    }
    if (want.pidsMax !== undefined && pidsDir !== undefined) {
      cg.applied.pids = write(pidsDir, 'pids.max', want.pidsMax);
    }
    return cg;
  }

  /** Which limits the kernel enforces on this cgroup; false where asked but unavailable (degraded). */
  get limitsApplied(): Readonly<Record<CgroupController, boolean>> {
    return { ...this.applied };
  }

  /** Moves process `pid` (all its threads) into every directory. Call it before the process runs plugin
   *  code: memory it charged before stays charged where it was, and children it forks between the
   *  per-hierarchy writes stay behind. Throws SANDBOX_UNAVAILABLE if the kernel refuses a move. */
  addPid(pid: number): void {
    checkInt(pid, 'the pid', 1, MAX_PIDS, 0);
    for (const dir of this.dirs) {
      try {
        fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
      } catch (e) {
        throw new BulkheadError(ErrorCode.SANDBOX_UNAVAILABLE,
          `Could not move process ${pid} into cgroup ${dir}: ${errno(e)}`, { pid, reason: errno(e), cause: e });
      }
    }
  }

  /** Processes the OOM killer killed here. On v1 before Linux 4.13 (no oom_kill count) it is 1 once the
   *  limit was ever hit, which is the closest sign left. */
  oomKills(): number {
    const m = this.memory;
    if (m === undefined) return 0;
    if (m.version === 'v2') return keyed(read(m.dir, 'memory.events'), 'oom_kill') ?? 0;
    const kills = keyed(read(m.dir, 'memory.oom_control'), 'oom_kill');
    if (kills !== undefined) return kills;
    return (numberIn(read(m.dir, 'memory.failcnt')) ?? 0) > 0 ? 1 : 0;
  }

  /** Highest memory use seen, in bytes; null without a memory cgroup or before Linux 5.19 on v2. */
  memoryPeakBytes(): number | null {
    const m = this.memory;
    if (m === undefined) return null;
    return numberIn(read(m.dir, m.version === 'v2' ? 'memory.peak' : 'memory.max_usage_in_bytes'));
  }

  /** CPU time used by the processes while in this cgroup, in nanoseconds. */
  cpuUsageNs(): number | null {
    const u = this.cpuUsage;
    if (u === undefined) return null;
    if (u.version === 'v1') return numberIn(read(u.dir, 'cpuacct.usage'));
    const usec = keyed(read(u.dir, 'cpu.stat'), 'usage_usec');
    return usec === undefined ? null : usec * 1000;
  }

  /** Most tasks (threads count) at once; null without a pids cgroup or before Linux 6.1. */
  pidsPeak(): number | null {
    return this.pids === undefined ? null : numberIn(read(this.pids, 'pids.peak'));
  }

  /** Forks and clones refused because pids.max was reached. */
  pidsEvents(): number | null {
    return this.pids === undefined ? null : keyed(read(this.pids, 'pids.events'), 'max') ?? null;
  }

  /** SIGKILLs every process in this cgroup, and nothing outside it. */
  killAll(): void {
    if (this.killDir !== undefined && write(this.killDir, 'cgroup.kill', 1)) return;
    // Without cgroup.kill, signal the pids listed here until a read lists none not yet signalled: a
    // process may fork between the read and its kill. A listed pid could be reaped and reused by an
    // unrelated process before the kill only if the whole pid space wrapped in that instant.
    const signalled = new Set<number>();
    for (let round = 0; round < KILL_ROUNDS; round++) {
      const fresh = [...new Set(this.dirs.flatMap(pidsIn))].filter((p) => !signalled.has(p));
      if (fresh.length === 0) return;
      for (const pid of fresh) {
        signalled.add(pid);
        try {
          process.kill(pid, 'SIGKILL');
        } catch { /* exited since the read */ }
      }
    }
  }

  /** Removes the directories, waiting briefly for exiting processes to leave them. Never throws;
   *  false if a directory stays (a process in it is still alive). */
  remove(): boolean {
    const until = performance.now() + REMOVE_RETRY_MS;
    let removed = true;
    for (const dir of this.dirs) {
      for (;;) {
        try {
          fs.rmdirSync(dir);
          break;
        } catch (e) {
          if (errno(e) === 'ENOENT') break;
          if (errno(e) === 'EBUSY' && performance.now() < until) {
            sleepMs(1);
            continue;
          }
          removed = false;
          break;
        }
      }
    }
    return removed;
  }
}

/** Removes this host's `bulkhead-<pid>` directories and the empty worker cgroups in them; for process
 *  exit. Best effort: false if something stays (a worker still alive). */
export function removeHostCgroups(): boolean {
  let removed = true;
  for (const h of hierarchies(probe())) removed = removeTree(path.join(h.dir, HOST_DIR)) && removed;
  return removed;
}

/** Removes the empty `bulkhead-<pid>` directories of hosts that died without cleaning up, beneath our
 *  own cgroup only; returns how many went. A host whose pid is alive keeps its directory (even when
 *  that pid now belongs to another process: a leftover costs less than a wrong removal). */
export function reapStaleCgroups(): number {
  let reaped = 0;
  for (const h of hierarchies(probe())) {
    let names: string[];
    try {
      names = fs.readdirSync(h.dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const pid = Number(HOST_DIR_RE.exec(name)?.[1] ?? 0);
      if (pid === 0 || pid === process.pid || alive(pid)) continue;
      if (removeTree(path.join(h.dir, name))) reaped++;
    }
  }
  return reaped;
}
