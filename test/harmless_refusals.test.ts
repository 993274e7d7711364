// harmless_refusals.test.ts: what honest libraries probe and go on without gets an errno, not a
// kill (mlock, as libsodium's sodium_malloc does; MAP_POPULATE; another process's scheduling),
// their own thread's scheduling and priority work, and the worker serves on. The README's
// errno/kill table lists the same decisions.
import { describe, expect, it } from 'vitest';

import { ASAN, bytes, load, notUnderAsan, text } from './helpers';

describe('probes real libraries make', () => {
  it.skipIf(ASAN)(notUnderAsan('fail softly or work, each as the README says, and the worker serves on',
    'ASAN intercepts mlock and returns 0 without the syscall'), async () => {
    const p = await load('hostile');
    try {
      const [pid] = p.workerPids();
      expect(text(await p.call('harmless_probes', bytes('')))).toBe(
        'mlock:EPERM munlock:ok mlockall:EPERM populate:EPERM getscheduler:ok getparam:ok getparam(1):EPERM ' +
        'getaffinity:ok getaffinity(1):EPERM getpriority:ok setpriority:ok setpriority(1):EPERM');
      expect(text(await p.call('echo', bytes('served')))).toBe('served');
      expect(p.workerPids()).toContain(pid);  // the same worker: nothing was killed
    } finally {
      await p.close();
    }
  });
});
