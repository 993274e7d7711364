/*
 * zlib_codec.c: a real library behind the ABI: zlib deflate/inflate, zlib or gzip framing, crc32.
 */
#define ZLIB_CONST /* next_in becomes const, so the read-only input needs no cast */
#include <zlib.h>

#include <stdint.h>
#include <string.h>

#include "bulkhead_plugin.h"

/* Work per zlib call: bounds the time between deadline polls, and keeps avail_* within uInt. */
#define CHUNK ((size_t)1 << 20)
#define INFLATE_MIN_GUESS ((size_t)64 << 10)

#define WBITS_ZLIB 15
#define WBITS_GZIP 31 /* 15 + 16: gzip header and trailer */
#define WBITS_AUTO 47 /* 15 + 32: inflate detects zlib or gzip from the header */

static void set_error_str(const bh_host *host, bh_output *out, const char *msg) {
  host->set_error(out, msg, strlen(msg));
}

/*
 * Grows the output from `have` toward `want` bytes. The caller's cap is invisible to the plugin,
 * and an output that fits under it must not fail because a guess overshot, so a refusal is answered
 * by bisecting between `have` and the smallest size refused so far (*refused, kept across calls).
 * Returns NULL with *st set once no size above `have` is left to try.
 */
static uint8_t *grow(const bh_host *host, bh_output *out, size_t have, size_t want,
                     size_t *refused, size_t *got, bh_status *st) {
  for (;;) {
    uint8_t *p;
    if (want >= *refused) want = *refused - 1;
    if (want <= have) break;
    p = host->output_alloc(out, want, st);
    if (p != NULL) {
      *got = want;
      return p;
    }
    if (*st != BH_ERR_OUTPUT_TOO_LARGE) return NULL;
    *refused = want;
    want = have + (want - have) / 2;
  }
  *st = BH_ERR_OUTPUT_TOO_LARGE;
  return NULL;
}

/*
 * Runs an initialised stream over the whole input into the call's output, starting with `guess`
 * bytes of output and doubling as needed. The caller owns the stream and ends it.
 */
static bh_status pump(const bh_host *host, z_stream *zs, int deflating, const uint8_t *in,
                      size_t len, size_t guess, bh_output *out) {
  uint8_t *buf = NULL, probe;
  size_t cap = 0, in_off = 0, out_off = 0, refused = SIZE_MAX;
  int capped = 0;
  bh_status st;

  for (;;) {
    size_t in_chunk, out_chunk;
    int r;
    if (out_off == cap && !capped) {
      /* Every output_alloc may move the buffer; only the offset survives. */
      size_t want = cap == 0 ? guess : (cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2);
      uint8_t *grown = grow(host, out, cap, want, &refused, &cap, &st);
      if (grown == NULL && st != BH_ERR_OUTPUT_TOO_LARGE) return st;
      buf = grown;
      /* zlib only reports the end of a stream when it has room to spare, so an output exactly at
       * the cap is told from a larger one by offering a byte of scratch: used means too large. */
      capped = grown == NULL;
    }
    in_chunk = len - in_off < CHUNK ? len - in_off : CHUNK;
    out_chunk = capped ? 1 : (cap - out_off < CHUNK ? cap - out_off : CHUNK);
    zs->next_in = in + in_off;
    zs->avail_in = (uInt)in_chunk;
    zs->next_out = capped ? &probe : buf + out_off;
    zs->avail_out = (uInt)out_chunk;
    if (deflating) {
      r = deflate(zs, in_off + in_chunk == len ? Z_FINISH : Z_NO_FLUSH);
    } else {
      r = inflate(zs, Z_NO_FLUSH);
    }
    in_off += in_chunk - zs->avail_in;
    if (capped && zs->avail_out == 0) return BH_ERR_OUTPUT_TOO_LARGE;
    if (!capped) out_off += out_chunk - zs->avail_out;

    if (r == Z_STREAM_END) break;
    if (r == Z_DATA_ERROR || r == Z_NEED_DICT) {
      /* zlib leaves msg NULL for a stream that needs a preset dictionary. */
      set_error_str(host, out, zs->msg != NULL ? zs->msg : "stream needs a preset dictionary");
      return BH_ERR_INVALID_INPUT;
    }
    if (r == Z_BUF_ERROR && !deflating && in_off == len) {
      /* Output space was offered, so no progress means the input ended mid-stream. */
      set_error_str(host, out, "truncated input: the stream does not end");
      return BH_ERR_INVALID_INPUT;
    }
    if (r == Z_MEM_ERROR) {
      set_error_str(host, out, "zlib: out of memory");
      return BH_ERR_FAILED;
    }
    if (r != Z_OK) {
      set_error_str(host, out, zs->msg != NULL ? zs->msg : "zlib: unexpected stream state");
      return BH_ERR_FAILED;
    }
    if (host->deadline_passed(host)) return BH_ERR_DEADLINE;
  }

  /* Trailing bytes (including a second gzip member) are rejected rather than silently dropped. */
  if (in_off != len) {
    set_error_str(host, out, "unexpected bytes after the end of the stream");
    return BH_ERR_INVALID_INPUT;
  }
  return cap == 0 ? BH_OK : host->output_commit(out, out_off); /* cap 0: nothing was allocated */
}

static bh_status compress_with(const bh_host *host, const uint8_t *in, size_t len, bh_output *out,
                               int window_bits) {
  z_stream zs;
  bh_status st;
  memset(&zs, 0, sizeof zs); /* zalloc/zfree/opaque NULL: zlib's default malloc/free */
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    set_error_str(host, out, "zlib: out of memory");
    return BH_ERR_FAILED;
  }
  /* deflateBound is an upper bound for the whole input in one go, so one output_alloc suffices. */
  st = pump(host, &zs, 1, in, len, deflateBound(&zs, (uLong)len), out);
  deflateEnd(&zs);
  return st;
}

static bh_status decompress_with(const bh_host *host, const uint8_t *in, size_t len,
                                 bh_output *out, int window_bits) {
  z_stream zs;
  bh_status st;
  size_t guess = len > SIZE_MAX / 4 ? SIZE_MAX : len * 4;
  if (guess < INFLATE_MIN_GUESS) guess = INFLATE_MIN_GUESS;
  memset(&zs, 0, sizeof zs);
  if (inflateInit2(&zs, window_bits) != Z_OK) {
    set_error_str(host, out, "zlib: out of memory");
    return BH_ERR_FAILED;
  }
  st = pump(host, &zs, 0, in, len, guess, out);
  inflateEnd(&zs);
  return st;
}

static bh_status zdeflate(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  return compress_with(host, in, len, out, WBITS_ZLIB);
}

static bh_status zinflate(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  return decompress_with(host, in, len, out, WBITS_ZLIB);
}

static bh_status zgzip(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  return compress_with(host, in, len, out, WBITS_GZIP);
}

/* Accepts zlib framing too, as `gzip -d` users expect any deflate wrapper to work. */
static bh_status zgunzip(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  return decompress_with(host, in, len, out, WBITS_AUTO);
}

static bh_status zcrc32(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  bh_status st;
  uLong crc = crc32_z(0L, in, len); /* crc32_z takes a size_t length, no chunking needed */
  uint8_t *p = host->output_alloc(out, 4, &st);
  if (p == NULL) return st;
  p[0] = (uint8_t)crc;
  p[1] = (uint8_t)(crc >> 8);
  p[2] = (uint8_t)(crc >> 16);
  p[3] = (uint8_t)(crc >> 24);
  return BH_OK;
}

static const bh_function functions[] = {
  {"deflate", zdeflate},
  {"inflate", zinflate},
  {"gzip", zgzip},
  {"gunzip", zgunzip},
  {"crc32", zcrc32},
};

static const bh_plugin plugin = {
  BH_ABI_VERSION,
  sizeof(bh_plugin),
  "zlib",
  "1.0.0+zlib" ZLIB_VERSION, /* the zlib linked in statically, pinned by the plugin's digest */
  NULL,
  NULL,
  sizeof functions / sizeof functions[0],
  functions,
};

BH_PLUGIN_EXPORT const bh_plugin *bulkhead_plugin_v1(void) { return &plugin; }
