/*
 * control_strings.c: test fixture whose strings carry terminal control sequences: its version
 * string, and the message of an init that fails (config "fail"). The host must show them escaped.
 */
#include <string.h>

#include "bulkhead_plugin.h"

/* ESC [31m (red), CR, LF, BEL, DEL, a C1 CSI (U+009B), an invalid UTF-8 byte, TAB: 28 bytes. */
#define CONTROLS "\x1b[31m\r\n\x07\x7f\xc2\x9b\xff\t"

static bh_status control_init(const bh_host *host, const uint8_t *config, size_t config_len,
                              bh_output *out) {
  static const char msg[] = "init says " CONTROLS "done";
  if (config_len == 4 && memcmp(config, "fail", 4) == 0) {
    host->set_error(out, msg, sizeof msg - 1);
    return BH_ERR_FAILED;
  }
  return BH_OK;
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
  "control_strings",
  "1.0" CONTROLS "x",
  control_init,
  NULL,
  sizeof functions / sizeof functions[0],
  functions,
};

BH_PLUGIN_EXPORT const bh_plugin *bulkhead_plugin_v1(void) { return &plugin; }
