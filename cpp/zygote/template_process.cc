// template_process.cc: load phase of a plugin (see plugin_process.h).
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/wire.h"
#include "include/bulkhead_plugin.h"
#include "sandbox/landlock_ruleset.h"
#include "sandbox/seccomp_policy.h"
#include "zygote/crash_trap.h"
#include "zygote/plugin_host.h"
#include "zygote/plugin_process.h"
#include "zygote/stat_emulation.h"

namespace bulkhead {
namespace {

uint32_t g_plugin_id = 0;
pid_t g_zygote_pid = 0;

[[noreturn]] void FailLoad(LoadErrorKind kind, const std::string& message) {
  WireSend(kTemplateSockFd, WireType::kLoadError, g_plugin_id, static_cast<uint32_t>(kind), 0, 0,
           message.data(), std::min(message.size(), kMaxWirePayload), nullptr, 0);
  _exit(kExitSetupFailed);
}

// Moves `fds` to 3, 4, ... in order and closes every other descriptor above 2.
bool ArrangeFds(std::vector<int> fds) {
  for (int& fd : fds) {  // first out of the way of the targets
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 10);
    if (high < 0) return false;
    fd = high;
  }
  for (size_t i = 0; i < fds.size(); i++) {
    if (dup2(fds[i], 3 + static_cast<int>(i)) < 0) return false;
  }
  return syscall(__NR_close_range, 3 + fds.size(), ~0U, 0) == 0;
}

bool DropCapabilities() {
  for (int cap = 0; cap <= 63; cap++) prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  return syscall(__NR_capset, &hdr, data) == 0;
}

bool SetLimit(int resource, uint64_t value) {
  struct rlimit rl = {value, value};
  return setrlimit(resource, &rl) == 0;
}

bool ApplyLimits(const SandboxSpec& spec) {
  if (!SetLimit(RLIMIT_CORE, 0)) return false;
  // No real-time scheduling and no raised priority, whatever the host's limits allow: a
  // real-time thread would escape the cpu cgroup's quota and pre-empt the host and the monitor.
  if (!SetLimit(RLIMIT_RTPRIO, 0) || !SetLimit(RLIMIT_NICE, 0)) return false;
  if (!SetLimit(RLIMIT_NOFILE, spec.open_files)) return false;
  const uint64_t fsize = FileSizeLimit(spec);
  if (fsize && !SetLimit(RLIMIT_FSIZE, fsize)) return false;
  if (spec.address_space_bytes && !SetLimit(RLIMIT_AS, spec.address_space_bytes)) return false;
  return true;
}

bool ValidName(const char* s, bool strict) {
  if (s == nullptr) return false;
  size_t n = strnlen(s, 64);
  if (n == 0 || n > 63) return false;
  if (!strict) return true;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Checks the plugin's table and returns "name\0version\0fn\0fn\0..." or an error message.
bool DescribePlugin(const bh_plugin* p, std::string* out, std::string* error) {
  constexpr size_t kMinSize = offsetof(bh_plugin, functions) + sizeof(p->functions);
  if (p == nullptr) return *error = "entry returned NULL", false;
  if (p->abi_version != BH_ABI_VERSION) {
    *error = "plugin ABI version " + std::to_string(p->abi_version) + ", host supports " +
             std::to_string(BH_ABI_VERSION);
    return false;
  }
  if (p->struct_size < kMinSize) return *error = "plugin table is smaller than ABI v1", false;
  if (!ValidName(p->name, true)) return *error = "plugin name is missing or invalid", false;
  if (!ValidName(p->version, false)) return *error = "plugin version is missing or invalid", false;
  if (p->function_count > 256) return *error = "more than 256 functions", false;
  if (p->function_count > 0 && p->functions == nullptr) return *error = "functions is NULL", false;
  out->assign(p->name).push_back('\0');
  out->append(p->version).push_back('\0');
  for (uint32_t i = 0; i < p->function_count; i++) {
    const bh_function& f = p->functions[i];
    if (!ValidName(f.name, true) || f.fn == nullptr) {
      *error = "function " + std::to_string(i) + " has an invalid name or no code";
      return false;
    }
    for (uint32_t j = 0; j < i; j++) {
      if (strcmp(p->functions[j].name, f.name) == 0) {
        *error = std::string("duplicate function name ") + f.name;
        return false;
      }
    }
    out->append(f.name).push_back('\0');
  }
  if (out->size() > kMaxWirePayload) return *error = "function table too large", false;
  return true;
}

// Forks workers on request until the zygote closes the socket.
[[noreturn]] void SpawnLoop(const SandboxSpec& spec) {
  for (;;) {
    struct pollfd pfd = {kTemplateSockFd, POLLIN, 0};
    if (poll(&pfd, 1, -1) < 0 && errno != EINTR) _exit(kExitSetupFailed);
    WireMessage msg;
    int rc = WireRecv(kTemplateSockFd, &msg);
    if (rc == 0) _exit(0);
    if (rc < 0) continue;
    if (msg.header.type != static_cast<uint32_t>(WireType::kSpawn) || msg.fds.size() != 2) {
      WireCloseFds(&msg);
      continue;
    }
    int pidfd = -1;
    // The monitor lets this through only against the spawn request it forwarded.
    long pid = syscall(__NR_clone, kWorkerCloneFlags, nullptr, &pidfd, nullptr, nullptr);
    if (pid == 0) RunWorker(msg.fds[0], msg.fds[1], g_zygote_pid, spec);
    if (pid < 0) {
      WireSend(kTemplateSockFd, WireType::kSpawnError, g_plugin_id, msg.header.a,
               static_cast<uint32_t>(errno), 0, nullptr, 0, nullptr, 0);
    } else {
      WireSend(kTemplateSockFd, WireType::kSpawned, g_plugin_id, msg.header.a, 0, 0, nullptr, 0,
               &pidfd, 1);
      close(pidfd);
    }
    WireCloseFds(&msg);
  }
}

}  // namespace

void RunTemplate(int sock, int plugin_fd, uint32_t plugin_id, pid_t zygote_pid,
                 const SandboxSpec& spec) {
  g_plugin_id = plugin_id;
  g_zygote_pid = zygote_pid;
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != zygote_pid) _exit(kExitParentGone);
  // Nothing before the monitor has placed us in the plugin's cgroup.
  struct pollfd go = {sock, POLLIN, 0};
  WireMessage first;
  if (poll(&go, 1, -1) != 1 || WireRecv(sock, &first) != 1 ||
      first.header.type != static_cast<uint32_t>(WireType::kGo)) {
    _exit(kExitSetupFailed);
  }
  if (!ArrangeFds({sock, plugin_fd})) _exit(kExitSetupFailed);
  setpgid(0, 0);  // the zygote kills a plugin's whole process group on unload
  if (!InstallStatEmulation()) FailLoad(LoadErrorKind::kSandbox, "cannot install SIGSYS handler");
  PrepareCrashTrap();
  if (!InstallCrashTrap()) FailLoad(LoadErrorKind::kSandbox, "cannot install crash handlers");
  // A write past RLIMIT_FSIZE must kill (SIGXFSZ's default action), whatever the zygote inherited.
  signal(SIGXFSZ, SIG_DFL);
  if (!DropCapabilities()) FailLoad(LoadErrorKind::kSandbox, "cannot drop capabilities");
  if (!ApplyLimits(spec)) FailLoad(LoadErrorKind::kSandbox, std::string("setrlimit: ") + strerror(errno));
  prctl(PR_SET_DUMPABLE, 0);  // no same-uid ptrace or /proc/<pid>/mem of plugin processes (see below)
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) FailLoad(LoadErrorKind::kSandbox, "no_new_privs");

  // Read and execute where the dynamic linker finds libc and its friends; read-only for the paths
  // the policy grants (workers keep those and lose the rest).
  std::vector<PathGrant> grants = {{"/lib", true},      {"/lib64", true},
                                   {"/usr/lib", true},  {"/usr/lib64", true},
                                   {"/etc/ld.so.cache", false}};
  for (const std::string& p : spec.read_paths) grants.push_back({p, false});
  for (const std::string& p : spec.write_paths) grants.push_back({p, false, true});
  int abi = EnforceLandlock(grants, static_cast<int>(spec.min_landlock_abi));
  const std::string shortfall = LandlockShortfall(abi, static_cast<int>(spec.min_landlock_abi),
                                                  !spec.read_paths.empty() || !spec.write_paths.empty());
  if (!shortfall.empty()) FailLoad(LoadErrorKind::kSandbox, shortfall);
  // Under Landlock a plugin process cannot reach another process's memory (Landlock confines
  // ptrace and /proc/<pid>/mem to its own domain's descendants, and seccomp denies ptrace and
  // process_vm_*), so it may be dumpable: that lets the host, as the same user without
  // CAP_SYS_PTRACE, read its /proc/<pid>/io for the write budget. Without Landlock it stays not.
  if (abi > 0) prctl(PR_SET_DUMPABLE, 1);
  SeccompOptions so;
  so.phase = SeccompPhase::kLoad;
  so.template_sock_fd = kTemplateSockFd;
  so.threads = spec.threads > 0;
  so.file_writes = !spec.write_paths.empty();
  int listener = InstallSeccomp(so);
  if (listener < 0) FailLoad(LoadErrorKind::kSandbox, std::string("seccomp: ") + strerror(-listener));
  // The monitor must hold the listener before any plugin code runs: until it does, a denied call
  // would block with nobody to answer it.
  int rc = WireSend(kTemplateSockFd, WireType::kListener, plugin_id, 0, 0, 0, nullptr, 0, &listener, 1);
  close(listener);
  if (rc != 0) _exit(kExitSetupFailed);

  // From here on plugin code runs, starting with its ELF constructors.
  void* handle = dlopen("/proc/self/fd/4", RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* e = dlerror();
    FailLoad(LoadErrorKind::kNotLoadable, e ? e : "dlopen failed");
  }
  SetCrashPlugin(handle);
  auto entry = reinterpret_cast<bh_plugin_entry_fn>(dlsym(handle, BH_PLUGIN_ENTRY_SYMBOL));
  if (entry == nullptr) {
    FailLoad(LoadErrorKind::kNoEntry, std::string("no symbol ") + BH_PLUGIN_ENTRY_SYMBOL);
  }
  const bh_plugin* plugin = entry();
  std::string description, error;
  if (!DescribePlugin(plugin, &description, &error)) FailLoad(LoadErrorKind::kBadAbi, error);
  SetPlugin(plugin);
  std::string init_error;
  if (!RunInit(spec.config, &init_error)) FailLoad(LoadErrorKind::kInitFailed, init_error);
  WireSend(kTemplateSockFd, WireType::kLoaded, plugin_id, static_cast<uint32_t>(getpid()), 0, 0,
           description.data(), description.size(), nullptr, 0);
  SpawnLoop(spec);
}

}  // namespace bulkhead
