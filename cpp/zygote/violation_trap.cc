// violation_trap.cc: async-signal-safe violation reporting (see violation_trap.h).
#include "zygote/violation_trap.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/wire.h"
#include "sandbox/bpf_program.h"

namespace bulkhead {
namespace {

constexpr int kSysSeccomp = 1;  // si_code of a seccomp trap (asm-generic/siginfo.h)

bh_fault* g_fault = nullptr;
int g_report_sock = -1;
uint32_t g_plugin_id = 0;

void OnSigsys(int, siginfo_t* info, void*) {
  // A SIGSYS the plugin raised itself is a crash, not a violation: report nothing (REDTEAM #13).
  if (info->si_code != kSysSeccomp) {
    for (;;) syscall(kDieSyscall);
  }
  uint32_t arch = info->si_arch;
  int32_t nr = info->si_syscall;
  if (g_fault != nullptr) {
    __atomic_store_n(&g_fault->arch, arch, __ATOMIC_RELAXED);
    __atomic_store_n(&g_fault->nr, nr, __ATOMIC_RELAXED);
    __atomic_store_n(&g_fault->kind, BH_FAULT_VIOLATION, __ATOMIC_RELEASE);
  } else if (g_report_sock >= 0) {
    WireSend(g_report_sock, WireType::kViolation, g_plugin_id, static_cast<uint32_t>(getpid()),
             static_cast<uint32_t>(nr), arch, nullptr, 0, nullptr, 0);
  }
  for (;;) syscall(kDieSyscall);
}

}  // namespace

bool InstallViolationTrap() {
  constexpr size_t kStackBytes = 64 * 1024;
  void* stack = mmap(nullptr, kStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (stack == MAP_FAILED) return false;
  stack_t ss{};
  ss.ss_sp = stack;
  ss.ss_size = kStackBytes;
  if (sigaltstack(&ss, nullptr) != 0) return false;
  struct sigaction sa {};
  sa.sa_sigaction = OnSigsys;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigfillset(&sa.sa_mask);
  return sigaction(SIGSYS, &sa, nullptr) == 0;
}

void SetViolationSink(bh_fault* fault, int report_sock, uint32_t plugin_id) {
  g_fault = fault;
  g_report_sock = report_sock;
  g_plugin_id = plugin_id;
}

}  // namespace bulkhead
