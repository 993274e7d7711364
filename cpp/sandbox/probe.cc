// probe.cc: kernel posture queries. Every call here only asks; none changes the process.
#include "sandbox/probe.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "sandbox/landlock_ruleset.h"

namespace bulkhead {
namespace {

bool ActionAvailable(uint32_t action) {
  return syscall(__NR_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

}  // namespace

KernelPosture ProbeKernel() {
  KernelPosture p;
  struct utsname u;
  if (uname(&u) == 0) {
    p.arch = u.machine;
    p.kernel_release = u.release;
  }
  int mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
  p.seccomp_mode = mode < 0 ? 0 : mode;
  p.kill_process = ActionAvailable(SECCOMP_RET_KILL_PROCESS);
  p.trap = ActionAvailable(SECCOMP_RET_TRAP);
  p.user_notif = ActionAvailable(SECCOMP_RET_USER_NOTIF);
  // GET_ACTION_AVAIL exists since 4.14; with it answering, filter mode is there too.
  p.seccomp_filter = mode >= 0 && p.trap;
  int abi = LandlockAbi();
  if (abi > 0) {
    p.landlock_abi = abi;
  } else {
    p.landlock_errno = -abi;
  }
  p.no_new_privs = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
  return p;
}

}  // namespace bulkhead
