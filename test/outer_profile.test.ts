// outer_profile.test.ts: bulkhead under an outer seccomp profile, as in a container: the host runs
// beneath a filter (test/fixtures/outer_profile.c, libseccomp) that refuses Landlock's syscalls
// (runtimes' profiles from before Landlock) or namespace creation (a default profile without
// CAP_SYS_ADMIN). Landlock refused that way is reported as 'outer-seccomp': strict loads fail
// closed saying so, seccomp-only compute loads work, read grants are refused; without namespaces
// plugins still load and serve.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ASAN, ASAN_THREADS, notUnderAsan, pluginPath, sha256Of } from './helpers';

const HAVE_LIBSECCOMP = fs.existsSync('/usr/include/seccomp.h');
const skipReason = HAVE_LIBSECCOMP ? '' : ' [skipped: libseccomp headers (libseccomp-dev) are not installed]';
let scratch: string;
let helper: string;

beforeAll(() => {
  if (!HAVE_LIBSECCOMP) return;
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-outer-'));
  helper = path.join(scratch, 'outer_profile');
  const cc = spawnSync('cc', ['-O2', '-Wall', '-o', helper, path.join(__dirname, 'fixtures', 'outer_profile.c'), '-lseccomp'],
    { encoding: 'utf8' });
  expect(cc.status, cc.stderr).toBe(0);
});
afterAll(() => { if (scratch) fs.rmSync(scratch, { recursive: true, force: true }); });

// Docker's default capability set (moby's defaults, as documented for `docker run`).
const DOCKER_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL',
  'CAP_AUDIT_WRITE'];

interface DockerRule {
  names: string[];
  action: 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO';
  errnoRet?: number;
  args?: Array<{ index: number; value: number; valueTwo?: number; op: string }>;
  includes?: { arches?: string[]; caps?: string[]; minKernel?: string };
  excludes?: { arches?: string[]; caps?: string[]; minKernel?: string };
}

/** Docker's default profile (test/fixtures, vendored) as outer_profile's rules: the conditions
 *  applied as Docker applies them (moby's seccomp_linux.go: excluded if any excluded cap is held,
 *  included only if every included cap is), for this architecture, kernel and Docker's caps. */
function dockerRules(): string {
  const profile = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'docker-default-seccomp.json'), 'utf8')) as
    { defaultErrnoRet: number; syscalls: DockerRule[] };
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const [major, minor] = os.release().split('.').map(Number);
  const atLeast = (v: string) => { const [a, b] = v.split('.').map(Number); return major > a || (major === a && minor >= b); };
  const lines = [`default ERRNO ${profile.defaultErrnoRet}`];
  for (const r of profile.syscalls) {
    const ex = r.excludes ?? {}, inc = r.includes ?? {};
    if (ex.arches?.includes(arch) || ex.caps?.some((c) => DOCKER_CAPS.includes(c)) || (ex.minKernel && atLeast(ex.minKernel))) continue;
    if ((inc.arches && !inc.arches.includes(arch)) || inc.caps?.some((c) => !DOCKER_CAPS.includes(c)) || (inc.minKernel && !atLeast(inc.minKernel))) continue;
    const action = r.action === 'SCMP_ACT_ALLOW' ? 'ALLOW' : `ERRNO:${r.errnoRet ?? profile.defaultErrnoRet}`;
    const args = (r.args ?? []).map((a) => `${a.index} ${a.op.replace('SCMP_CMP_', '')} ${a.value} ${a.valueTwo ?? 0}`).join(' ');
    for (const name of r.names) lines.push(`${action} ${name}${args ? ` ${args}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Runs `body` (an async function body with `lib`, `echo` and `out` in scope) in a Node process
 *  beneath the outer profile `sets`; returns what it put in `out`. */
function under(sets: string, body: string, prefix: string[] = []): Record<string, unknown> {
  const script = `
    const lib = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'index.ts'))});
    const echo = { file: ${JSON.stringify(pluginPath('echo'))}, trust: { sha256: ${JSON.stringify(sha256Of(pluginPath('echo')))} } };
    const out = {};
    const code = (p) => p.then(() => 'ok', (e) => e.code + ': ' + e.message);
    (async () => { ${body} })().then(() => process.stdout.write(JSON.stringify(out)),
      (e) => process.stdout.write(JSON.stringify({ failed: String(e && e.stack || e) })));`;
  const argv = [...prefix, helper, sets, '--', process.execPath, '--import', 'tsx', '-e', script];
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(out.failed).toBeUndefined();
  return out;
}

describe.skipIf(!HAVE_LIBSECCOMP)('beneath an outer seccomp profile', () => {
  it(`that refuses Landlock: reported as outer-seccomp; strict fails closed saying so, seccomp-only compute plugins load and serve, read grants are refused${skipReason}`, () => {
    const out = under('landlock', `
      const caps = lib.capabilities();
      out.reason = caps.landlock.unavailableReason;
      out.level = caps.level;
      out.gap = caps.gaps.find((g) => g.startsWith('no Landlock'));
      out.strict = await code(lib.loadPlugin(echo.file, { trust: echo.trust }));
      const p = await lib.loadPlugin(echo.file, { trust: echo.trust, requireLevel: 'seccomp-only' });
      out.served = Buffer.from(await p.call('echo', Buffer.from('beneath'))).toString();
      await p.close();
      out.read = await code(lib.loadPlugin(echo.file, { trust: echo.trust, requireLevel: 'seccomp-only', policy: { fs: { read: ['/etc/hostname'] } } }));`);
    expect(out.reason).toBe('outer-seccomp');
    expect(out.level).toBe('seccomp-only');
    expect(out.gap).toMatch(/no Landlock \(outer-seccomp\): file grants are refused/);
    expect(out.strict).toMatch(/^ERR_SANDBOX_UNAVAILABLE: .*'seccomp-only' .*unavailable: outer-seccomp/);
    expect(out.served).toBe('beneath');
    expect(out.read).toMatch(/^ERR_SANDBOX_UNAVAILABLE: .*fs\.read: Landlock.*\(outer-seccomp\)/);
  });

  // As root, the host also gets only Docker's default capabilities (setpriv), as in a container.
  const asRoot = process.getuid?.() === 0 && fs.existsSync('/usr/bin/setpriv');
  it.skipIf(ASAN)(notUnderAsan(`that is Docker's default profile${asRoot ? ', with its default capabilities' : ''}: strict loads, grants, budgets and threads all hold${skipReason}`,
    ASAN_THREADS), () => {
    const rules = path.join(scratch, 'docker.rules');
    fs.writeFileSync(rules, dockerRules());
    const dir = fs.mkdtempSync(path.join(scratch, 'writes-'));
    const hostile = { file: pluginPath('hostile'), trust: { sha256: sha256Of(pluginPath('hostile')) } };
    const caps = DOCKER_CAPS.map((c) => `+${c.slice(4).toLowerCase()}`).join(',');
    const out = under(`rules=${rules}`, `
      const hostile = ${JSON.stringify(hostile)};
      const caps = lib.capabilities();
      out.level = caps.level;
      out.unshare = (() => { try { require('node:child_process').execFileSync('unshare', ['-U', 'true'], { stdio: 'ignore' }); return 'ok'; } catch { return 'refused'; } })();
      const e = await lib.loadPlugin(echo.file, { trust: echo.trust });
      out.served = Buffer.from(await e.call('echo', Buffer.from('in docker'))).toString();
      await e.close();
      const p = await lib.loadPlugin(hostile.file, { trust: hostile.trust, policy: { threads: 3, fs: { read: ['/etc/hostname'], write: [${JSON.stringify(dir)}] } },
        limits: { maxBytesWritten: 1 << 20 } });
      out.read = Buffer.from(await p.call('read_file', Buffer.from('/etc/hostname'))).length > 0;
      out.threads = Buffer.from(await p.call('thread_bomb', Buffer.alloc(0))).toString();
      out.over = await code(p.call('write_big', Buffer.from(${JSON.stringify(path.join(dir, 'big'))} + ':' + (8 << 20))));
      out.outside = await code(p.call('read_file', Buffer.from('/etc/passwd')));
      out.after = Buffer.from(await p.call('echo', Buffer.from('replaced'))).toString();
      await p.close();`, asRoot ? ['setpriv', '--bounding-set', `-all,${caps}`, '--inh-caps', '-all', '--'] : []);
    expect(out.level).toBe('strict');
    expect(out.unshare, 'the profile refuses new namespaces, as in Docker').toBe('refused');
    expect(out.served).toBe('in docker');
    expect(out.read).toBe(true);
    expect(out.threads).toBe('3');
    expect(out.over).toMatch(/^ERR_WRITE_LIMIT/);
    expect(out.outside).toMatch(/^ERR_PLUGIN_ERROR: .*EACCES/);
    expect(out.after).toBe('replaced');
  });

  it(`that refuses namespaces: plugins load and serve without a pid namespace of their own${skipReason}`, () => {
    const out = under('namespaces', `
      const p = await lib.loadPlugin(echo.file, { trust: echo.trust, pool: { size: 2 } });
      out.served = Buffer.from(await p.call('echo', Buffer.from('no namespaces'))).toString();
      out.crash = await code(p.call('segfault', Buffer.alloc(0)));
      await p.close();`);
    expect(out.served).toBe('no namespaces');
    expect(out.crash).toMatch(/^ERR_UNKNOWN_FUNCTION/);  // echo has no segfault: the pool still answers
  });
});
