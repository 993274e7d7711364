// shared_word.h: the few primitives both sides of a ring use on words in shared memory.
//
// Every access is seq_cst: the wake-up protocol (a side announces it may sleep, then re-checks;
// the other publishes, then reads the announcement) needs a single total order, and these words
// are touched a handful of times per call.
#ifndef BULKHEAD_RING_SHARED_WORD_H
#define BULKHEAD_RING_SHARED_WORD_H

#include <stdint.h>
#include <time.h>

namespace bulkhead {

template <typename T>
inline T Load(const T* p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }

template <typename T>
inline void Store(T* p, T v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }

// One iteration of a bounded spin: tells the core (and a hyperthread sibling) we are waiting.
inline void CpuRelax() {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield" ::: "memory");
#endif
}

// CLOCK_MONOTONIC in nanoseconds: the clock request deadlines are written in.
inline uint64_t MonotonicNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace bulkhead

#endif
