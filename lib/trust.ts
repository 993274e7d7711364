// trust.ts: reads a plugin's bytes once and checks them against the pinned digest. The same bytes
// then go into a sealed memfd, which is what the sandbox maps: no file swap after the check can
// change what runs.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';

import { BulkheadError, ErrorCode } from './errors';
import { checkKnownKeys, invalid, isPlainObject } from './validate';

/** Pin the plugin by its SHA-256, or opt out explicitly (greppable: "dangerouslySkipVerification"). */
export type TrustOption = { sha256: string } | { dangerouslySkipVerification: true };

const MAX_PLUGIN_BYTES = 256 << 20;

export function readVerified(file: string, trust: unknown): Buffer {
  if (!isPlainObject(trust)) {
    throw invalid('{ sha256 } or { dangerouslySkipVerification: true }', 'options.trust', trust);
  }
  checkKnownKeys(trust, 'options.trust', ['sha256', 'dangerouslySkipVerification']);
  let pinned: Buffer | undefined;
  if (trust.dangerouslySkipVerification === true && trust.sha256 === undefined) {
    pinned = undefined;
  } else if (typeof trust.sha256 === 'string' && /^[0-9a-fA-F]{64}$/.test(trust.sha256)) {
    pinned = Buffer.from(trust.sha256, 'hex');
  } else {
    throw invalid('64 hex digits', 'options.trust.sha256', trust.sha256);
  }
  let bytes: Buffer;
  try {
    const st = fs.statSync(file);
    if (!st.isFile() || st.size > MAX_PLUGIN_BYTES) {
      throw new Error(st.isFile() ? `larger than ${MAX_PLUGIN_BYTES} bytes` : 'not a regular file');
    }
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new BulkheadError(ErrorCode.LOAD_FAILED, `Cannot read plugin ${file}: ${(e as Error).message}`,
      { reason: 'unreadable', cause: e });
  }
  if (pinned) {
    const actual = crypto.createHash('sha256').update(bytes).digest();
    if (!crypto.timingSafeEqual(actual, pinned)) {
      throw new BulkheadError(ErrorCode.VERIFICATION_FAILED,
        `Plugin ${file} has sha256 ${actual.toString('hex')}, expected ${pinned.toString('hex')}; it was not loaded`);
    }
  }
  return bytes;
}
