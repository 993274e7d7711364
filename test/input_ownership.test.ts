// input_ownership.test.ts: the call owns its input from the moment call() returns. A view whose
// length can change is refused with ERR_INVALID_ARGUMENT; an option getter cannot change the input
// after it was checked; and no input, however built, gets a worker killed or the plugin quarantined.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ErrorCode, type Plugin } from '../lib/index';
import { load, text } from './helpers';

let p: Plugin;
let pid: number;

beforeAll(async () => {
  p = await load('echo', { pool: { size: 1 }, limits: { maxInputBytes: 64 } });
  pid = p.workerPids()[0];
});

afterAll(() => p?.close());

// Node 20's types do not know resizable buffers yet.
const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };
const Growable = SharedArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => SharedArrayBuffer & { grow(n: number): void };

describe('an input whose length can change', () => {
  it('a view of a resizable ArrayBuffer is ERR_INVALID_ARGUMENT, sync and async', async () => {
    const input = new Uint8Array(new Resizable(8, { maxByteLength: 1 << 20 }));
    await expect(p.call('echo', input)).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT, message: expect.stringContaining('resizable ArrayBuffer') });
    expect(() => p.callSync('echo', input)).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT }));
  });

  it('a view of a growable SharedArrayBuffer is ERR_INVALID_ARGUMENT', async () => {
    const input = new Uint8Array(new Growable(8, { maxByteLength: 1 << 20 }));
    await expect(p.call('echo', input)).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT, message: expect.stringContaining('growable SharedArrayBuffer') });
  });

  it('grown past maxInputBytes by an option getter, twenty times: refused, and no worker is killed', async () => {
    for (let i = 0; i < 20; i++) {
      const buffer = new Resizable(8, { maxByteLength: 1 << 20 });
      const options = { get timeoutMs() { buffer.resize(1 << 20); return 1000; } };
      await expect(p.call('echo', new Uint8Array(buffer), options)).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
    }
    expect(p.quarantined).toBe(false);
    expect(p.workerPids()).toEqual([pid]);
    expect(text(await p.call('echo', Buffer.from('intact')))).toBe('intact');
  });
});

describe('an input detached under the call', () => {
  it('by an option getter before the input is read: an empty input, never an untyped TypeError', async () => {
    const buffer = new ArrayBuffer(8);
    const input = new Uint8Array(buffer);
    input.set(Buffer.from('detached'));
    const options = { get timeoutMs() { structuredClone(buffer, { transfer: [buffer] }); return 1000; } };
    const out = await p.call('echo', input, options);
    expect(out.byteLength).toBe(0);
    expect(p.workerPids()).toEqual([pid]);
  });

  it('after call() returned: the call already owns its bytes', async () => {
    const buffer = new ArrayBuffer(5);
    const input = new Uint8Array(buffer);
    input.set(Buffer.from('owned'));
    const pending = [p.call('echo', Buffer.from('first')), p.call('echo', input)];  // the second may queue
    structuredClone(buffer, { transfer: [buffer] });
    expect((await Promise.all(pending)).map(text)).toEqual(['first', 'owned']);
  });
});
