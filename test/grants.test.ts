// grants.test.ts: what the policy's grants open up, and nothing beyond: threads (glibc's exact
// clone flags), writable directories (Landlock-confined, RLIMIT_FSIZE-capped). Without a grant
// the default sandbox answers exactly as before.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ErrorCode, type Plugin } from '../lib/index';
import { ASAN, ASAN_THREADS, load, notUnderAsan, text, threadGrant } from './helpers';

let scratch: string;   // the granted directory
let outside: string;   // a sibling directory no policy grants
const open: Plugin[] = [];

async function loaded(options: Parameters<typeof load>[1]): Promise<Plugin> {
  const p = await load('hostile', options);
  open.push(p);
  return p;
}

async function failure(p: Plugin, fn: string, input: string): Promise<{ code?: string; message: string; signal?: unknown }> {
  return p.call(fn, Buffer.from(input)).then(
    (out) => { throw new Error(`${fn} succeeded: ${text(out)}`); },
    (e) => e);
}

beforeAll(() => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-grants-'));
  scratch = path.join(root, 'scratch');
  outside = path.join(root, 'outside');
  fs.mkdirSync(scratch);
  fs.mkdirSync(outside);
});

afterAll(async () => {
  await Promise.all(open.map((p) => p.close()));
  if (scratch) fs.rmSync(path.dirname(scratch), { recursive: true, force: true });
});

describe('threads', () => {
  it.skipIf(ASAN)(notUnderAsan('runs a thread when the policy grants threads',
    ASAN_THREADS), async () => {
    const p = await loaded(threadGrant(4));
    const out = await p.call('thread', Buffer.alloc(0)).then(text, (e: Error) => e.message);
    expect(out).toBe('thread ran');
  });

  it('refuses pthread_create with EPERM without a grant, and the worker keeps serving', async () => {
    const p = await loaded({});
    await expect(p.call('thread', Buffer.alloc(0))).rejects.toMatchObject({
      code: ErrorCode.PLUGIN_ERROR, message: expect.stringContaining('pthread_create: EPERM') });
    expect(text(await p.call('thread_bomb', Buffer.alloc(0)))).toBe('0');
    expect(text(await p.call('echo', Buffer.from('still here')))).toBe('still here');
  });

  it('still refuses fork when threads are granted', async () => {
    const p = await loaded(threadGrant(4));
    expect(text(await p.call('fork_bomb', Buffer.alloc(0)))).toBe('forks ok 0 failed 1000');
  });

  it('keeps signals to itself working when threads are granted: abort() is a crash, not a violation', async () => {
    const p = await loaded(threadGrant(4));
    await expect(p.call('abort', Buffer.alloc(0))).rejects.toMatchObject({ code: ErrorCode.WORKER_CRASHED, signal: 'SIGABRT' });
    await expect(p.call('signal_pid', Buffer.from(String(process.pid)))).rejects.toMatchObject({ code: ErrorCode.SANDBOX_VIOLATION, syscall: 'kill' });
  });

  it.each([[-1], [257], [1.5], ['4'], [null]])('rejects threads: %j', async (threads) => {
    await expect(load('hostile', { policy: { threads } as never })).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT, message: expect.stringContaining('options.policy.threads') });
  });
});

describe('file locks', () => {
  it('on a file the policy grants for reading: POSIX, OFD and flock locks all work, and the worker serves on', async () => {
    const file = path.join(scratch, 'locked.db');
    fs.writeFileSync(file, 'database');
    const p = await loaded({ policy: { fs: { read: [file] } } });
    expect(text(await p.call('file_locks', Buffer.from(file)))).toBe('setlk:ok getlk:ok ofd_setlk:ok flock:ok unlock:ok');
    expect(text(await p.call('echo', Buffer.from('served')))).toBe('served');
  });

  it('the file itself stays out of reach without a grant (the locks need a descriptor)', async () => {
    const file = path.join(outside, 'not-granted.db');
    fs.writeFileSync(file, 'database');
    const p = await loaded({ policy: { fs: { read: [scratch] } } });
    const e = await failure(p, 'file_locks', file);
    expect(e.message).toMatch(/open: EACCES/);
  });
});

describe('writable directories', () => {
  it('writes a file inside the granted directory', async () => {
    const p = await loaded({ policy: { fs: { write: [scratch] } } });
    const file = path.join(scratch, 'inside.txt');
    expect(text(await p.call('write_file', Buffer.from(file)))).toBe('written');
    expect(fs.readFileSync(file, 'utf8')).toBe('pwned');
    expect(text(await p.call('read_file', Buffer.from(file)))).toBe('pwned');
  });

  it('refuses a write outside the granted directory with EACCES (Landlock)', async () => {
    const p = await loaded({ policy: { fs: { write: [scratch] } } });
    const file = path.join(outside, 'escape.txt');
    expect((await failure(p, 'write_file', file)).message).toContain('open: EACCES');
    expect(fs.existsSync(file)).toBe(false);
  });

  it('does not make anything else readable', async () => {
    const p = await loaded({ policy: { fs: { write: [scratch] } } });
    expect((await failure(p, 'read_file', '/etc/passwd')).message).toContain('open: EACCES');
  });

  it('keeps write-mode opens at EPERM when nothing is writable, even where reading is granted', async () => {
    const p = await loaded({ policy: { fs: { read: [scratch] } } });
    const file = path.join(scratch, 'not-written.txt');
    expect((await failure(p, 'write_file', file)).message).toContain('open: EPERM');
    expect(fs.existsSync(file)).toBe(false);
  });

  it('allows the calls that create, size, rename and remove files beneath the grant, and no others', async () => {
    const p = await loaded({ policy: { fs: { write: [scratch] } } });
    const dir = fs.mkdtempSync(path.join(scratch, 'ops-'));
    expect(text(await p.call('fs_ops', Buffer.from(dir)))).toBe(
      'mkdir:ok mkdirat:ok open:ok ftruncate:ok fallocate:ok fsync:ok rename:ok renameat2:ok ' +
      'exchange:EPERM move:EXDEV tmpfile:EPERM opendir:ok unlink:ok unlinkat:ok rmdir:ok');
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('refuses those calls without a write grant; listing a readable directory still works', async () => {
    const p = await loaded({ policy: { fs: { read: [scratch] } } });
    const out = text(await p.call('fs_ops', Buffer.from(scratch)));
    expect(out).toMatch(/^mkdir:EPERM mkdirat:EPERM open:EPERM /);
    expect(out).toContain('opendir:ok');
    expect(out).toMatch(/ unlink:EPERM unlinkat:EPERM rmdir:EPERM$/);
  });

  it('kills the worker with SIGXFSZ past limits.maxFileSizeBytes; up to it the write succeeds', async () => {
    const p = await loaded({ policy: { fs: { write: [scratch] } }, limits: { maxFileSizeBytes: 1 << 20 } });
    const file = path.join(scratch, 'big');
    expect(text(await p.call('write_big', Buffer.from(`${file}:${1 << 20}`)))).toBe(`wrote ${1 << 20}`);
    const e = await failure(p, 'write_big', `${file}:${(1 << 20) + 1}`);
    expect(e).toMatchObject({ code: ErrorCode.FILE_SIZE_LIMIT, signal: 'SIGXFSZ' });
    expect(fs.statSync(file).size).toBe(1 << 20);
    expect(text(await p.call('echo', Buffer.from('replaced')))).toBe('replaced');
  });

  it('caps each file at 64 MiB when the write grant comes without a size limit', async () => {
    const p = await loaded({ policy: { fs: { write: [scratch] } } });
    const file = path.join(scratch, 'default-cap');
    const e = await failure(p, 'write_big', `${file}:${(64 << 20) + 1}`);
    expect(e).toMatchObject({ code: ErrorCode.FILE_SIZE_LIMIT, signal: 'SIGXFSZ' });
    expect(fs.statSync(file).size).toBe(64 << 20);
    fs.rmSync(file);
  });

  it.each([
    ['a relative directory', ['relative/dir']],
    ['a path with a NUL', ['/tmp/a\0b']],
    ['not an array', '/tmp'],
  ])('rejects %s in fs.write', async (_, write) => {
    await expect(load('hostile', { policy: { fs: { write } as never } })).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT, message: expect.stringContaining('options.policy.fs.write') });
  });
});
