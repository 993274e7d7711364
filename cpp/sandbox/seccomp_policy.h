// seccomp_policy.h: the boundary policy every plugin process runs under, the worker's tightening
// layer on top of it, and their install.
//
// Boundary (installed by the template before the plugin is mapped, inherited by every process the
// plugin ever makes): everything a worker may do, plus what the dynamic loader and the template's
// spawn loop need. It is the real boundary: a hostile template can skip anything installed later.
// Denials go to the monitor (SECCOMP_RET_USER_NOTIF on a listener the zygote holds), which sees the
// syscall, architecture and arguments as the kernel does, kills the process and reports the
// violation; the plugin can neither hide nor forge one. The monitor also decides the calls whose
// answer depends on who asks: signals (only to the caller itself) and the worker clone (only the
// template, only against an open spawn request). Calls that well-behaved libraries probe get an
// errno instead; fstatat/statx trap to an in-process emulation that only ever calls fstat().
// Run phase (each worker, stacked on top): allows everything the boundary decides and only adds
// errno refusals (a filter without a listener cannot hand calls to the monitor).
#ifndef BULKHEAD_SANDBOX_SECCOMP_POLICY_H
#define BULKHEAD_SANDBOX_SECCOMP_POLICY_H

#include <sys/types.h>

#include <vector>

#include "sandbox/bpf_program.h"

#include <linux/audit.h>

namespace bulkhead {

// The one architecture plugin processes may make syscalls in.
#if defined(__x86_64__)
constexpr uint32_t kNativeAuditArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t kNativeAuditArch = AUDIT_ARCH_AARCH64;
#else
#error "bulkhead supports x86-64 and aarch64 only"
#endif

enum class SeccompPhase { kLoad, kRun };

struct SeccompOptions {
  SeccompPhase phase = SeccompPhase::kRun;
  int template_sock_fd = -1;   // load phase: the only socket the template may use
  // The policy grants threads: clone with exactly kThreadCloneFlags, handed to the monitor, which
  // counts them (syscall_monitor.h).
  bool threads = false;
  // The policy grants writable directories: write-mode opens and the calls that create, remove,
  // rename and size files. Landlock limits them to the granted directories, so this must never
  // be set for a process without a Landlock domain.
  bool file_writes = false;
};

// Flags the template passes to clone() to start a worker: the worker becomes the zygote's child
// (so the zygote, not the plugin-controlled template, reaps it and sees its true wait status). The
// boundary hands exactly this call (and no child stack) to the monitor.
constexpr unsigned long kWorkerCloneFlags = 0x00008000UL /* CLONE_PARENT */ |
                                            0x00001000UL /* CLONE_PIDFD */ | 17 /* SIGCHLD */;

// The flags glibc's pthread_create passes to clone (nptl/pthread_create.c, create_thread, as of
// glibc 2.36; clone3 answers ENOSYS, so glibc falls back to clone with these).
constexpr unsigned long kThreadCloneFlags =
    0x00000100UL /* CLONE_VM */ | 0x00000200UL /* CLONE_FS */ | 0x00000400UL /* CLONE_FILES */ |
    0x00000800UL /* CLONE_SIGHAND */ | 0x00010000UL /* CLONE_THREAD */ |
    0x00040000UL /* CLONE_SYSVSEM */ | 0x00080000UL /* CLONE_SETTLS */ |
    0x00100000UL /* CLONE_PARENT_SETTID */ | 0x00200000UL /* CLONE_CHILD_CLEARTID */;

std::vector<SyscallRule> BuildSeccompRules(const SeccompOptions& options);

// The compiled program for this architecture; false if it cannot be encoded.
bool CompileSeccomp(const SeccompOptions& options, std::vector<struct sock_filter>* program);

// Sets no_new_privs and installs the policy on the calling (single-threaded) process. The load
// phase returns the new notification listener (>= 0, owned by the caller), the run phase 0; -errno
// on failure.
int InstallSeccomp(const SeccompOptions& options);

}  // namespace bulkhead

#endif
