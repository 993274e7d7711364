// enforcement.ts: which layer enforces each limit and grant a load asks for on this machine, and
// the refusal when none does (fail closed), unless the caller accepted that limit as best effort.
import { BulkheadError, ErrorCode } from './errors';
import type { CgroupSupport, Capabilities } from './capabilities';
import type { Limits, SandboxPolicy } from './policy';
import { invalid } from './validate';

/** Limits and grants a caller may accept unenforced, by name (`options.bestEffort`). 'threads' is
 *  still taken, for callers written when a thread grant needed a pids cgroup: the monitor counts
 *  threads itself now, so it is always enforced. */
export const BEST_EFFORT = ['cpuQuotaPercent', 'threads'] as const;
export type BestEffort = (typeof BEST_EFFORT)[number];

export function resolveBestEffort(v: unknown): ReadonlySet<BestEffort> {
  if (v === undefined) return new Set();
  if (!Array.isArray(v) || v.some((x) => !(BEST_EFFORT as readonly unknown[]).includes(x))) {
    throw invalid(`an array of ${BEST_EFFORT.map((x) => `'${x}'`).join(', ')}`, 'options.bestEffort', v);
  }
  return new Set(v as BestEffort[]);
}

/** One requested limit or grant that nothing on this machine enforces. */
export interface Unenforced {
  limit: BestEffort | 'fs.read';
  /** The layer that would enforce it, and why it is missing. */
  why: string;
}

/** What of `limits` and `policy` this machine cannot enforce. */
export function unenforced(limits: Required<Limits>, policy: SandboxPolicy, cgroups: CgroupSupport,
                           caps: Pick<Capabilities, 'landlock'>): Unenforced[] {
  const out: Unenforced[] = [];
  const reason = (controller: string) =>
    cgroups.reasons.find((r) => r.startsWith(`${controller}:`)) ?? `${controller}: not usable here`;
  if (limits.cpuQuotaPercent > 0 && !cgroups.cpu) {
    out.push({ limit: 'cpuQuotaPercent', why: `the cgroup cpu controller is unavailable (${reason('cpu')})` });
  }
  // Never acceptable: without Landlock a read grant is every readable path, /proc/<pid>/mem of
  // this user's processes included.
  if (policy.readPaths.length > 0 && caps.landlock.abi === 0) {
    out.push({ limit: 'fs.read', why: `Landlock, which keeps reads to the granted paths, is unavailable (${caps.landlock.unavailableReason})` });
  }
  return out;
}

/** Throws ERR_SANDBOX_UNAVAILABLE naming every gap the caller did not accept; returns the ones
 *  it did (the plugin reports them). */
export function assertEnforceable(gaps: Unenforced[], accepted: ReadonlySet<BestEffort>): Unenforced[] {
  const refused = gaps.filter((g) => !accepted.has(g.limit as BestEffort));
  if (refused.length > 0) {
    throw new BulkheadError(ErrorCode.SANDBOX_UNAVAILABLE,
      `Cannot enforce ${refused.map((g) => `${g.limit}: ${g.why}`).join('; ')}. ` +
      (refused.every((g) => g.limit !== 'fs.read')
        ? `Grant what it needs, drop the limit, or accept it unenforced with bestEffort: [${refused.map((g) => `'${g.limit}'`).join(', ')}]`
        : 'Read grants need Landlock; without it only compute plugins load'),
      { reason: 'unenforceable' });
  }
  return gaps;
}
