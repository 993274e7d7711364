// crash_trap.cc: crash reports from a dying worker (see crash_trap.h).
//
// backtrace() and dladdr() are not on POSIX's async-signal-safe list. In practice, once
// PrepareCrashTrap has loaded libgcc_s, neither allocates; both take the dynamic linker's
// recursive locks, so a crash while another thread holds them (a dlopen in progress) would hang
// the handler, and the call's deadline then kills the worker. Every other path ends in the
// signal's default action.
#include "zygote/crash_trap.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <link.h>
#include <signal.h>
#include <sys/mman.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

namespace bulkhead {
namespace {

constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
// The handler's own frames and the signal trampoline come before the faulting pc in a walk.
constexpr int kMaxWalk = BH_CRASH_MAX_FRAMES + 16;

bh_crash* g_crash = nullptr;
const struct link_map* g_plugin = nullptr;
int g_claimed = 0;

uintptr_t FaultPc(const void* context) {
  const ucontext_t* uc = static_cast<const ucontext_t*>(context);
#if defined(__x86_64__)
  return static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
#elif defined(__aarch64__)
  return static_cast<uintptr_t>(uc->uc_mcontext.pc);
#else
#error "bulkhead supports x86-64 and aarch64 only"
#endif
}

// Copies a C string, truncated, NUL-padded to the full field (no stale bytes survive).
void CopyName(char* dst, size_t cap, const char* src) {
  size_t i = 0;
  if (src != nullptr) {
    for (; i + 1 < cap && src[i] != '\0'; i++) dst[i] = src[i];
  }
  for (; i < cap; i++) dst[i] = '\0';
}

const char* Basename(const char* path) {
  if (path == nullptr) return nullptr;
  const char* slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

// `lookup` is the address to resolve: the pc for frame 0, a return address minus one for the
// callers (a call may be the last instruction of its function).
void Describe(uintptr_t pc, uintptr_t lookup, bh_crash_frame* f) {
  Dl_info info;
  struct link_map* lm = nullptr;
  f->reserved = 0;
  if (dladdr1(reinterpret_cast<void*>(lookup), &info, reinterpret_cast<void**>(&lm),
              RTLD_DL_LINKMAP) == 0 || lm == nullptr) {
    f->module = BH_CRASH_MODULE_UNKNOWN;
    f->offset = pc;
    CopyName(f->symbol, sizeof f->symbol, nullptr);
    CopyName(f->module_name, sizeof f->module_name, nullptr);
    return;
  }
  const bool plugin = lm == g_plugin;
  f->module = plugin ? BH_CRASH_MODULE_PLUGIN : BH_CRASH_MODULE_OTHER;
  f->offset = pc - lm->l_addr;
  CopyName(f->symbol, sizeof f->symbol, info.dli_sname);
  CopyName(f->module_name, sizeof f->module_name, plugin ? nullptr : Basename(info.dli_fname));
}

void Report(int sig, const siginfo_t* info, void* context) {
  bh_crash* c = g_crash;
  const uintptr_t pc = FaultPc(context);
  c->signo = static_cast<uint32_t>(sig);
  c->code = info->si_code;
  // For a signal someone sent (abort's tgkill), the union holds the sender's pid and uid instead.
  c->addr = info->si_code > 0 ? reinterpret_cast<uintptr_t>(info->si_addr) : 0;
  Describe(pc, pc, &c->frames[0]);
  __atomic_store_n(&c->frame_count, 1u, __ATOMIC_RELEASE);
  __atomic_store_n(&c->kind, BH_CRASH_MAGIC, __ATOMIC_RELEASE);

  void* walk[kMaxWalk];
  const int n = backtrace(walk, kMaxWalk);
  int first_caller = -1;
  for (int i = 0; i < n; i++) {
    if (reinterpret_cast<uintptr_t>(walk[i]) == pc) {
      first_caller = i + 1;
      break;
    }
  }
  if (first_caller < 0) return;  // the unwinder did not get through the signal frame
  uint32_t count = 1;
  for (int i = first_caller; i < n && count < BH_CRASH_MAX_FRAMES; i++) {
    const uintptr_t ret = reinterpret_cast<uintptr_t>(walk[i]);
    if (ret == 0) break;
    Describe(ret, ret - 1, &c->frames[count]);
    __atomic_store_n(&c->frame_count, ++count, __ATOMIC_RELEASE);
  }
}

void OnFatal(int sig, siginfo_t* info, void* context) {
  // Only the first crashing thread reports; a second one goes straight to the default action.
  if (g_crash != nullptr && __atomic_exchange_n(&g_claimed, 1, __ATOMIC_ACQ_REL) == 0) {
    Report(sig, info, context);
  }
  // Die by this signal: default action, unblocked, sent to this thread. Should that not end the
  // process, returning re-runs a faulting instruction, which meets the default action.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigaction(sig, &dfl, nullptr);
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, sig);
  sigprocmask(SIG_UNBLOCK, &only, nullptr);
  syscall(__NR_tgkill, getpid(), static_cast<pid_t>(syscall(__NR_gettid)), sig);
}

}  // namespace

void PrepareCrashTrap() {
  void* one[1];
  backtrace(one, 1);
}

bool InstallCrashTrap() {
  // Its own alternate stack, so a stack overflow is reported too.
  constexpr size_t kStackBytes = 64 * 1024;
  void* stack = mmap(nullptr, kStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (stack == MAP_FAILED) return false;
  stack_t ss{};
  ss.ss_sp = stack;
  ss.ss_size = kStackBytes;
  if (sigaltstack(&ss, nullptr) != 0) return false;
  struct sigaction sa {};
  sa.sa_sigaction = OnFatal;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigfillset(&sa.sa_mask);
  for (int sig : kFatalSignals) {
    if (sigaction(sig, &sa, nullptr) != 0) return false;
  }
  return true;
}

void SetCrashPlugin(void* handle) {
  struct link_map* lm = nullptr;
  if (handle != nullptr && dlinfo(handle, RTLD_DI_LINKMAP, &lm) == 0) g_plugin = lm;
}

void SetCrashSink(bh_crash* crash) { g_crash = crash; }

}  // namespace bulkhead
