// cgroup_delegation.ts: the opt-in that gives a host owning its cgroup v2 subtree per-plugin and
// per-worker memory, pids and cpu limits (see cpp/monitor/cgroup_delegation.h and the README).
import { forgetProbes } from './capabilities';
import { BulkheadError, ErrorCode } from './errors';
import { native } from './native';
import { runtime } from './runtime';
import { checkKnownKeys, checkObject, invalid } from './validate';

const CONTROLLERS = ['memory', 'pids', 'cpu'] as const;
export type DelegatedController = typeof CONTROLLERS[number];

export interface CgroupDelegation {
  /** The cgroup directory now delegated: plugin cgroups go here, beside `${root}/bulkhead-host`. */
  root: string;
  /** Processes moved into the leaf (this one, and any other that was in the cgroup). */
  moved: number[];
  /** Controllers now on for the root's children. */
  enabled: DelegatedController[];
  /** Why each other asked-for controller is not, one line each ("memory: ..."). */
  unavailable: string[];
}

/**
 * For a host that owns its cgroup v2 cgroup (a container's cgroup namespace root, a systemd unit
 * with Delegate=yes): moves every process of that cgroup into a leaf, `bulkhead-host`, and enables
 * the controllers for the cgroup's children, so that plugin and worker cgroups get v2 limits
 * (cgroup v2 lets a cgroup hand controllers to children only while it holds no process). Moves
 * processes other than this one too: call it only where the whole cgroup is yours. Call it before
 * the first loadPlugin(); idempotent. Controllers it cannot enable are listed, not thrown: a load
 * that needs one still fails closed. Throws ERR_SANDBOX_UNAVAILABLE (reason 'cgroup-delegation')
 * when the cgroup cannot be delegated at all.
 */
export function delegateCgroups(options: { controllers?: readonly DelegatedController[] } = {}): CgroupDelegation {
  const o = checkObject(options, 'options');
  checkKnownKeys(o, 'options', ['controllers']);
  const asked = o.controllers ?? CONTROLLERS;
  if (!Array.isArray(asked) || asked.some((c) => !(CONTROLLERS as readonly unknown[]).includes(c))) {
    throw invalid(`an array of ${CONTROLLERS.map((c) => `'${c}'`).join(', ')}`, 'options.controllers', asked);
  }
  if (runtime.zygotePid() !== undefined) {
    throw new BulkheadError(ErrorCode.INVALID_STATE,
      'delegateCgroups() must come before the first loadPlugin(): the monitor places plugins by what it found when it started');
  }
  const r = native().binding.delegateCgroup([...asked] as string[]);
  forgetProbes();
  if (r.error) {
    throw new BulkheadError(ErrorCode.SANDBOX_UNAVAILABLE, `Cannot delegate this process's cgroup: ${r.error}`,
      { reason: 'cgroup-delegation' });
  }
  return { root: r.root, moved: r.moved, enabled: r.enabled as DelegatedController[], unavailable: r.reasons };
}
