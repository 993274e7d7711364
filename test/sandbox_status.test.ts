// sandbox_status.test.ts: what the kernel says about live plugin processes, read from the host
// through /proc: seccomp filter mode, no_new_privs, empty capability sets, a scrubbed environment,
// and the process tree (workers are children of the zygote, never of the host).
import { spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Plugin } from '../lib/index';
import { runtime } from '../lib/runtime';
import { bytes, eventually, load, openFds, text, zygoteChildren } from './helpers';
import { Host, installSignalCounter } from './invariants';

const SECRET = `bh-secret-${crypto.randomBytes(12).toString('hex')}`;
process.env.BULKHEAD_TEST_SECRET = SECRET;  // before the zygote starts

const signals = installSignalCounter();
const host = new Host(signals);
const ZERO_CAPS = '0000000000000000';

let plugin: Plugin;
let fds0: number;
let envProbe: ChildProcess;

function status(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const i = line.indexOf(':\t');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 2);
  }
  return out;
}

/** /proc/<pid>/environ, or the errno code if the kernel refuses it. */
function environ(pid: number): { text?: string; code?: string } {
  try {
    return { text: fs.readFileSync(`/proc/${pid}/environ`, 'utf8') };
  } catch (e) {
    return { code: (e as NodeJS.ErrnoException).code };
  }
}

/** The first process of the plugins' pid namespace: pid 1 as it sees itself. */
function isNamespaceInit(pid: number): boolean {
  const ns = /^NSpid:\s+(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1].trim().split(/\s+/) ?? [];
  return ns.length > 1 && ns[ns.length - 1] === '1';
}

beforeAll(async () => {
  // An unsandboxed process of ours with the secret in its environment: proves this host can read
  // another process's environ at all, so an empty one below means "scrubbed", not "unreadable".
  envProbe = spawn('sleep', ['30'], { stdio: 'ignore', env: { BULKHEAD_TEST_SECRET: SECRET } });
  host.ownChildren.add(envProbe.pid!);
  await host.start();
  fds0 = openFds();
  plugin = await load('hostile', { pool: { size: 2 } });
  // Both workers finish their sandbox setup before their first call: make each serve one.
  const served = await Promise.all([plugin.call('sleep_ms', bytes('30')), plugin.call('sleep_ms', bytes('30'))]);
  expect(served.map(text)).toEqual(['slept', 'slept']);
  expect(plugin.workerPids()).toHaveLength(2);
});

afterAll(async () => {
  await plugin?.close();
  await host.stop();
  if (envProbe?.pid) envProbe.kill('SIGKILL');
});

describe('worker processes as the kernel reports them', () => {
  it('seccomp filter mode, no_new_privs and empty capability sets on every worker', () => {
    for (const pid of plugin.workerPids()) {
      const s = status(pid);
      expect(s.Seccomp, `worker ${pid} Seccomp`).toBe('2');
      expect(s.NoNewPrivs, `worker ${pid} NoNewPrivs`).toBe('1');
      expect(s.CapEff, `worker ${pid} CapEff`).toBe(ZERO_CAPS);
      expect(s.CapBnd, `worker ${pid} CapBnd`).toBe(ZERO_CAPS);
      expect(s.CapPrm, `worker ${pid} CapPrm`).toBe(ZERO_CAPS);
      expect(s.CapAmb, `worker ${pid} CapAmb`).toBe(ZERO_CAPS);
      expect(s.CapInh, `worker ${pid} CapInh`).toBe(ZERO_CAPS);
      // The load-phase filter inherited from the template plus the worker's own run-phase filter.
      if (s.Seccomp_filters !== undefined) expect(Number(s.Seccomp_filters), `worker ${pid} Seccomp_filters`).toBeGreaterThanOrEqual(2);
    }
  });

  it('the plugin templates (where ELF constructors run) are sandboxed too', () => {
    const workers = new Set(plugin.workerPids());
    const templates = zygoteChildren().filter((p) => !workers.has(p) && !isNamespaceInit(p));
    expect(templates.length).toBeGreaterThanOrEqual(2);  // the echo canary's and hostile's
    for (const pid of templates) {
      const s = status(pid);
      expect(s.Seccomp, `template ${pid} Seccomp`).toBe('2');
      expect(s.NoNewPrivs, `template ${pid} NoNewPrivs`).toBe('1');
      expect(s.CapEff, `template ${pid} CapEff`).toBe(ZERO_CAPS);
      expect(s.CapBnd, `template ${pid} CapBnd`).toBe(ZERO_CAPS);
    }
  });

  it('plugin processes share one pid namespace whose init holds nothing (skipped where the kernel gives no pid namespace)', (ctx) => {
    if (!runtime.pluginPidNamespace()) ctx.skip();
    const inits = zygoteChildren().filter(isNamespaceInit);
    expect(inits).toHaveLength(1);
    expect(fs.readdirSync(`/proc/${inits[0]}/fd`)).toEqual([]);
    const ns = (pid: number) => fs.readlinkSync(`/proc/${pid}/ns/pid`);
    for (const pid of plugin.workerPids()) expect(ns(pid)).toBe(ns(inits[0]));
    expect(ns(host.zygotePid)).not.toBe(ns(inits[0]));
  });

  it("a worker's parent is the zygote, not the host; the zygote's parent is the host", () => {
    for (const pid of plugin.workerPids()) {
      const ppid = Number(status(pid).PPid);
      expect(ppid, `worker ${pid} PPid`).toBe(host.zygotePid);
      expect(ppid).not.toBe(process.pid);
    }
    expect(Number(status(host.zygotePid).PPid)).toBe(process.pid);
    expect(host.children()).toEqual([host.zygotePid]);
  });

  it("the worker's environment is empty (scrubbed), though the host's secret is set", () => {
    expect(process.env.BULKHEAD_TEST_SECRET).toBe(SECRET);
    const probe = environ(envProbe.pid!);
    expect(probe.text, 'reading an unsandboxed process environ works here').toContain(SECRET);
    for (const pid of plugin.workerPids()) {
      const env = environ(pid);
      // Readable as root (CAP_SYS_PTRACE) even though workers are non-dumpable; if a kernel ever
      // refuses, it must refuse with EACCES, never hand out the host's variables.
      if (env.code !== undefined) {
        expect(env.code, `worker ${pid} environ unreadable`).toBe('EACCES');
      } else {
        expect(env.text, `worker ${pid} environ`).toBe('');
      }
    }
  });

  it("the zygote's environment is empty (scrubbed before any plugin exists)", () => {
    const env = environ(host.zygotePid);
    expect(env.code).toBeUndefined();
    expect(env.text).not.toContain(SECRET);
    expect(env.text).toBe('');
  });

  it('after close() the workers are gone and the host is back to its baseline', async () => {
    const pids = plugin.workerPids();
    expect(pids).toHaveLength(2);
    await host.assertHostIntact();
    await plugin.close();
    for (const pid of pids) expect(await eventually(() => !fs.existsSync(`/proc/${pid}`)), `worker ${pid} after close`).toBe(true);
    await host.assertReleased(fds0);
  });
});
