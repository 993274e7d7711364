// capabilities.ts: the kernel posture bulkhead found, and whether it meets a required level.
import * as fs from 'node:fs';

import { BulkheadError, ErrorCode } from './errors';
import { native, type CgroupProbe } from './native';
import { minLandlockAbi, type RequireLevel } from './policy';

/** Per-worker cgroup controllers bulkhead can use beneath this process's cgroup, and why not. */
export type CgroupSupport = Readonly<CgroupProbe>;

let cgroupsCached: CgroupSupport | undefined;

/** The monitor's cgroup probe, run once here too (it makes and removes trial cgroups). */
export function cgroupSupport(): CgroupSupport {
  if (!cgroupsCached) {
    const c = native().binding.probeCgroups();
    Object.freeze(c.dirs);
    Object.freeze(c.reasons);
    cgroupsCached = Object.freeze(c);
  }
  return cgroupsCached;
}

/** Forgets the probes (after a cgroup delegation changed what they would find). */
export function forgetProbes(): void {
  cgroupsCached = undefined;
  cached = undefined;
}

export interface Capabilities {
  platform: string;
  arch: string;
  kernelRelease: string;
  seccomp: {
    available: boolean;
    /** This process's own seccomp mode: 2 means an outer filter (e.g. a container) is in force. */
    outerMode: number;
    killProcess: boolean;
    trap: boolean;
    userNotif: boolean;
  };
  landlock: {
    /** 0 when unavailable. */
    abi: number;
    /** Why it is unavailable: 'kernel' (ENOSYS: too old or not built), 'boot' (EOPNOTSUPP: not in
     *  lsm=), 'outer-seccomp' (EPERM from a container profile), or null. */
    unavailableReason: 'kernel' | 'boot' | 'outer-seccomp' | 'unknown' | null;
    filesystem: boolean;
    truncate: boolean;
    network: boolean;
    ioctlDev: boolean;
    scoping: boolean;
  };
  /** Strongest level this machine can give. */
  level: RequireLevel | 'none';
  /** Protections missing at this level, in words. */
  gaps: string[];
  cgroup: { path: string | null; unifiedOnly: boolean };
  /** Per-worker cgroup controllers bulkhead can use beneath this process's cgroup, and why not. */
  cgroups: CgroupSupport;
  /** Reported only; bulkhead's sandbox does not use namespaces. */
  userNamespaces: { max: number | null; unprivilegedCloneSysctl: number | null };
  /** Kernel knobs that matter as defence in depth (null where absent). */
  sysctls: Record<string, number | null>;
}

let cached: Capabilities | undefined;

function readNumber(file: string): number | null {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

const SYSCTLS: Record<string, string> = {
  'kernel.yama.ptrace_scope': '/proc/sys/kernel/yama/ptrace_scope',
  'kernel.unprivileged_bpf_disabled': '/proc/sys/kernel/unprivileged_bpf_disabled',
  'kernel.perf_event_paranoid': '/proc/sys/kernel/perf_event_paranoid',
  'vm.unprivileged_userfaultfd': '/proc/sys/vm/unprivileged_userfaultfd',
  'kernel.io_uring_disabled': '/proc/sys/kernel/io_uring_disabled',
  'dev.tty.legacy_tiocsti': '/proc/sys/dev/tty/legacy_tiocsti',
  'vm.memfd_noexec': '/proc/sys/vm/memfd_noexec',
};

function cgroupInfo(): Capabilities['cgroup'] {
  try {
    const lines = fs.readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
    const unified = lines.find((l) => l.startsWith('0::'));
    return { path: unified ? unified.slice(3) : null, unifiedOnly: lines.length === 1 && !!unified };
  } catch {
    return { path: null, unifiedOnly: false };
  }
}

export function capabilities(): Capabilities {
  if (cached) return cached;
  const p = native().binding.probe();
  const abi = p.landlockAbi;
  const reason = abi > 0 ? null
    : p.landlockErrno === 'ENOSYS' ? 'kernel'
    : p.landlockErrno === 'EOPNOTSUPP' ? 'boot'
    : p.landlockErrno === 'EPERM' ? 'outer-seccomp' : 'unknown';
  const seccomp = p.seccompFilter && p.seccompTrap && p.seccompKillProcess;
  const level: Capabilities['level'] = !seccomp ? 'none'
    : abi >= minLandlockAbi('strict') ? 'strict'
    : abi >= 1 ? 'landlock-any' : 'seccomp-only';
  const gaps: string[] = [];
  if (!seccomp) gaps.push('no seccomp filter support: plugins cannot be confined');
  if (abi === 0) gaps.push(`no Landlock (${reason}): file grants are refused, so only compute plugins load`);
  if (abi > 0 && abi < 3) gaps.push('Landlock < 3: truncation of readable files is not denied by Landlock');
  if (abi > 0 && abi < 4) gaps.push('Landlock < 4: no TCP rules (seccomp still denies sockets)');
  if (abi < 6) gaps.push('Landlock < 6: no signal or abstract-socket scoping (seccomp still limits kill)');
  const cgroups = cgroupSupport();
  if (!cgroups.memory) gaps.push('no memory cgroup: worker memory is capped by its address-space limit only');
  if (!cgroups.pids) gaps.push('no pids cgroup: a plugin\'s processes are not bounded together by a cgroup (the monitor still counts each process\'s threads against policy.threads, and workers against the pool)');
  if (!cgroups.cpu) gaps.push("no cpu cgroup: limits.cpuQuotaPercent cannot be enforced, so a load that sets it fails unless bestEffort includes 'cpuQuotaPercent'");
  cached = {
    platform: process.platform,
    arch: p.arch,
    kernelRelease: p.kernelRelease,
    seccomp: { available: seccomp, outerMode: p.seccompMode, killProcess: p.seccompKillProcess,
               trap: p.seccompTrap, userNotif: p.seccompUserNotif },
    landlock: { abi, unavailableReason: reason, filesystem: abi >= 1, truncate: abi >= 3,
                network: abi >= 4, ioctlDev: abi >= 5, scoping: abi >= 6 },
    level,
    gaps,
    cgroup: cgroupInfo(),
    cgroups,
    userNamespaces: {
      max: readNumber('/proc/sys/user/max_user_namespaces'),
      unprivilegedCloneSysctl: readNumber('/proc/sys/kernel/unprivileged_userns_clone'),
    },
    sysctls: Object.fromEntries(Object.entries(SYSCTLS).map(([k, f]) => [k, readNumber(f)])),
  };
  return cached;
}

const ORDER: Array<Capabilities['level']> = ['none', 'seccomp-only', 'landlock-any', 'strict'];

/** Throws ERR_SANDBOX_UNAVAILABLE when this machine cannot give `level`. */
export function assertLevel(level: RequireLevel): void {
  const caps = capabilities();
  if (ORDER.indexOf(caps.level) < ORDER.indexOf(level)) {
    throw new BulkheadError(ErrorCode.SANDBOX_UNAVAILABLE,
      `This kernel gives isolation level '${caps.level}' but '${level}' is required ` +
      `(seccomp: ${caps.seccomp.available}, Landlock ABI: ${caps.landlock.abi}` +
      `${caps.landlock.unavailableReason ? `, unavailable: ${caps.landlock.unavailableReason}` : ''}). ` +
      "Pass requireLevel: 'landlock-any' or 'seccomp-only' to accept less.");
  }
}
