// The inputs and loop shapes every case shares, so ours and the baselines measure the same thing the same way.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { LoopOptions } from './harness';

export const SMALL = 64;
export const LARGE = 1 << 20;

/** Back-to-back round trips of 64 B where both sides spin: sub-microsecond, so many samples. */
export const SPIN: LoopOptions = { warmup: 20_000, iterations: 200_000, maxMs: 1000 };
/** Back-to-back round trips of 64 B. */
export const HOT: LoopOptions = { warmup: 2000, iterations: 50_000, maxMs: 1000 };
/** 64 B round trips with the callee idle for 2 ms before each; warmup long enough to reach the steady regime. */
export const COLD: LoopOptions = { warmup: 100, iterations: 300, maxMs: 1500, idleMs: 2 };
/** Back-to-back round trips of 1 MiB. */
export const BULK: LoopOptions = { warmup: 20, iterations: 1000, maxMs: 1000 };
/** One inflate of the zlib corpus. */
export const INFLATE: LoopOptions = { warmup: 20, iterations: 500, maxMs: 1500 };
/** Calls kept in flight by the pipelined variants, for about a second. */
export const PIPELINE = { inFlight: 64, durationMs: 1000, warmupMs: 200, maxOps: 5_000_000 };

/** Deterministic filler: a payload of `size` bytes that is the same in every process. */
export function payload(size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  const next = mulberry32(size);
  for (let i = 0; i < size; i++) b[i] = next() & 0xff;
  return b;
}

/** About 1 MiB of JSON-ish records from a seeded PRNG: compressible the way real payloads are, not a run of zeros. */
export function zlibCorpus(): Buffer {
  const next = mulberry32(0x5eed);
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
  const parts: string[] = [];
  let bytes = 0;
  for (let id = 0; bytes < LARGE; id++) {
    const tags = [words[next() % 10], words[next() % 10]];
    const line =
      `{"id":${id},"user":"${words[next() % 10]}-${next() % 1000}","score":${(next() % 100000) / 1000},` +
      `"active":${next() % 2 === 0},"tags":${JSON.stringify(tags)}}\n`;
    parts.push(line);
    bytes += line.length;
  }
  return Buffer.from(parts.join(''), 'latin1').subarray(0, LARGE);
}

/** A plugin built by the library's build, with the digest loadPlugin's trust option wants. */
export function plugin(name: string): { path: string; sha256: string } {
  const file = path.join(__dirname, '..', 'build', 'plugins', `${name}.so`);
  return { path: file, sha256: createHash('sha256').update(readFileSync(file)).digest('hex') };
}

/** Throws unless `actual` holds exactly the bytes of `expected`; cases check their output once before timing. */
export function assertSameBytes(what: string, actual: Uint8Array, expected: Uint8Array): void {
  if (!Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(expected)) {
    throw new Error(`Expected ${expected.byteLength} bytes equal to the input for ${what} but received ${actual.byteLength} bytes that differ`);
  }
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}
