// helpers.ts: plugin fixtures and host-invariant probes shared by the tests.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { loadPlugin, type LoadOptions, type Plugin } from '../lib/index';
import { runtime } from '../lib/runtime';

export const PLUGIN_DIR = path.join(__dirname, '..', 'build', 'plugins');

/** The ASAN+UBSAN run (npm run test:asan, test/run_asan.sh). */
export const ASAN = process.env.BULKHEAD_ASAN === '1';

/** A test's name, saying in the ASAN run why it is skipped there (use with it.skipIf(ASAN)). */
export function notUnderAsan(name: string, why: string): string {
  return ASAN ? `${name} [skipped under ASAN: ${why}]` : name;
}

/** Why tests that start threads in a plugin are skipped in the ASAN run. */
export const ASAN_THREADS = "ASAN's thread start calls pthread_getattr_np, whose sched_getaffinity(tid) the policy refuses";

export function pluginPath(name: string): string {
  return path.join(PLUGIN_DIR, `${name}.so`);
}

export function sha256Of(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Loads a built plugin pinned by its real digest. */
export function load(name: string, options: Omit<LoadOptions, 'trust'> = {}): Promise<Plugin> {
  const file = pluginPath(name);
  return loadPlugin(file, { trust: { sha256: sha256Of(file) }, ...options });
}

/** Load options granting `n` threads (the monitor counts them, with or without a pids cgroup). */
export function threadGrant(n: number): Pick<LoadOptions, 'policy'> {
  return { policy: { threads: n } };
}

/** Descriptors this process has open. */
export function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** Pids of the direct children of `pid` (every thread's), sorted; none once it is gone. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    try {
      const c = fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim();
      if (c) out.push(...c.split(/\s+/).map(Number));
    } catch { /* thread gone */ }
  }
  return out.sort((x, y) => x - y);
}

/** Pids of this process's direct children. */
export function childPids(): number[] {
  return childrenOf(process.pid);
}

/** The zygote's children: the pid namespace's init and every plugin's processes. */
export function zygoteChildren(): number[] {
  const z = runtime.zygotePid();
  return z === undefined ? [] : childrenOf(z);
}

/** True if `pid` exists and is not a zombie: a process that can still act. A zombie whose parent
 *  died waits for this machine's init to reap it, which some container inits do late. */
export function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

/** True if `pid` exists (signal 0: a probe only). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');
export const bytes = (s: string) => Buffer.from(s, 'utf8');

/** Waits until `pred` holds, polling; false after `ms`. */
export async function eventually(pred: () => boolean, ms = 2000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return pred();
}
