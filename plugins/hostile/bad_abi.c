/*
 * bad_abi.c: test fixture whose table claims an ABI version the host does not speak.
 *
 * Everything else is valid, so the version check alone must reject the load, before any function
 * or init is called.
 */
#include <string.h>

#include "bulkhead_plugin.h"

static bh_status echo(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  bh_status st;
  uint8_t *p;
  if (len == 0) return BH_OK;
  p = host->output_alloc(out, len, &st);
  if (p == NULL) return st;
  memcpy(p, in, len);
  return BH_OK;
}

static const bh_function functions[] = {
  {"echo", echo},
};

static const bh_plugin plugin = {
  99u, /* not BH_ABI_VERSION */
  sizeof(bh_plugin),
  "bad_abi",
  "1.0.0",
  NULL,
  NULL,
  sizeof functions / sizeof functions[0],
  functions,
};

BH_PLUGIN_EXPORT const bh_plugin *bulkhead_plugin_v1(void) { return &plugin; }
