/*
 * ctor_violation.c: test fixture whose ELF constructor makes a forbidden syscall during dlopen.
 *
 * Under the load-phase sandbox socket() kills the loading process, so the load must fail with a
 * sandbox violation naming socket; "never" exists only so the table is well formed.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bulkhead_plugin.h"

__attribute__((constructor)) static void open_socket(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd >= 0) close(fd); /* reached only without a sandbox */
}

/* Reaching this means the plugin loaded, so the sandbox did not stop the constructor. */
static bh_status never(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  static const char msg[] = "ctor_violation loaded: its constructor was not stopped";
  host->set_error(out, msg, sizeof msg - 1);
  return BH_ERR_FAILED;
}

static const bh_function functions[] = {
  {"never", never},
};

static const bh_plugin plugin = {
  BH_ABI_VERSION,
  sizeof(bh_plugin),
  "ctor_violation",
  "1.0.0",
  NULL,
  NULL,
  sizeof functions / sizeof functions[0],
  functions,
};

BH_PLUGIN_EXPORT const bh_plugin *bulkhead_plugin_v1(void) { return &plugin; }
