/*
 * init_fail.c: test fixture whose init rejects any config but "ok", to exercise failed loads;
 * with "hang" its init never returns (the host's load deadline must kill it).
 */
#include <string.h>

#include "bulkhead_plugin.h"

static bh_status init_fail_init(const bh_host *host, const uint8_t *config, size_t config_len,
                                bh_output *out) {
  static const char msg[] = "bad config: expected 'ok'";
  if (config_len == 2 && memcmp(config, "ok", 2) == 0) return BH_OK;
  if (config_len == 4 && memcmp(config, "hang", 4) == 0) {
    for (;;) __asm__ volatile("" ::: "memory");
  }
  host->set_error(out, msg, sizeof msg - 1);
  return BH_ERR_FAILED;
}

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
  BH_ABI_VERSION,
  sizeof(bh_plugin),
  "init_fail",
  "1.0.0",
  init_fail_init,
  NULL,
  sizeof functions / sizeof functions[0],
  functions,
};

BH_PLUGIN_EXPORT const bh_plugin *bulkhead_plugin_v1(void) { return &plugin; }
