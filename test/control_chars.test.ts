// control_chars.test.ts: terminal control sequences in plugin strings. Whatever a plugin puts in a
// log line, an error message, its version string, its init error or a crash report's symbol name
// reaches JavaScript with C0, DEL and C1 controls (and line separators, bidi overrides) escaped
// visibly, and invalid UTF-8 as U+FFFD (lib/untrusted_text.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ErrorCode, type LogEvent, type Plugin } from '../lib/index';
import { untrustedText } from '../lib/untrusted_text';
import { bytes, eventually, load, text } from './helpers';
import { rejectionOf } from './invariants';

// ESC [2J (clear screen), CR, LF, BEL, NUL, DEL, a C1 CSI (U+009B), an invalid byte, TAB, U+202E.
const HOSTILE = Buffer.concat([
  Buffer.from('a\x1b[2Jb\r\nc\x07d\x00e\x7ff', 'latin1'),
  Buffer.from([0xc2, 0x9b, 0xff]),
  Buffer.from('\t\u202eg', 'utf8'),
]);
const SHOWN = 'a\\x1b[2Jb\\x0d\\x0ac\\x07d\\x00e\\x7ff\\x9b\ufffd\\x09\\u202eg';
// The version of control_strings.c: "1.0" ESC [31m CR LF BEL DEL CSI 0xff TAB "x".
const VERSION_SHOWN = '1.0\\x1b[31m\\x0d\\x0a\\x07\\x7f\\x9b\ufffd\\x09x';

let hostile: Plugin;

beforeAll(async () => {
  hostile = await load('hostile', { limits: { timeoutMs: 2000 }, pool: { size: 1 } });
});

afterAll(async () => {
  await hostile?.close();
});

describe('untrustedText', () => {
  it('escapes every C0 control, DEL and every C1 control as \\xHH', () => {
    for (let c = 0; c < 0xa0; c++) {
      if (c >= 0x20 && c < 0x7f) continue;
      expect(untrustedText(`<${String.fromCharCode(c)}>`)).toBe(`<\\x${c.toString(16).padStart(2, '0')}>`);
    }
  });

  it('escapes line separators and bidi controls as \\uHHHH', () => {
    for (const c of [0x061c, 0x200e, 0x200f, 0x2028, 0x2029, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069]) {
      expect(untrustedText(String.fromCharCode(c))).toBe(`\\u${c.toString(16).padStart(4, '0')}`);
    }
  });

  it('keeps printable text as it is, backslashes included', () => {
    const plain = 'Hello, wörld! 日本語 🙂 \\x1b (a literal backslash) ~ \u00a0 \u00ff';
    expect(untrustedText(plain)).toBe(plain);
    expect(untrustedText(Buffer.from(plain))).toBe(plain);
  });

  it('decodes bytes as UTF-8 with U+FFFD for invalid sequences, and keeps at most 1024 bytes', () => {
    expect(untrustedText(Buffer.from([0x61, 0xff, 0xc3, 0x28, 0x62]))).toBe('a\ufffd\ufffd(b');
    expect(untrustedText(Buffer.alloc(5000, 0x41))).toBe('A'.repeat(1024));
  });
});

describe('control characters from a plugin', () => {
  it('in a log line: the LogEvent message shows them escaped', async () => {
    const logs: LogEvent[] = [];
    const onLog = (e: LogEvent) => logs.push(e);
    hostile.on('log', onLog);
    try {
      expect(text(await hostile.call('log_line', HOSTILE))).toBe('logged');
      expect(await eventually(() => logs.length === 1)).toBe(true);
    } finally {
      hostile.off('log', onLog);
    }
    expect(logs).toEqual([{ level: 'warn', message: SHOWN, fn: 'log_line' }]);
  });

  it('in a set_error message: the ERR_PLUGIN_ERROR message shows them escaped', async () => {
    const e = await rejectionOf(hostile.call('error', HOSTILE));
    expect(e.code).toBe(ErrorCode.PLUGIN_ERROR);
    expect(e.message).toBe(`error() failed with BH_ERR_FAILED: ${SHOWN}`);
  });

  it('in a crash report symbol (the frame\'s function name): a name with them is no symbol name and is left out', async () => {
    const e = await rejectionOf(hostile.call('forged_crash', bytes('evil\x1b]0;pwned\x07\r\nfn\u2028')));
    expect(e.code).toBe(ErrorCode.WORKER_CRASHED);
    expect(e.signal).toBe('SIGKILL');
    expect(e.report?.frames).toEqual([{ module: 'plugin', offset: '0x1234' }]);
    expect(e.report?.source).toBe('plugin');
  });

  it('in the plugin version string: plugin.version and metrics() show them escaped', async () => {
    const p = await load('control_strings');
    try {
      expect(p.version).toBe(VERSION_SHOWN);
      expect(p.metrics().version).toBe(VERSION_SHOWN);
      expect(p.name).toBe('control_strings');
      expect(text(await p.call('echo', bytes('ok')))).toBe('ok');
    } finally {
      await p.close();
    }
  });

  it('in an init error: the ERR_INIT_FAILED message shows them escaped', async () => {
    const e = await rejectionOf(load('control_strings', { config: bytes('fail') }));
    expect(e.code).toBe(ErrorCode.INIT_FAILED);
    expect(e.message).toMatch(/: init failed: init says \\x1b\[31m\\x0d\\x0a\\x07\\x7f\\x9b\ufffd\\x09done$/);
  });
});
