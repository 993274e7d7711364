// native_loader.test.ts: a binding or helper that cannot be loaded or run is a BulkheadError that says
// what was tried and why it failed, at the first call of the public API; a zygote that dies before
// it is ready fails the loads waiting for it at once, and the next load tries afresh. Each case runs
// in a child process pointed at a prepared build directory (BULKHEAD_PREBUILD, node-gyp-build's).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { constantDrift, native } from '../lib/native';

const LIB = path.join(__dirname, '..', 'lib', 'index.ts');
const RELEASE = path.join(__dirname, '..', 'build', 'Release');
let scratch: string;

beforeAll(() => { scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-loader-')); });
afterAll(() => { if (scratch) fs.rmSync(scratch, { recursive: true, force: true }); });

/** A build directory with the real addon (or `addon` bytes) and `helper` as the zygote. */
function buildDir(name: string, helper: { copy?: string; bytes?: Buffer; mode: number } | undefined,
                  addon?: Buffer): string {
  const root = path.join(scratch, name);
  const release = path.join(root, 'build', 'Release');
  fs.mkdirSync(release, { recursive: true });
  if (addon) fs.writeFileSync(path.join(release, 'bulkhead.node'), addon);
  else fs.copyFileSync(path.join(RELEASE, 'bulkhead.node'), path.join(release, 'bulkhead.node'));
  if (helper) {
    const dest = path.join(release, 'bulkhead_zygote');
    if (helper.copy) fs.copyFileSync(helper.copy, dest);
    else fs.writeFileSync(dest, helper.bytes!);
    fs.chmodSync(dest, helper.mode);
  }
  return root;
}

/** Two loads of the echo plugin in a child using `root`; what each did and how long it took. */
function twoLoads(root: string): Array<{ code?: string; message?: string; ms: number }> {
  const script = `
    const { loadPlugin } = require(${JSON.stringify(LIB)});
    const file = ${JSON.stringify(path.join(__dirname, '..', 'build', 'plugins', 'echo.so'))};
    (async () => {
      const out = [];
      for (let i = 0; i < 2; i++) {
        const t0 = Date.now();
        try {
          const p = await loadPlugin(file, { trust: { dangerouslySkipVerification: true }, loadTimeoutMs: 10000 });
          out.push({ code: 'loaded', ms: Date.now() - t0 });
          await p.close();
        } catch (e) {
          out.push({ code: e.code, message: e.message, ms: Date.now() - t0, name: e.constructor.name });
        }
      }
      process.stdout.write(JSON.stringify(out));
    })();`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
    encoding: 'utf8', timeout: 30_000, env: { ...process.env, BULKHEAD_PREBUILD: root },
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('the zygote helper', () => {
  it('missing: ERR_UNSUPPORTED_PLATFORM saying where it was looked for', () => {
    const out = twoLoads(buildDir('missing', undefined));
    for (const o of out) {
      expect(o.code).toBe('ERR_UNSUPPORTED_PLATFORM');
      expect(o.message).toMatch(/zygote helper .* is missing \(expected .*bulkhead_zygote: ENOENT\)/);
    }
  });

  it('without its exec bit: says so, not "missing"', () => {
    const out = twoLoads(buildDir('noexec', { copy: path.join(RELEASE, 'bulkhead_zygote'), mode: 0o644 }));
    for (const o of out) {
      expect(o.code).toBe('ERR_UNSUPPORTED_PLATFORM');
      expect(o.message).toMatch(/is not executable \(.*mode 644\)/);
    }
  });

  it('built for another architecture: says which', () => {
    const elf = Buffer.alloc(64);
    elf.writeUInt32BE(0x7f454c46, 0);
    elf.writeUInt16LE(process.arch === 'x64' ? 183 : 62, 18);
    const out = twoLoads(buildDir('foreign', { bytes: elf, mode: 0o755 }));
    expect(out[0].code).toBe('ERR_UNSUPPORTED_PLATFORM');
    expect(out[0].message).toMatch(/cannot run here .*built for ELF machine (183|62), not/);
  });

  it('that exits before it is ready: every waiting load fails at once with ERR_ZYGOTE, and the next tries afresh', () => {
    const out = twoLoads(buildDir('exits', { copy: '/bin/false', mode: 0o755 }));
    for (const o of out) {
      expect(o.code).toBe('ERR_ZYGOTE');
      expect(o.message).toMatch(/exited before it was ready/);
      expect(o.ms).toBeLessThan(5000);  // not the 10 s load deadline
    }
  });
});

describe('the binding', () => {
  it('that cannot be loaded: ERR_UNSUPPORTED_PLATFORM with the loader\'s reason, not a raw ERR_DLOPEN_FAILED', () => {
    const out = twoLoads(buildDir('badaddon', { copy: path.join(RELEASE, 'bulkhead_zygote'), mode: 0o755 },
      Buffer.from('not a shared object\n')));
    for (const o of out) {
      expect(o.code).toBe('ERR_UNSUPPORTED_PLATFORM');
      expect(o.message).toMatch(/Cannot load the bulkhead binding .*bulkhead\.node: .*it is not an ELF binary/);
    }
  });
});

describe('the constants shared with the binding', () => {
  it('match the C++ definitions in this build', () => {
    expect(constantDrift(native().binding)).toEqual([]);
  });

  it('from a binding built from other sources (a changed value, a missing name, no table) are each named', () => {
    const real = native().binding.constants;
    const changed = { wire: { ...real.wire, SPAWNED: 99 }, ring: real.ring };
    expect(constantDrift({ constants: changed })).toEqual(['wire.SPAWNED: 12 here, 99 in the binding']);
    const { DEAD: _dead, ...ringWithoutDead } = real.ring;
    expect(constantDrift({ constants: { wire: real.wire, ring: ringWithoutDead } }))
      .toEqual(['ring.DEAD: 5 here, undefined in the binding']);
    const older = constantDrift({} as never);
    expect(older.length).toBe(Object.keys(real.wire).length + Object.keys(real.ring).length);
  });
});
