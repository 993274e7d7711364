// enforcement.test.ts: a limit or grant this machine has no layer for is refused at load with
// ERR_SANDBOX_UNAVAILABLE naming it and why, never silently weaker; options.bestEffort accepts
// one by name, and the plugin says what runs unenforced. Each case checks the real machine: where
// the layer exists (root with cgroups) the load succeeds and the limit holds; where it does not
// (non-root, containers) the load is refused. The decision itself is tested on every shape.
import { describe, expect, it } from 'vitest';

import { capabilities, cgroupSupport } from '../lib/capabilities';
import { assertEnforceable, unenforced } from '../lib/enforcement';
import { BulkheadError, ErrorCode } from '../lib/index';
import { DEFAULT_LIMITS, resolvePolicy } from '../lib/policy';
import { bytes, load, text } from './helpers';

const ALL = { memory: true, cpu: true, pids: true };
const support = (has: Partial<typeof ALL>) => ({
  ...cgroupSupport(), ...ALL, ...has,
  reasons: ['cpu: cannot create /sys/fs/cgroup/cpu/x (EACCES)', 'pids: cannot create /sys/fs/cgroup/pids/x (EACCES)'],
}) as unknown as ReturnType<typeof cgroupSupport>;
const landlock = (abi: number) => ({ landlock: { ...capabilities().landlock, abi, unavailableReason: abi ? null : 'outer-seccomp' as const } });

describe('the decision', () => {
  it('names the missing cgroup controller, with the probe\'s reason, for a CPU quota; a thread grant needs none (the monitor counts)', () => {
    const gaps = unenforced({ ...DEFAULT_LIMITS, cpuQuotaPercent: 50 }, resolvePolicy({ threads: 2 }),
      support({ cpu: false, pids: false }), landlock(7));
    expect(gaps.map((g) => g.limit)).toEqual(['cpuQuotaPercent']);
    expect(gaps[0].why).toMatch(/cpu controller is unavailable \(cpu: cannot create .*EACCES\)/);
    const e = (() => { try { assertEnforceable(gaps, new Set()); } catch (x) { return x as BulkheadError; } })();
    expect(e?.code).toBe(ErrorCode.SANDBOX_UNAVAILABLE);
    expect(e?.message).toMatch(/cpuQuotaPercent: .*bestEffort: \['cpuQuotaPercent'\]/);
    expect(assertEnforceable(gaps, new Set(['cpuQuotaPercent']))).toHaveLength(1);
    // Accepting another is not accepting this one.
    expect(() => assertEnforceable(gaps, new Set(['threads']))).toThrow(/cpuQuotaPercent/);
  });

  it('asks nothing of a layer that no requested limit needs', () => {
    expect(unenforced(DEFAULT_LIMITS, resolvePolicy('compute'), support({ cpu: false, pids: false, memory: false }), landlock(0))).toEqual([]);
  });

  it('refuses read grants without Landlock, and bestEffort cannot accept that', () => {
    const gaps = unenforced(DEFAULT_LIMITS, resolvePolicy({ fs: { read: ['/etc/hostname'] } }), support({}), landlock(0));
    expect(gaps.map((g) => g.limit)).toEqual(['fs.read']);
    expect(() => assertEnforceable(gaps, new Set(['cpuQuotaPercent', 'threads']))).toThrow(/Read grants need Landlock/);
  });
});

describe('on this machine', () => {
  const cg = cgroupSupport();

  it(`a CPU quota ${cg.cpu ? 'loads and is enforced (the cpu controller is here)' : 'is refused (no cpu controller here), and loads with bestEffort'}`, async () => {
    const options = { limits: { cpuQuotaPercent: 50 } };
    if (cg.cpu) {
      const p = await load('hostile', options);
      expect(p.unenforced).toEqual([]);
      await p.close();
      return;
    }
    await expect(load('hostile', options)).rejects.toMatchObject({ code: ErrorCode.SANDBOX_UNAVAILABLE, message: expect.stringMatching(/cpuQuotaPercent/) });
    const p = await load('hostile', { ...options, bestEffort: ['cpuQuotaPercent'] });
    expect(p.unenforced).toEqual(['cpuQuotaPercent']);
    expect(text(await p.call('echo', bytes('best effort')))).toBe('best effort');
    await p.close();
  });

  it(`a thread grant loads with its threads counted by the monitor${cg.pids ? ' (and the pids controller)' : ' (no pids controller here)'}`, async () => {
    const p = await load('hostile', { policy: { threads: 2 } });
    expect(p.unenforced).toEqual([]);
    await p.close();
  });

  it('bestEffort takes only the names it knows', async () => {
    await expect(load('echo', { bestEffort: ['memoryMiB'] as never })).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
    await expect(load('echo', { bestEffort: 'threads' as never })).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
  });
});
