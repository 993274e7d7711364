// probe.h: what isolation this kernel can give, probed without side effects on the caller.
#ifndef BULKHEAD_SANDBOX_PROBE_H
#define BULKHEAD_SANDBOX_PROBE_H

#include <string>

namespace bulkhead {

struct KernelPosture {
  std::string arch;            // "x86_64" / "aarch64"
  std::string kernel_release;  // uname -r
  bool seccomp_filter = false; // SECCOMP_SET_MODE_FILTER usable
  int seccomp_mode = 0;        // this process's own mode (2: already filtered, e.g. a container)
  bool kill_process = false;   // SECCOMP_RET_KILL_PROCESS available
  bool trap = false;           // SECCOMP_RET_TRAP available
  bool user_notif = false;
  int landlock_abi = 0;        // 0 when unavailable
  int landlock_errno = 0;      // why unavailable (ENOSYS, EOPNOTSUPP, EPERM...)
  bool no_new_privs = false;   // already set on this process
};

KernelPosture ProbeKernel();

}  // namespace bulkhead

#endif
