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

import { pluginPath, sha256Of } from './helpers';

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

/** Runs `body` (an async function body with `lib`, `echo` and `out` in scope) in a Node process
 *  beneath the outer profile `sets`; returns what it put in `out`. */
function under(sets: string, body: string): Record<string, unknown> {
  const script = `
    const lib = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'index.ts'))});
    const echo = { file: ${JSON.stringify(pluginPath('echo'))}, trust: { sha256: ${JSON.stringify(sha256Of(pluginPath('echo')))} } };
    const out = {};
    const code = (p) => p.then(() => 'ok', (e) => e.code + ': ' + e.message);
    (async () => { ${body} })().then(() => process.stdout.write(JSON.stringify(out)),
      (e) => process.stdout.write(JSON.stringify({ failed: String(e && e.stack || e) })));`;
  const r = spawnSync(helper, [sets, '--', process.execPath, '--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 60_000 });
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
