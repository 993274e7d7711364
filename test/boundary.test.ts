// boundary.test.ts: the template is plugin code from its first constructor on. Each attack of the
// boundary fixture (plugins/hostile/boundary.c) runs in every phase plugin code runs in (the ELF
// constructor, init(), a call) and must end in its exact outcome, with the host unsignalled, the
// zygote the same process, a sibling plugin answering, and no process, descriptor or child left.
import { spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BulkheadError, ErrorCode, loadPlugin, type Plugin } from '../lib/index';
import { alive, ASAN, bytes, eventually, load, notUnderAsan, openFds, pluginPath, text, zygoteChildren } from './helpers';
import { Host, installSignalCounter } from './invariants';

const signals = installSignalCounter();
const host = new Host(signals);

const PHASES = ['constructor', 'init', 'call'] as const;
type Phase = (typeof PHASES)[number];
const PREFIX = 'BH-BOUNDARY-ATTACK:';
const SELECTOR_BYTES = 128;

let scratch: string;
let canary: ChildProcess;

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-boundary-'));
  fs.writeFileSync(path.join(scratch, 'secret'), 'bh-boundary-secret');
  canary = spawn('sleep', ['60'], { stdio: 'ignore' });
  expect(canary.pid).toBeGreaterThan(0);
  host.ownChildren.add(canary.pid!);
  await host.start();
});

afterAll(async () => {
  await host.stop();
  if (canary?.pid && alive(canary.pid)) canary.kill('SIGKILL');
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** A copy of the fixture whose constructor runs `attack` (its selector patched in the bytes). */
function constructorVariant(attack: string): string {
  const bytesOf = fs.readFileSync(pluginPath('boundary'));
  const at = bytesOf.indexOf(PREFIX);
  expect(at).toBeGreaterThan(0);
  expect(bytesOf.indexOf(PREFIX, at + 1)).toBe(-1);
  const room = SELECTOR_BYTES - PREFIX.length;
  expect(attack.length).toBeLessThan(room);
  bytesOf.fill(0, at + PREFIX.length, at + SELECTOR_BYTES);
  bytesOf.write(attack, at + PREFIX.length, 'latin1');
  const file = path.join(scratch, `boundary-${crypto.randomBytes(6).toString('hex')}.so`);
  fs.writeFileSync(file, bytesOf);
  return file;
}

interface Result {
  /** The load or the call failed with this. */
  error?: BulkheadError;
  /** What the fixture said the attack did (it survived). */
  said?: string;
}

/** Runs `attack` in `phase`, closes everything, and checks the invariants. */
async function attackIn(phase: Phase, attack: string, loadTimeoutMs = 10_000): Promise<Result> {
  const fds0 = openFds();
  const kids0 = zygoteChildren();
  let plugin: Plugin | undefined;
  let result: Result;
  try {
    if (phase === 'constructor') {
      const file = constructorVariant(attack);
      const sha256 = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
      plugin = await loadPlugin(file, { trust: { sha256 }, loadTimeoutMs });
      result = { said: text(await plugin.call('result', new Uint8Array(0))) };
    } else if (phase === 'init') {
      plugin = await load('boundary', { config: bytes(attack), loadTimeoutMs });
      result = { said: text(await plugin.call('result', new Uint8Array(0))) };
    } else {
      plugin = await load('boundary', { loadTimeoutMs });
      const out = await plugin.call('attack', bytes(attack)).then(
        (v) => ({ said: text(v) }), (e: unknown) => ({ error: e as BulkheadError }));
      result = out;
      // The pool serves again (a replacement where the attack cost a worker).
      expect(text(await plugin.call('attack', bytes('none')))).toBe('no attack ran');
    }
  } catch (e) {
    result = { error: e as BulkheadError };
  } finally {
    await plugin?.close();
  }
  if (result.error) expect(result.error).toBeInstanceOf(BulkheadError);
  await host.assertHostIntact();
  // Nothing of the plugin is left: no process the zygote started for it, no host descriptor.
  const gone = await eventually(() => zygoteChildren().join() === kids0.join(), 3000);
  expect(gone ? kids0 : zygoteChildren(), 'processes left behind by the plugin').toEqual(kids0);
  await host.assertReleased(fds0);
  return result;
}

function expectViolation(r: Result, phase: Phase, syscall: string): void {
  expect(r.error?.code, r.error?.message ?? r.said).toBe(ErrorCode.SANDBOX_VIOLATION);
  expect(r.error?.syscall).toBe(syscall);
  expect(r.error?.arch).toBe(process.arch === 'x64' ? 'x86_64' : 'aarch64');
  // The monitor's record: the arguments as the kernel saw them.
  expect(r.error?.args).toHaveLength(6);
  if (phase === 'call') expect(r.error?.fn).toBe('attack');
  else expect(r.error?.reason).toBe('load');
}

describe.each(PHASES)('from the %s', (phase) => {
  it('a worker clone with no spawn request open is a violation, and no process is made', async () => {
    expectViolation(await attackIn(phase, 'clone_parent'), phase, 'clone');
  });

  it('fork fails with EPERM and the plugin carries on', async () => {
    expect((await attackIn(phase, 'fork')).said).toBe('fork: EPERM');
  });

  it('signals to another process are violations; the canary is untouched', async () => {
    const pid = canary.pid!;
    expectViolation(await attackIn(phase, `kill_other:${pid}`), phase, 'kill');
    expectViolation(await attackIn(phase, `tgkill_other:${pid}`), phase, 'tgkill');
    expectViolation(await attackIn(phase, `sigqueue_other:${pid}`), phase, 'rt_sigqueueinfo');
    expect(alive(pid)).toBe(true);
  });

  it('kill(0) (its process group) and a self pid with smuggled upper bits are violations', async () => {
    expectViolation(await attackIn(phase, 'kill_group'), phase, 'kill');
    expectViolation(await attackIn(phase, 'kill_smuggled'), phase, 'kill');
  });

  it('signals to itself still work (raise, kill(getpid()), sigqueue)', async () => {
    expect((await attackIn(phase, 'self_signals')).said).toBe('self signals: 3');
  });

  it('a writable and executable file-backed mapping is a violation', async () => {
    expectViolation(await attackIn(phase, 'rwx_file'), phase, 'mmap');
  });

  it('mprotect to executable is a violation', async () => {
    expectViolation(await attackIn(phase, 'mprotect_exec'), phase, 'mprotect');
  });

  it('an unusable alternate signal stack does not hide a violation', async () => {
    expectViolation(await attackIn(phase, 'altstack_none'), phase, 'socket');
  });

  it('path metadata is refused the same way whether or not the path exists', async () => {
    const expected = 'fstatat:EPERM statx:EPERM stat:EPERM opath:EPERM';
    expect((await attackIn(phase, `stat:${path.join(scratch, 'secret')}`)).said).toBe(expected);
    expect((await attackIn(phase, `stat:${path.join(scratch, 'missing')}`)).said).toBe(expected);
  });

  it('fstat and statx on a descriptor it holds still work', async () => {
    expect((await attackIn(phase, 'fstat')).said).toBe('fstat:fifo statx:fifo');
  });
});

describe('an address-space reservation (all RLIMIT_AS allows, PROT_NONE)', () => {
  it.skipIf(ASAN).each(['constructor', 'init'] as const)(notUnderAsan('from the %s leaves workers no room for their ring: the load fails at once with the worker\'s setup exit, not at its deadline',
    'the sanitizer run sets no address-space cap'), async (phase) => {
    const t0 = performance.now();
    const r = await attackIn(phase, 'reserve_all');
    expect(r.error?.code, r.said).toBe(ErrorCode.WORKER_EXITED);
    expect(r.error?.exitCode).toBe(121);
    // Whether it died before the template reported it or just after: the same exit, the same error.
    expect(r.error?.message).toMatch(/exited with code 121.*\(its sandbox could not be set up\)/);
    expect(performance.now() - t0).toBeLessThan(5000);  // the load deadline is 10 s
  });

  it('from a call costs only that worker\'s own room: it answers, and serves the next call', async () => {
    expect((await attackIn('call', 'reserve_all')).said).toMatch(/^reserved [1-9]\d* MiB$/);
  });
});

describe('the control socket', () => {
  it.each(['constructor', 'init'] as const)('a flood from the %s kills the template with ERR_PROTOCOL; others are served', async (phase) => {
    const sibling = host.echo.call('echo', bytes('during-flood'));
    const r = await attackIn(phase, 'flood');
    expect(r.error?.code, r.said).toBe(ErrorCode.PROTOCOL);
    expect(text(await sibling)).toBe('during-flood');
  });

  it.each(['constructor', 'init'] as const)('a "loaded" forged from the %s ends in ERR_PROTOCOL', async (phase) => {
    const r = await attackIn(phase, 'fake_loaded');
    expect(r.error?.code, r.said).toBe(ErrorCode.PROTOCOL);
  });

  it('a forged "loaded" followed by a hang is killed at the activation deadline', async () => {
    const t0 = performance.now();
    const r = await attackIn('constructor', 'fake_loaded:hang', 500);
    expect(r.error?.code, r.said).toBe(ErrorCode.LOAD_FAILED);
    expect(r.error?.reason).toBe('timeout');
    expect(performance.now() - t0).toBeLessThan(10_000);  // long before the fixture's own 20 s
  });

  it.each(['constructor', 'init'] as const)('a spawn answered from the %s with a pipe instead of a pidfd is ERR_PROTOCOL', async (phase) => {
    const r = await attackIn(phase, 'fake_spawn');
    expect(r.error?.code, r.said).toBe(ErrorCode.PROTOCOL);
  });

  it('a worker has no control socket to talk on', async () => {
    expect((await attackIn('call', 'flood')).said).toBe('flood: sent 0');
    expect((await attackIn('call', 'fake_loaded')).said).toBe('sendmsg: EPERM');
  });
});

// REDTEAM.md catalogue entries the boundary answers on its own, one raw syscall each (pointer
// arguments 0, so a call that got through would fail with EFAULT rather than act): the exact
// outcome, from every phase. [name, x86-64 nr, aarch64 nr, arguments, expected: a violation of
// that syscall, or the errno the plugin sees].
const CATALOGUE: [string, number, number, string, 'violation' | string][] = [
  ['unshare', 272, 97, '0x10000000', 'violation'],          // #8 CLONE_NEWUSER
  ['mount', 165, 40, '', 'violation'],                     // #8
  ['umount2', 166, 39, '', 'violation'],                   // #8
  ['chroot', 161, 51, '', 'violation'],                    // #8
  ['pivot_root', 155, 41, '', 'violation'],                // #8
  ['setns', 308, 268, '', 'violation'],                    // #8
  ['open_tree', 428, 428, '', 'violation'],                // #8 new mount API
  ['io_uring_setup', 425, 425, '1', 'violation'],          // #9
  ['io_uring_enter', 426, 426, '', 'violation'],           // #9
  ['seccomp', 317, 277, '1,8,0', 'violation'],             // #10 NEW_LISTENER
  ['prctl', 157, 167, '35', 'violation'],                  // #16 PR_SET_MM
  ['prctl', 157, 167, '1499557217,1', 'EPERM'],            // #16 PR_SET_PTRACER fails softly
  ['personality', 135, 92, '0xffffffff', 'violation'],     // #17
  ['pkey_mprotect', 329, 288, '', 'violation'],            // #18
  ['remap_file_pages', 216, 234, '', 'violation'],         // #18
  ['memfd_create', 319, 279, '', 'EPERM'],                 // #19
  ['execveat', 322, 281, '', 'violation'],                 // #21
  ['tkill', 200, 130, '1', 'violation'],                   // #22
  ['pidfd_send_signal', 424, 424, '', 'violation'],        // #22
  ['pidfd_open', 434, 434, '1', 'violation'],              // #22
  ['fcntl', 72, 25, '0,8,1', 'violation'],                 // #23 F_SETOWN
  ['process_vm_readv', 310, 270, '', 'violation'],         // #27
  ['kcmp', 312, 272, '', 'violation'],                     // #27
  ['socketpair', 53, 199, '', 'violation'],                // #28, #29
  ['shmget', 29, 194, '', 'violation'],                    // #31
  ['shmat', 30, 196, '', 'violation'],                     // #31
  ['msgget', 68, 186, '', 'violation'],                    // #31
  ['mq_open', 240, 180, '', 'violation'],                  // #31
  ['keyctl', 250, 219, '', 'violation'],                   // #32
  ['add_key', 248, 217, '', 'violation'],                  // #32
  ['bpf', 321, 280, '', 'violation'],                      // #33
  ['perf_event_open', 298, 241, '', 'violation'],          // #34
  ['userfaultfd', 323, 282, '', 'violation'],              // #34
  ['syslog', 103, 116, '', 'violation'],                   // #34
  ['open_by_handle_at', 304, 265, '', 'violation'],        // #4
  ['name_to_handle_at', 303, 264, '', 'violation'],        // #4
  ['openat2', 437, 437, '', 'ENOSYS'],                     // #4 libc falls back to openat
  ['clone3', 435, 435, '', 'ENOSYS'],                      // #6
  ['setpriority', 141, 140, '0,1,19', 'EPERM'],            // #35 another process (its own: allowed)
  ['getpriority', 140, 141, '2,0', 'EPERM'],               // #35 PRIO_USER
  ['sched_setscheduler', 144, 119, '1,0,0', 'EPERM'],      // #35 another process
  ['mlock', 149, 228, '', 'EPERM'],                        // #56 fails as RLIMIT_MEMLOCK would
  ['mmap', 9, 222, '0,4096,3,0x8022,0xffffffffffffffff,0', 'EPERM'],  // #56 MAP_POPULATE
  ['sched_setaffinity', 203, 122, '', 'violation'],        // #35
  ['prlimit64', 302, 261, '1,7', 'violation'],             // #36 another process's limits
  ['clock_gettime', 228, 113, '0xfffffffffffffff2', 'violation'],  // #37 pid 1's CPU clock
  ['setpgid', 109, 154, '0,0', 'violation'],               // #38 leaving the process group
  ['setsid', 112, 157, '', 'violation'],                   // #38
  ['mknodat', 259, 33, '', 'EPERM'],                       // #40
  ['ioctl', 16, 29, '', 'ENOTTY'],                         // #42
  ['madvise', 28, 233, '0,0,100', 'EPERM'],                // #57 advice outside the allowlist
  ['mbind', 237, 235, '', 'violation'],                    // #57
  ['capset', 126, 91, '', 'violation'],
  ['setuid', 105, 146, '0', 'violation'],
];

describe.each(PHASES)('the catalogue, from the %s', (phase) => {
  it.each(CATALOGUE)('%s (x86-64 %i, aarch64 %i, args "%s"): %s', async (name, x64, arm64, args, expected) => {
    const nr = process.arch === 'x64' ? x64 : arm64;
    const r = await attackIn(phase, `raw:${nr}${args ? `,${args}` : ''}`);
    if (expected === 'violation') expectViolation(r, phase, name);
    else expect(r.said, r.error?.message).toBe(`raw: ${expected}`);
  });
});
