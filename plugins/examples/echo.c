/*
 * echo.c: the smallest useful plugin, byte transforms that show the ABI's output and error paths.
 */
#include <stdio.h>
#include <string.h>

#include "bulkhead_plugin.h"

static bh_status echo(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  bh_status st;
  uint8_t *p;
  if (len == 0) return BH_OK; /* no output_alloc: the output is empty */
  /* NULL means the output would exceed the caller's cap; the host has set st to say so. */
  p = host->output_alloc(out, len, &st);
  if (p == NULL) return st;
  memcpy(p, in, len);
  return BH_OK;
}

static bh_status reverse(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  bh_status st;
  uint8_t *p;
  size_t i;
  if (len == 0) return BH_OK;
  p = host->output_alloc(out, len, &st);
  if (p == NULL) return st;
  for (i = 0; i < len; i++) p[i] = in[len - 1 - i];
  return BH_OK;
}

static bh_status upper(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  bh_status st;
  uint8_t *p;
  size_t i;
  if (len == 0) return BH_OK;
  p = host->output_alloc(out, len, &st);
  if (p == NULL) return st;
  /* ASCII only, by hand: toupper() would consult the locale. */
  for (i = 0; i < len; i++) p[i] = (in[i] >= 'a' && in[i] <= 'z') ? (uint8_t)(in[i] - 32) : in[i];
  return BH_OK;
}

/* Sums little-endian uint32s into a little-endian uint64 (wrapping needs 16 GiB of input). */
static bh_status sum(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  bh_status st;
  uint8_t *p;
  uint64_t total = 0;
  size_t i;
  if (len % 4 != 0) {
    char msg[96];
    int n = snprintf(msg, sizeof msg,
                     "Expected a multiple of 4 bytes for sum input but received %zu bytes", len);
    host->set_error(out, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
    return BH_ERR_INVALID_INPUT;
  }
  /* Bytes assembled explicitly: the input may be unaligned and the CPU big-endian. */
  for (i = 0; i < len; i += 4) {
    total += (uint64_t)in[i] | (uint64_t)in[i + 1] << 8 | (uint64_t)in[i + 2] << 16 |
             (uint64_t)in[i + 3] << 24;
  }
  p = host->output_alloc(out, 8, &st);
  if (p == NULL) return st;
  for (i = 0; i < 8; i++) p[i] = (uint8_t)(total >> (8 * i));
  return BH_OK;
}

/* Accepts any config; the log line lets a test see that init ran inside the worker. */
static bh_status echo_init(const bh_host *host, const uint8_t *config, size_t config_len,
                           bh_output *out) {
  static const char ready[] = "echo ready";
  host->log(host, BH_LOG_INFO, ready, sizeof ready - 1);
  return BH_OK;
}

static const bh_function functions[] = {
  {"echo", echo},
  {"reverse", reverse},
  {"upper", upper},
  {"sum", sum},
};

static const bh_plugin plugin = {
  BH_ABI_VERSION,
  sizeof(bh_plugin),
  "echo",
  "1.0.0",
  echo_init,
  NULL,
  sizeof functions / sizeof functions[0],
  functions,
};

BH_PLUGIN_EXPORT const bh_plugin *bulkhead_plugin_v1(void) { return &plugin; }
