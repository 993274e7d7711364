// validate.ts: argument checks, all with one message shape: "Expected X for Y but received Z".
import { BulkheadError, ErrorCode } from './errors';

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return `a Uint8Array of ${v.byteLength} bytes`;
  switch (typeof v) {
    case 'string': return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
    case 'number': return `the number ${v}`;
    case 'object': return `an object (${(v as object).constructor?.name ?? 'null prototype'})`;
    default: return typeof v;
  }
}

export function invalid(expected: string, what: string, received: unknown): BulkheadError {
  return new BulkheadError(ErrorCode.INVALID_ARGUMENT,
    `Expected ${expected} for ${what} but received ${describe(received)}`);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function checkObject(v: unknown, what: string): Record<string, unknown> {
  if (v === undefined) return {};
  if (!isPlainObject(v)) throw invalid('an object', what, v);
  return v;
}

export function checkKnownKeys(o: Record<string, unknown>, what: string, keys: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!keys.includes(k)) throw invalid(`one of ${keys.join(', ')}`, `a key of ${what}`, k);
  }
}

export function checkInt(v: unknown, what: string, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalid(`an integer between ${min} and ${max}`, what, v);
  }
  return v;
}

export function checkString(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0) throw invalid('a non-empty string', what, v);
  return v;
}

export function checkBytes(v: unknown, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw invalid('a Uint8Array (or Buffer)', what, v);
  return v;
}

const EMPTY = new Uint8Array(0);

/** Bytes whose length cannot change under the call: a view of a resizable ArrayBuffer or a growable
 *  SharedArrayBuffer is refused; a view of a detached buffer is empty. */
export function checkFixedBytes(v: unknown, what: string): Uint8Array {
  const bytes = checkBytes(v, what);
  const buffer = bytes.buffer as ArrayBufferLike & { resizable?: boolean; growable?: boolean };
  if (buffer.resizable === true || buffer.growable === true) {
    throw invalid('a Uint8Array over a fixed-length buffer', what,
      `a view of a ${buffer.resizable ? 'resizable ArrayBuffer' : 'growable SharedArrayBuffer'}`);
  }
  return bytes.byteLength === 0 ? EMPTY : bytes;
}

export function checkSignal(v: unknown, what: string): AbortSignal | undefined {
  if (v === undefined) return undefined;
  if (!(v instanceof AbortSignal)) throw invalid('an AbortSignal', what, v);
  return v;
}
