// sanitizer_build.cc: what the zygote needs to run under ASAN and UBSAN; compiled only into the
// sanitizer build (binding.gyp, bulkhead_asan==1), never into a release.
//
// The zygote is exec'd with an empty environment, so its sanitizer options are baked in here.
// Its templates and workers are forks running under seccomp and Landlock, where the runtime
// must not reach for anything the policy denies:
//   detect_leaks=0       LeakSanitizer stops the world with clone + ptrace at exit (denied, and
//                        sandboxed processes end by signal or _exit anyway).
//   symbolize=0          symbolizing forks and execs llvm-symbolizer (execve traps); reports
//                        carry module+offset instead, which addr2line resolves.
//   handle_*=0           the runtime's own crash and violation handlers must see SIGSEGV, SIGBUS,
//                        SIGILL, SIGFPE and SIGABRT, as in a release build.
//   allow_user_segv_handler=1   and may install them.
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

extern "C" const char* __asan_default_options() {
  return "detect_leaks=0:symbolize=0:handle_segv=0:handle_sigbus=0:handle_sigill=0:"
         "handle_sigfpe=0:handle_abort=0:allow_user_segv_handler=1:abort_on_error=0";
}

extern "C" const char* __ubsan_default_options() {
  return "symbolize=0:print_stacktrace=1:halt_on_error=1";
}

// ASAN reserves terabytes of shadow address space before main, so no RLIMIT_AS a plugin could
// live under fits beside it: in this build the address-space limit is not applied (the other
// limits are). Memory-limit tests are skipped in the ASAN run for this reason. The zygote's
// own calls to setrlimit bind to this definition.
extern "C" int setrlimit(__rlimit_resource_t resource, const struct rlimit* rlim) {
  if (resource == RLIMIT_AS) return 0;
  return static_cast<int>(syscall(__NR_prlimit64, 0, resource, rlim, nullptr));
}
