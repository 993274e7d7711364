// untrusted_text.ts: the one place text from a plugin becomes a JavaScript string. Everything a
// plugin (or its sandboxed process) wrote reaches JavaScript through untrustedText: log lines,
// error messages from set_error and init, the plugin's version string, crash-report symbol names,
// and the zygote's load-error texts.
//
// The text is decoded as UTF-8 (an invalid sequence becomes U+FFFD) and every character that can
// steer a terminal or a log pipeline is escaped visibly, so an operator sees what was sent and
// nothing is interpreted: C0 controls (TAB, LF and CR included: one plugin line stays one line),
// DEL and C1 controls become `\xHH`; the Unicode line and paragraph separators and the
// bidirectional formatting characters (the "Trojan Source" reordering) become `\uHHHH`. A
// backslash is not escaped, so the result is safe to print, not an encoding to reverse.

/** Bytes of one text kept; the rest is cut before decoding (the ring caps log and error texts at
 *  this already: BH_MAX_LOG_BYTES, BH_MAX_ERROR_BYTES). */
export const MAX_TEXT_BYTES = 1024;

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

function escape(c: string): string {
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Plugin text, printable: bounded to MAX_TEXT_BYTES (bytes), decoded, unsafe characters escaped.
 *  A string is taken as already decoded (the addon decodes ring text as UTF-8 the same way). */
export function untrustedText(v: string | Uint8Array): string {
  const s = typeof v === 'string' ? v
    : Buffer.from(v.buffer, v.byteOffset, Math.min(v.byteLength, MAX_TEXT_BYTES)).toString('utf8');
  return s.replace(UNSAFE, escape);
}
