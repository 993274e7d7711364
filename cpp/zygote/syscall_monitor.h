// syscall_monitor.h: the monitor's side of the boundary policy's notification listener: receives
// what a plugin process asked the kernel for, decides it, and answers.
//
// The kernel holds the calling thread until the answer, and the notification carries the syscall
// number, architecture, arguments and instruction pointer as the kernel saw them, so what the
// monitor decides and reports cannot be faked by the plugin. Every argument decided on is a value,
// never a pointer, so letting a call continue (SECCOMP_USER_NOTIF_FLAG_CONTINUE) is race-free.
#ifndef BULKHEAD_ZYGOTE_SYSCALL_MONITOR_H
#define BULKHEAD_ZYGOTE_SYSCALL_MONITOR_H

#include <stdint.h>
#include <sys/types.h>

namespace bulkhead {

struct SyscallNotice {
  uint64_t id = 0;   // the kernel's cookie for the answer
  pid_t tid = 0;     // the calling thread
  uint32_t arch = 0;
  int32_t nr = 0;
  uint64_t args[6] = {};
  uint64_t ip = 0;
};

// What the monitor knows about the caller when it decides.
struct CallerFacts {
  pid_t tgid = 0;                 // the caller's process, as it names itself (its pid namespace)
  bool is_template_main = false;  // the caller is its plugin's template's main thread
  bool spawn_open = false;        // that template has a spawn request no clone has served yet
  bool loading = false;           // its plugin is still loading (constructors, init)
  bool thread_room = false;       // its process has room for one more thread (policy.threads)
};

// kRefuse: the call fails with EAGAIN, as a pids limit fails it (a thread past the grant).
enum class Verdict { kContinue, kViolation, kRefuse };

// The whole policy of the monitor: signals only to the caller's own process, the worker clone
// only from the template against an open request, a thread (the boundary hands them over only
// with a grant) while its process has room (else EAGAIN), read-only executable file mappings
// only while loading, everything else a violation.
Verdict Decide(const SyscallNotice& n, const CallerFacts& facts);

// Receives one pending notice: 1, or 0 if the caller vanished meanwhile, or -errno.
int ReceiveNotice(int listener, SyscallNotice* out);

// True while the notice's caller still waits (so what was read about its tid still holds).
bool NoticePending(int listener, uint64_t id);

// Answers: the call runs as asked (kContinue), fails with EAGAIN (kRefuse) or with EPERM.
void Answer(int listener, uint64_t id, Verdict v);

}  // namespace bulkhead

#endif
