// worker_process.cc: run phase of a plugin (see plugin_process.h).
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/landlock_ruleset.h"
#include "sandbox/seccomp_policy.h"
#include "zygote/crash_trap.h"
#include "zygote/plugin_host.h"
#include "zygote/plugin_process.h"

namespace bulkhead {

void RunWorker(int region_fd, int event_fd, pid_t zygote_pid, const SandboxSpec& spec) {
  // Parent is the zygote (CLONE_PARENT): die with it, and do not start if it is already gone (the
  // death signal would never come).
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != zygote_pid) _exit(kExitParentGone);
  int region = fcntl(region_fd, F_DUPFD_CLOEXEC, 10);
  int event = fcntl(event_fd, F_DUPFD_CLOEXEC, 10);
  if (region < 0 || event < 0) _exit(kExitSetupFailed);
  if (dup2(region, kWorkerRegionFd) < 0 || dup2(event, kWorkerEventFd) < 0) _exit(kExitSetupFailed);
  // Drops the template's socket and the plugin memfd: a worker holds its ring and nothing else.
  if (syscall(__NR_close_range, kWorkerEventFd + 1, ~0U, 0) != 0) _exit(kExitSetupFailed);

  static WorkerRing ring;
  if (!ring.Map(kWorkerRegionFd, kWorkerEventFd)) _exit(kExitSetupFailed);
  SetCrashSink(&ring.header()->crash);

  // A domain of its own: siblings forked from the same template cannot signal or trace each
  // other through the shared template domain (REDTEAM #25).
  std::vector<PathGrant> grants;
  for (const std::string& p : spec.read_paths) grants.push_back({p, false});
  for (const std::string& p : spec.write_paths) grants.push_back({p, false, true});
  int abi = EnforceLandlock(grants, static_cast<int>(spec.min_landlock_abi));
  if (!LandlockShortfall(abi, static_cast<int>(spec.min_landlock_abi),
                         !spec.read_paths.empty() || !spec.write_paths.empty()).empty()) {
    _exit(kExitSetupFailed);
  }
  SeccompOptions so;
  so.phase = SeccompPhase::kRun;
  if (InstallSeccomp(so) != 0) _exit(kExitSetupFailed);
  Serve(&ring);
}

}  // namespace bulkhead
