// The kernel posture report and fail-closed loading.
import * as fs from 'node:fs';

import { describe, expect, it } from 'vitest';

import { capabilities } from '../lib/index';
import { load } from './helpers';

describe('capabilities()', () => {
  const caps = capabilities();

  it('reports the seccomp facts this process can see for itself', () => {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const mode = Number(/^Seccomp:\s+(\d+)/m.exec(status)?.[1] ?? '0');
    expect(caps.seccomp.outerMode).toBe(mode);
    expect(typeof caps.seccomp.available).toBe('boolean');
    expect(caps.arch).toBe(process.arch === 'x64' ? 'x86_64' : 'aarch64');
  });

  it('reports a Landlock ABI consistent with its feature flags', () => {
    const abi = caps.landlock.abi;
    expect(caps.landlock.filesystem).toBe(abi >= 1);
    expect(caps.landlock.network).toBe(abi >= 4);
    expect(caps.landlock.scoping).toBe(abi >= 6);
    expect(caps.landlock.unavailableReason === null).toBe(abi > 0);
    expect(caps.gaps.some((g) => g.includes('Landlock < 6'))).toBe(abi < 6);
  });

  it.runIf(capabilities().level !== 'strict')('fails closed under the default requireLevel (runs only where the kernel is below strict)', async () => {
    await expect(load('echo')).rejects.toMatchObject({ code: 'ERR_SANDBOX_UNAVAILABLE' });
  });

  it.runIf(capabilities().level === 'strict')('loads under the default strict level on a kernel that offers it', async () => {
    expect(caps.level).toBe('strict');
    const p = await load('echo');
    await p.close();
  });

  it.runIf(capabilities().seccomp.available)('loads with the explicit seccomp-only opt-in', async () => {
    const p = await load('echo', { requireLevel: 'seccomp-only' });
    expect(Buffer.from(await p.call('echo', Buffer.from('x'))).toString()).toBe('x');
    await p.close();
  });
});
