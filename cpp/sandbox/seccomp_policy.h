// seccomp_policy.h: the two seccomp policies every plugin process runs under, and their install.
//
// Load phase (template, installed before the plugin is mapped): everything a worker may do, plus
// what the dynamic loader and the template's own spawn loop need. Run phase (each worker, stacked
// on top): the same minus the template's extras, with kill() limited to the worker itself.
// Denials trap (SIGSYS): the runtime's handler records the syscall for the host, then the process
// is killed. Calls that well-behaved libraries probe get an errno instead.
#ifndef BULKHEAD_SANDBOX_SECCOMP_POLICY_H
#define BULKHEAD_SANDBOX_SECCOMP_POLICY_H

#include <sys/types.h>

#include <vector>

#include "sandbox/bpf_program.h"

namespace bulkhead {

enum class SeccompPhase { kLoad, kRun };

struct SeccompOptions {
  SeccompPhase phase = SeccompPhase::kRun;
  pid_t self_pid = 0;          // run phase: the only kill()/tgkill() target
  int template_sock_fd = -1;   // load phase: the only socket the template may use
  // The policy grants threads: clone with exactly kThreadCloneFlags. How many is not seccomp's
  // business (the host bounds the count with a cgroup pids limit).
  bool threads = false;
  // The policy grants writable directories: write-mode opens and the calls that create, remove,
  // rename and size files. Landlock limits them to the granted directories, so this must never
  // be set for a process without a Landlock domain.
  bool file_writes = false;
};

// Flags the template passes to clone() to start a worker: the worker becomes the zygote's child
// (so the zygote, not the plugin-controlled template, reaps it and sees its true wait status).
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

// Sets no_new_privs and installs the policy on the calling thread. Returns 0 or -errno.
int InstallSeccomp(const SeccompOptions& options);

}  // namespace bulkhead

#endif
