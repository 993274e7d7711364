// syscall_args.test.ts: a violation explains itself: its error and 'violation' event carry the
// refused call decoded as the monitor saw it (flags by name) and why it is refused, or the grant
// that would allow it.
import { describe, expect, it } from 'vitest';

import type { BulkheadError } from '../lib/index';
import { decodeSyscall } from '../lib/syscall_args';
import { bytes, load } from './helpers';

const hex = (...xs: number[]) => xs.map((x) => `0x${(x >>> 0).toString(16)}`);

describe('decodeSyscall', () => {
  it('names mmap\'s protection and flags, and says W^X is why', () => {
    expect(decodeSyscall('mmap', hex(0, 4096, 7, 0x22, -1, 0))).toEqual({
      call: 'mmap(addr 0x0, len 4096, prot PROT_READ|PROT_WRITE|PROT_EXEC, flags MAP_PRIVATE|MAP_ANONYMOUS, fd -1, off 0)',
      hint: 'memory both writable and executable is never allowed (W^X)',
    });
    expect(decodeSyscall('mmap', hex(0, 8192, 3, 0x40022, -1, 0)).hint).toBe('huge pages (MAP_HUGETLB) are refused');
    expect(decodeSyscall('mprotect', hex(0x1000, 4096, 5)).call).toBe('mprotect(addr 0x1000, len 4096, prot PROT_READ|PROT_EXEC)');
  });

  it('tells a thread from a process from a namespace in clone flags', () => {
    expect(decodeSyscall('clone', hex(0x3d0f00, 0x1000)).hint).toBe('threads need policy.threads');
    expect(decodeSyscall('clone', hex(0x11, 0)).hint).toBe('new processes are never allowed');
    expect(decodeSyscall('clone', hex(0x10000000 | 0x11, 0))).toMatchObject({
      call: expect.stringContaining('CLONE_NEWUSER'), hint: 'new namespaces are never allowed' });
  });

  it('names socket domains and types, and unknown bits stay visible', () => {
    expect(decodeSyscall('socket', hex(2, 0x80001, 0)).call).toBe('socket(domain AF_INET, type SOCK_STREAM, protocol 0)');
    expect(decodeSyscall('mmap', hex(0, 1, 1, 0x2 | 0x80000000, 3, 0)).call).toContain('flags MAP_PRIVATE|0x80000000');
    expect(decodeSyscall('weird', hex(1, 2))).toEqual({ call: 'weird(0x1, 0x2, 0x0, 0x0, 0x0, 0x0)', hint: '' });
    expect(decodeSyscall('kill', ['not hex'])).toMatchObject({ call: 'kill(pid 0, sig 0 (a probe))' });
  });
});

describe('a violation from a plugin', () => {
  it('carries the decoded call and the reason in its error and its violation event', async () => {
    const p = await load('hostile');
    try {
      const events: BulkheadError[] = [];
      p.on('violation', (e: BulkheadError) => events.push(e));
      const e = await p.call('connect_tcp', bytes('9')).catch((x: BulkheadError) => x) as BulkheadError;
      expect(e).toMatchObject({ code: 'ERR_SANDBOX_VIOLATION', syscall: 'socket', hint: 'no grant allows sockets' });
      expect(e.call).toMatch(/^socket\(domain AF_INET, type SOCK_STREAM, protocol \d+\)$/);
      expect(e.message).toContain(e.call!);
      await new Promise((r) => setImmediate(r));
      expect(events.map((v) => v.call)).toEqual([e.call]);
    } finally {
      await p.close();
    }
  });
});
