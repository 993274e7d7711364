// container_caps.test.ts: root with only Docker's default capabilities (no CAP_SYS_PTRACE, no
// CAP_SYS_ADMIN), as in a container: the write budget still holds (plugin processes under
// Landlock are dumpable, so the host reads their /proc/<pid>/io without CAP_SYS_PTRACE), and
// plugins load and serve without the capability to make a pid namespace directly. The host runs
// in a child process whose bounding set is cut down with setpriv (util-linux).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { pluginPath, sha256Of } from './helpers';

// Docker's default capability set (moby's defaults, as documented for `docker run`).
const DOCKER_CAPS = ['chown', 'dac_override', 'fsetid', 'fowner', 'mknod', 'net_raw', 'setgid', 'setuid', 'setfcap',
  'setpcap', 'net_bind_service', 'sys_chroot', 'kill', 'audit_write'];
const ROOT = process.getuid?.() === 0;
const HAVE_SETPRIV = fs.existsSync('/usr/bin/setpriv');
const why = !ROOT ? ' [skipped: needs root, to drop capabilities from; the non-root run has none]'
  : !HAVE_SETPRIV ? ' [skipped: no setpriv (util-linux)]' : '';

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-caps-')); });
afterAll(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

describe.skipIf(!ROOT || !HAVE_SETPRIV)('root with Docker\'s default capabilities', () => {
  it(`enforces the write budget and serves${why}`, () => {
    const hostile = pluginPath('hostile');
    const script = `
      const { loadPlugin } = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'index.ts'))});
      const fs = require('node:fs');
      (async () => {
        const out = { capEff: /CapEff:\\s+(\\w+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1] };
        const p = await loadPlugin(${JSON.stringify(hostile)}, { trust: { sha256: ${JSON.stringify(sha256Of(hostile))} },
          policy: { fs: { write: [${JSON.stringify(dir)}] } }, limits: { maxBytesWritten: 1 << 20 } });
        const file = ${JSON.stringify(path.join(dir, 'out.bin'))};
        out.within = Buffer.from(await p.call('write_big', Buffer.from(file + ':' + (256 << 10)))).toString();
        out.over = await p.call('write_big', Buffer.from(file + ':' + (8 << 20))).then(() => 'no error', (e) => e.code);
        out.after = Buffer.from(await p.call('echo', Buffer.from('replaced'))).toString();
        await p.close();
        process.stdout.write(JSON.stringify(out));
      })().catch((e) => { process.stdout.write(JSON.stringify({ failed: String(e && e.stack || e) })); });`;
    const r = spawnSync('setpriv', ['--bounding-set', `-all,${DOCKER_CAPS.map((c) => `+${c}`).join(',')}`,
      '--inh-caps', '-all', '--', process.execPath, '--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout, `the host exited early: ${r.stderr}`).not.toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.failed).toBeUndefined();
    const eff = BigInt(`0x${out.capEff}`);
    expect(eff & (1n << 19n), 'CAP_SYS_PTRACE is gone').toBe(0n);
    expect(eff & (1n << 21n), 'CAP_SYS_ADMIN is gone').toBe(0n);
    expect(out.within).toBe(`wrote ${256 << 10}`);
    expect(out.over).toBe('ERR_WRITE_LIMIT');
    expect(out.after).toBe('replaced');
  });
});
