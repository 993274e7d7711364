/*
 * bulkhead_plugin.h: the one C99 header a bulkhead plugin includes; nothing else of the host is public.
 *
 * A plugin is a shared library that exports one symbol, BH_PLUGIN_ENTRY_SYMBOL, returning a
 * bh_plugin table. The host loads it only inside a sandboxed process, after checking its digest.
 * Data crosses as bytes: an input (pointer and length, valid for the duration of one call) and an
 * output written through the host's output functions. No host pointer is ever handed to a plugin
 * beyond the tables and buffers described here, and a plugin never links against the host.
 *
 * Versioning: BH_ABI_VERSION changes only on an incompatible change, which we avoid at all costs.
 * Every table begins with abi_version and struct_size; new members are ADDED AT THE END ONLY, so a
 * reader checks struct_size before touching a member newer than the version it was built against.
 *
 * Threads: a plugin's functions are called from one thread, one call at a time per process. A
 * process may serve many calls in its life; a plugin must not rely on state surviving a call
 * (workers are replaced when they crash or time out).
 */
#ifndef BULKHEAD_PLUGIN_H
#define BULKHEAD_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BH_ABI_VERSION 1u
#define BH_PLUGIN_ENTRY_SYMBOL "bulkhead_plugin_v1"

/* The closed set of results a plugin function, init, or host service returns. */
typedef enum bh_status {
  BH_OK = 0,
  BH_ERR_INVALID_INPUT = 1,   /* the input bytes were malformed for this function */
  BH_ERR_FAILED = 2,          /* the function failed; attach a message with host->set_error */
  BH_ERR_OUTPUT_TOO_LARGE = 3, /* output exceeded the caller's cap (returned by output_alloc) */
  BH_ERR_DEADLINE = 4,        /* the plugin noticed host->deadline_passed() and gave up */
  BH_ERR_UNSUPPORTED = 5      /* a requested feature or mode is not implemented */
} bh_status;

typedef enum bh_log_level {
  BH_LOG_DEBUG = 0,
  BH_LOG_INFO = 1,
  BH_LOG_WARN = 2,
  BH_LOG_ERROR = 3
} bh_log_level;

/* Opaque per-call output handle; only the host's functions touch it. */
typedef struct bh_output bh_output;

/* Maximum bytes kept of one log line or of an error message; longer text is truncated. */
#define BH_MAX_LOG_BYTES 1024u
#define BH_MAX_ERROR_BYTES 1024u

/*
 * Services the host offers. The table is valid for the life of the process; append-only.
 * Every function is safe to call from the plugin's calling thread only.
 */
typedef struct bh_host {
  uint32_t abi_version; /* BH_ABI_VERSION of the host */
  uint32_t struct_size; /* sizeof(bh_host) as the host built it */

  /* Emits a log line (truncated to BH_MAX_LOG_BYTES). Lines may be dropped under pressure. */
  void (*log)(const struct bh_host *host, bh_log_level level, const char *msg, size_t len);

  /* CLOCK_MONOTONIC, in nanoseconds. */
  uint64_t (*now_ns)(const struct bh_host *host);

  /* Non-zero once the current call's deadline has passed. Long loops should poll it and return
   * BH_ERR_DEADLINE; the host kills a worker that overruns its deadline regardless. */
  int (*deadline_passed)(const struct bh_host *host);

  /* Returns a writable buffer of `len` bytes (0 is fine) that becomes the call's output, or NULL
   * with *status set to BH_ERR_OUTPUT_TOO_LARGE when `len` exceeds output_limit(); a refused
   * call leaves the previous buffer and its contents as they were. Calling it again keeps the
   * bytes written so far (up to the smaller length) and resets any commit; the previously
   * returned pointer is then invalid. The buffer is owned by the host and valid until the function
   * returns. A function that returns BH_OK without calling it produces empty output. */
  uint8_t *(*output_alloc)(bh_output *out, size_t len, bh_status *status);

  /* Sets how many bytes of the last output_alloc buffer are the output (<= the allocated len;
   * BH_ERR_INVALID_INPUT otherwise). Without a commit, the whole allocated length is the output. */
  bh_status (*output_commit)(bh_output *out, size_t len);

  /* Attaches a short message (truncated to BH_MAX_ERROR_BYTES) to a non-OK return; the last call
   * wins, and it is ignored when the function returns BH_OK. */
  void (*set_error)(bh_output *out, const char *msg, size_t len);

  /* The largest output the caller accepts for this call, in bytes. */
  size_t (*output_limit)(const bh_output *out);

  /* The current call's CLOCK_MONOTONIC deadline in nanoseconds, or 0 when it has none. */
  uint64_t (*deadline_ns)(const struct bh_host *host);
} bh_host;

/*
 * A plugin function: reads `input_len` bytes at `input` (valid only during the call, read-only),
 * writes its output through host->output_alloc / output_commit, and returns a status. On a
 * non-OK status the output is discarded and the error message (if any) reaches the caller.
 */
typedef bh_status (*bh_function_fn)(const bh_host *host, const uint8_t *input, size_t input_len,
                                    bh_output *out);

typedef struct bh_function {
  const char *name; /* NUL-terminated, [A-Za-z0-9_.-], at most 63 bytes, unique in the table */
  bh_function_fn fn;
} bh_function;

/* The table the entry symbol returns. It must stay valid and unchanged for the process's life. */
typedef struct bh_plugin {
  uint32_t abi_version; /* must be BH_ABI_VERSION */
  uint32_t struct_size; /* sizeof(bh_plugin) as the plugin was built */
  const char *name;     /* NUL-terminated, at most 63 bytes */
  const char *version;  /* NUL-terminated, at most 63 bytes, free form (e.g. "1.2.0") */

  /* Optional. Called once, inside the sandbox, before any function, with the caller's config
   * bytes (valid only during the call). Non-OK fails the load, with set_error's message if any:
   * `out` here only carries that message and output_alloc returns NULL. */
  bh_status (*init)(const bh_host *host, const uint8_t *config, size_t config_len, bh_output *out);

  /* Optional and reserved: never called after a crash or a kill, and bulkhead currently stops
   * every worker with a kill, so it is not called at all yet. */
  void (*fini)(void);

  uint32_t function_count;       /* at most 256 */
  const bh_function *functions;  /* function_count entries */
} bh_plugin;

typedef const bh_plugin *(*bh_plugin_entry_fn)(void);

/* Names of table members are at most this many bytes (plus the NUL). */
#define BH_MAX_NAME_BYTES 63u

/* Define the entry point once in one source file of the plugin:
 *   BH_PLUGIN_EXPORT const bh_plugin *bulkhead_plugin_v1(void) { return &my_plugin; }
 * It is declared here with C linkage so C++ plugins export the unmangled name. */
#if defined(__GNUC__)
#define BH_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define BH_PLUGIN_EXPORT
#endif

BH_PLUGIN_EXPORT const bh_plugin *bulkhead_plugin_v1(void);

#ifdef __cplusplus
}
#endif

#endif /* BULKHEAD_PLUGIN_H */
