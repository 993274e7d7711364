// syscall_monitor_test.cc: the monitor's decisions, one hazard per case, without a kernel.
#include "zygote/syscall_monitor.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "sandbox/seccomp_policy.h"

namespace bulkhead {
namespace {

constexpr pid_t kSelf = 7;

SyscallNotice Notice(int nr, std::initializer_list<uint64_t> args, uint32_t arch = kNativeAuditArch) {
  SyscallNotice n;
  n.tid = kSelf;
  n.arch = arch;
  n.nr = nr;
  int i = 0;
  for (uint64_t a : args) n.args[i++] = a;
  return n;
}

CallerFacts Facts(bool template_main = false, bool spawn_open = false, bool loading = false) {
  CallerFacts f;
  f.tgid = kSelf;
  f.is_template_main = template_main;
  f.spawn_open = spawn_open;
  f.loading = loading;
  return f;
}

TEST(SyscallMonitor, SignalsOnlyToTheCallersOwnProcess) {
  EXPECT_EQ(Decide(Notice(__NR_kill, {kSelf, SIGABRT}), Facts()), Verdict::kContinue);
  EXPECT_EQ(Decide(Notice(__NR_tgkill, {kSelf, 9, SIGABRT}), Facts()), Verdict::kContinue);
  EXPECT_EQ(Decide(Notice(__NR_rt_sigqueueinfo, {kSelf, SIGUSR1, 0}), Facts()), Verdict::kContinue);
  EXPECT_EQ(Decide(Notice(__NR_rt_tgsigqueueinfo, {kSelf, kSelf, SIGUSR1, 0}), Facts()), Verdict::kContinue);
  EXPECT_EQ(Decide(Notice(__NR_kill, {1, 0}), Facts()), Verdict::kViolation);                 // another process
  EXPECT_EQ(Decide(Notice(__NR_kill, {0, 0}), Facts()), Verdict::kViolation);                 // its process group
  EXPECT_EQ(Decide(Notice(__NR_kill, {~0ull, 0}), Facts()), Verdict::kViolation);             // every process
  EXPECT_EQ(Decide(Notice(__NR_kill, {kSelf | (1ull << 32), 0}), Facts()), Verdict::kViolation);  // smuggled bits
  EXPECT_EQ(Decide(Notice(__NR_tgkill, {1, kSelf, 0}), Facts()), Verdict::kViolation);
  EXPECT_EQ(Decide(Notice(__NR_tkill, {kSelf, 0}), Facts()), Verdict::kViolation);
}

TEST(SyscallMonitor, AnUnknownCallerIsNeverAllowedAnything) {
  CallerFacts f = Facts(true, true, true);
  f.tgid = 0;
  EXPECT_EQ(Decide(Notice(__NR_kill, {0, 0}), f), Verdict::kViolation);
}

TEST(SyscallMonitor, TheWorkerCloneOnlyFromTheTemplateAgainstAnOpenRequest) {
  const auto clone = Notice(__NR_clone, {kWorkerCloneFlags, 0});
  EXPECT_EQ(Decide(clone, Facts(true, true)), Verdict::kContinue);
  EXPECT_EQ(Decide(clone, Facts(true, false)), Verdict::kViolation);   // no request open
  EXPECT_EQ(Decide(clone, Facts(false, true)), Verdict::kViolation);   // a worker, or a template thread
  EXPECT_EQ(Decide(Notice(__NR_clone, {kWorkerCloneFlags, 0x1000}), Facts(true, true)), Verdict::kViolation);
  EXPECT_EQ(Decide(Notice(__NR_clone, {kWorkerCloneFlags | 0x10000000, 0}), Facts(true, true)), Verdict::kViolation);
}

TEST(SyscallMonitor, AThreadWhileItsProcessHasRoomElseEagainNeverAViolation) {
  const SyscallNotice thread = Notice(__NR_clone, {kThreadCloneFlags, 0x7f0000001000});
  CallerFacts room = Facts(false, false);
  room.thread_room = true;
  EXPECT_EQ(Decide(thread, room), Verdict::kContinue);
  EXPECT_EQ(Decide(thread, Facts(false, false)), Verdict::kRefuse);
  EXPECT_EQ(Decide(Notice(__NR_clone, {kThreadCloneFlags | 0x10000000, 0x1000}), room), Verdict::kViolation);  // CLONE_NEWNS
}

TEST(SyscallMonitor, ExecutableFileMappingsOnlyWhileLoadingAndNeverWritable) {
  const auto rx = Notice(__NR_mmap, {0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, 4, 0});
  EXPECT_EQ(Decide(rx, Facts(false, false, true)), Verdict::kContinue);
  EXPECT_EQ(Decide(rx, Facts(false, false, false)), Verdict::kViolation);
  EXPECT_EQ(Decide(Notice(__NR_mmap, {0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE, 4, 0}),
                   Facts(false, false, true)), Verdict::kViolation);
  EXPECT_EQ(Decide(Notice(__NR_mmap, {0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, ~0ull, 0}),
                   Facts(false, false, true)), Verdict::kViolation);
  EXPECT_EQ(Decide(Notice(__NR_mmap, {0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_POPULATE, 4, 0}),
                   Facts(false, false, true)), Verdict::kViolation);
}

TEST(SyscallMonitor, AForeignArchitectureOrAnythingElseIsAViolation) {
  EXPECT_EQ(Decide(Notice(__NR_kill, {kSelf, 0}, 0x40000003 /* i386 */), Facts()), Verdict::kViolation);
  EXPECT_EQ(Decide(Notice(__NR_socket, {2, 1, 0}), Facts(true, true, true)), Verdict::kViolation);
  EXPECT_EQ(Decide(Notice(__NR_execve, {0, 0, 0}), Facts(true, true, true)), Verdict::kViolation);
}

}  // namespace
}  // namespace bulkhead
