/*
 * region.h: layout of the shared memory region between the host and one worker (C and C++).
 *
 * One sealed memfd per worker (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL, so the worker cannot
 * make the host's mapping SIGBUS). It holds:
 *
 *   [0, BH_REGION_HEADER_BYTES)         header: geometry (host-written once), ring indices and
 *                                        wake-up words, each on its own cache line; the worker's
 *                                        crash report
 *   [REQ_OFF, REQ_OFF + capacity)        request ring: host produces, worker consumes
 *   [RESP_OFF, RESP_OFF + capacity)      response ring: worker produces, host consumes
 *
 * Each ring carries messages: a 64-byte bh_msg header, then payload_len bytes of payload, then
 * error_len bytes of error message (failed responses carry only the message), the whole rounded
 * up to 64 bytes. Log lines travel in the response ring as BH_MSG_LOG messages right after the
 * response of the call that wrote them; the host caps them itself, per call and per second, since
 * the worker's cap is only as good as the worker. A message may wrap around the end of the
 * ring; readers copy it out in up to two pieces. Indices are 64-bit byte counts that only grow;
 * the position in the ring is index % capacity.
 *
 * Threat model: the worker is hostile. Everything in this region is writable by it at any time,
 * including the fields the host "owns". The host therefore never reads its own fields back from
 * the region (it keeps them in private memory), reads each worker-written field once into a local,
 * checks it against private state with overflow-safe 64-bit arithmetic, copies payloads out
 * before looking at them, and treats any inconsistency as a protocol violation of that worker.
 * The worker trusts the host's fields: the host is the more privileged side.
 */
#ifndef BULKHEAD_RING_REGION_H
#define BULKHEAD_RING_REGION_H

#include <stdint.h>

#define BH_REGION_MAGIC 0x47524842u /* "BHRG" little-endian */
#define BH_REGION_VERSION 1u
#define BH_REGION_HEADER_BYTES 4096u
#define BH_MSG_ALIGN 64u
#define BH_MSG_HEADER_BYTES 64u

/* Message kinds. */
#define BH_MSG_REQUEST 0x51455251u  /* "QREQ" */
#define BH_MSG_RESPONSE 0x50534552u /* "RESP" */
#define BH_MSG_LOG 0x474f4c4cu      /* "LLOG": code = bh_log_level, payload = text */

/* Response codes carried in bh_msg.code: the plugin's bh_status, or one of these runtime codes. */
#define BH_RESP_UNKNOWN_FUNCTION 1000u
#define BH_RESP_OUTPUT_LIMIT 1001u

/* Values of bh_region_header.host_waiting: how the host wants to be told of new responses. */
#define BH_HOST_SPINNING 0u /* host polls; no wake-up needed */
#define BH_HOST_EVENTFD 1u  /* write the eventfd (the host's event loop watches it) */
#define BH_HOST_FUTEX 2u    /* FUTEX_WAKE resp_futex (a thread blocks in callSync) */

typedef struct bh_msg {
  uint32_t kind;        /* BH_MSG_REQUEST or BH_MSG_RESPONSE */
  uint32_t call_id;     /* host-chosen; a response echoes its request's id */
  uint32_t code;        /* request: function index; response: bh_status or BH_RESP_* */
  uint32_t error_len;   /* response: bytes of error message after the payload */
  uint64_t payload_len; /* bytes of payload after this header */
  uint64_t deadline_ns; /* request: CLOCK_MONOTONIC deadline, 0 = none */
  uint8_t reserved[32];
} bh_msg;

/*
 * Crash report: written by the worker's handler for SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT and
 * SIGTRAP (on its alternate signal stack), before the signal's default action kills it. Built from
 * the worker's own memory only. Hostile to the host like everything else here: the host copies
 * the struct once and validates every field (ring/crash_report.h).
 *
 * Filled in order: signo, code, addr and frame 0 (the faulting pc from the signal context), then
 * kind = BH_CRASH_MAGIC, then one frame at a time from a stack walk, frame_count raised after
 * each. A walk that faults itself kills the worker with the report as far as it got.
 */
#define BH_CRASH_MAGIC 0x48535243u /* "CRSH" little-endian */
#define BH_CRASH_MAX_FRAMES 16u
#define BH_CRASH_SYMBOL_BYTES 48u
#define BH_CRASH_MODULE_BYTES 24u

/* bh_crash_frame.module */
#define BH_CRASH_MODULE_PLUGIN 0u  /* the plugin's shared object */
#define BH_CRASH_MODULE_OTHER 1u   /* another loaded module (libc, ...): module_name says which */
#define BH_CRASH_MODULE_UNKNOWN 2u /* no module maps the pc; offset is the pc itself */

typedef struct bh_crash_frame {
  uint32_t module;                          /* BH_CRASH_MODULE_* */
  uint32_t reserved;                        /* zero */
  uint64_t offset;                          /* pc - the module's load bias (an ELF address) */
  char symbol[BH_CRASH_SYMBOL_BYTES];       /* dynamic symbol containing the pc, NUL-padded; empty if none */
  char module_name[BH_CRASH_MODULE_BYTES];  /* OTHER: basename of the module's file, NUL-padded */
} bh_crash_frame;

typedef struct bh_crash {
  uint32_t kind;         /* BH_CRASH_MAGIC once frame 0 is written; 0 before */
  uint32_t signo;        /* the fatal signal */
  int32_t code;          /* its si_code */
  uint32_t frame_count;  /* frames[0, frame_count) are written; at most BH_CRASH_MAX_FRAMES */
  uint64_t addr;         /* si_addr for a kernel-generated signal (si_code > 0), else 0 */
  bh_crash_frame frames[BH_CRASH_MAX_FRAMES]; /* innermost (the faulting pc) first */
} bh_crash;

/* Header. Cache-line separated so the two sides do not false-share. */
typedef struct bh_region_header {
  /* Written by the host before the worker exists; read-only by agreement. */
  uint32_t magic;
  uint32_t version;
  uint64_t capacity;        /* bytes in each ring, a multiple of BH_MSG_ALIGN */
  uint64_t max_input;       /* largest request payload */
  uint64_t max_output;      /* largest response payload */
  uint8_t pad0[32];

  /* Request ring. */
  uint64_t req_tail;        /* host: bytes produced */
  uint8_t pad1[56];
  uint64_t req_head;        /* worker: bytes consumed (hostile to the host) */
  uint8_t pad2[56];
  uint32_t req_futex;       /* host bumps after producing; worker sleeps on it */
  uint32_t worker_sleeping; /* worker: 1 while it may be asleep on req_futex */
  uint8_t pad3[56];

  /* Response ring. */
  uint64_t resp_tail;       /* worker: bytes produced (hostile to the host) */
  uint8_t pad4[56];
  uint64_t resp_head;       /* host: bytes consumed */
  uint8_t pad5[56];
  uint32_t resp_futex;      /* worker bumps after producing; callSync sleeps on it */
  uint32_t host_waiting;    /* host: BH_HOST_* */
  uint8_t pad6[56];

  uint8_t retired[24];      /* was the worker's violation report: the monitor reports them now */
  bh_crash crash;           /* worker: crash report (hostile to the host) */
} bh_region_header;

#define BH_REQ_RING_OFFSET ((uint64_t)BH_REGION_HEADER_BYTES)
#define BH_RESP_RING_OFFSET(capacity) ((uint64_t)BH_REGION_HEADER_BYTES + (uint64_t)(capacity))
#define BH_REGION_BYTES(capacity) ((uint64_t)BH_REGION_HEADER_BYTES + 2u * (uint64_t)(capacity))

static inline uint64_t bh_msg_footprint(uint64_t payload_len, uint64_t error_len) {
  uint64_t n = BH_MSG_HEADER_BYTES + payload_len + error_len;
  return (n + (BH_MSG_ALIGN - 1)) & ~(uint64_t)(BH_MSG_ALIGN - 1);
}

#endif /* BULKHEAD_RING_REGION_H */
