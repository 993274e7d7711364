// sanitizer_build.cc: what the zygote needs to run under ASAN and UBSAN; compiled only into the
// sanitizer build (binding.gyp, bulkhead_asan==1), never into a release.
//
// The zygote is exec'd with an empty environment, so its sanitizer options are baked in here.
// Its templates and workers are forks running under seccomp and Landlock, where the runtime
// must not reach for anything the policy denies:
//   detect_leaks=0  LeakSanitizer runs at exit() and first makes the process dumpable for its
//                   ptrace-based stop-the-world: that prctl traps, so a plugin's exit(3) became a
//                   sandbox violation (test/hostile.test.ts, exit_atexit).
//   symbolize=0     symbolizing forks an llvm-symbolizer (refused) and reads /proc/self/maps
//                   (outside Landlock); reports carry module+offset, which addr2line resolves.
// ASAN's own SIGSEGV handler is replaced by the runtime's crash handler once that is installed
// (ASAN allows it by default), so crash reports and wait statuses are as in a release build.
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

extern "C" const char* __asan_default_options() { return "detect_leaks=0:symbolize=0"; }

extern "C" const char* __ubsan_default_options() {
  return "symbolize=0:print_stacktrace=1:halt_on_error=1";
}

// ASAN reserves terabytes of shadow address space before main, so no RLIMIT_AS a plugin could
// live under fits beside it: in this build the address-space limit is not applied (the other
// limits are). The address-space test skips in the ASAN run for this reason. The zygote's own
// calls to setrlimit bind to this definition.
extern "C" int setrlimit(__rlimit_resource_t resource, const struct rlimit* rlim) {
  if (resource == RLIMIT_AS) return 0;
  return static_cast<int>(syscall(__NR_prlimit64, 0, resource, rlim, nullptr));
}
