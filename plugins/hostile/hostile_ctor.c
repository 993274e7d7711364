/*
 * hostile_ctor.c: test fixture showing that an ELF constructor already runs inside the sandbox.
 *
 * The constructor runs during dlopen, before the host ever sees the entry table, and tries to read
 * a file no policy grants; "ctor_result" then reports what the kernel said.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bulkhead_plugin.h"
#include "errno_name.h"

static int ctor_errno = -1; /* -1: the constructor never ran */

__attribute__((constructor)) static void try_open_passwd(void) {
  int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    close(fd);
    ctor_errno = 0;
  } else {
    ctor_errno = errno;
  }
}

static bh_status ctor_result(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  char msg[64], name[16];
  bh_status st;
  uint8_t *p;
  size_t n;
  if (ctor_errno < 0) {
    static const char never[] = "constructor did not run";
    host->set_error(out, never, sizeof never - 1);
    return BH_ERR_FAILED;
  }
  n = (size_t)snprintf(msg, sizeof msg, "open /etc/passwd: %s",
                       ctor_errno == 0 ? "ok" : errno_name(ctor_errno, name));
  p = host->output_alloc(out, n, &st);
  if (p == NULL) return st;
  memcpy(p, msg, n);
  return BH_OK;
}

static const bh_function functions[] = {
  {"ctor_result", ctor_result},
};

static const bh_plugin plugin = {
  BH_ABI_VERSION,
  sizeof(bh_plugin),
  "hostile_ctor",
  "1.0.0",
  NULL,
  NULL,
  sizeof functions / sizeof functions[0],
  functions,
};

BH_PLUGIN_EXPORT const bh_plugin *bulkhead_plugin_v1(void) { return &plugin; }
