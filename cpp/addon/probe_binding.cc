// probe_binding.cc: exposes ProbeKernel and pidfd helpers to lib/native.ts.
#include "addon/probe_binding.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <string>

#include "monitor/cgroup_delegation.h"
#include "monitor/cgroup_probe.h"
#include "sandbox/probe.h"
#include "sandbox/syscall_names.h"

namespace bulkhead {
namespace {

Napi::Value Probe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  KernelPosture p = ProbeKernel();
  Napi::Object o = Napi::Object::New(env);
  o.Set("arch", p.arch);
  o.Set("kernelRelease", p.kernel_release);
  o.Set("seccompFilter", p.seccomp_filter);
  o.Set("seccompMode", p.seccomp_mode);
  o.Set("seccompKillProcess", p.kill_process);
  o.Set("seccompTrap", p.trap);
  o.Set("seccompUserNotif", p.user_notif);
  o.Set("landlockAbi", p.landlock_abi);
  o.Set("landlockErrno", p.landlock_errno == 0 ? std::string() : std::string(strerrorname_np(p.landlock_errno) ? strerrorname_np(p.landlock_errno) : "E?"));
  o.Set("noNewPrivs", p.no_new_privs);
  return o;
}

Napi::Value Hierarchy(Napi::Env env, const CgroupHierarchy& h) {
  switch (h.version) {
    case CgroupVersion::kV1: return Napi::String::New(env, "v1");
    case CgroupVersion::kV2: return Napi::String::New(env, "v2");
    default: return env.Null();
  }
}

// probeCgroups() -> { memory, cpu, pids: 'v1' | 'v2' | null, dirs, killSupported, reasons }: the
// same probe the monitor runs (cpp/monitor/cgroup_probe.h), for capabilities().
Napi::Value ProbeCgroupsOf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CgroupSupport s = ProbeCgroups(getpid());
  Napi::Object o = Napi::Object::New(env);
  Napi::Object dirs = Napi::Object::New(env);
  const std::pair<const char*, const CgroupHierarchy*> controllers[] = {
      {"memory", &s.memory}, {"cpu", &s.cpu}, {"pids", &s.pids}};
  for (const auto& [name, h] : controllers) {
    o.Set(name, Hierarchy(env, *h));
    dirs.Set(name, h->usable() ? Napi::Value(Napi::String::New(env, h->dir)) : env.Null());
  }
  o.Set("dirs", dirs);
  o.Set("killSupported", s.kill_supported);
  Napi::Array reasons = Napi::Array::New(env, s.reasons.size());
  for (size_t i = 0; i < s.reasons.size(); i++) reasons.Set(i, s.reasons[i]);
  o.Set("reasons", reasons);
  return o;
}

// delegateCgroup(controllers: string[]) -> { root, error, moved, enabled, reasons }: the cgroup v2
// delegation opt-in for this process's cgroup (cpp/monitor/cgroup_delegation.h).
Napi::Value DelegateCgroupOf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array asked = info[0].As<Napi::Array>();
  std::vector<std::string> controllers;
  for (uint32_t i = 0; i < asked.Length(); i++) controllers.push_back(asked.Get(i).As<Napi::String>().Utf8Value());
  const DelegationResult r = DelegateOwnCgroup(controllers);
  Napi::Object o = Napi::Object::New(env);
  o.Set("root", r.root);
  o.Set("error", r.error);
  Napi::Array moved = Napi::Array::New(env, r.moved.size());
  for (size_t i = 0; i < r.moved.size(); i++) moved.Set(i, Napi::Number::New(env, r.moved[i]));
  o.Set("moved", moved);
  Napi::Array enabled = Napi::Array::New(env, r.enabled.size());
  for (size_t i = 0; i < r.enabled.size(); i++) enabled.Set(i, r.enabled[i]);
  o.Set("enabled", enabled);
  Napi::Array reasons = Napi::Array::New(env, r.reasons.size());
  for (size_t i = 0; i < r.reasons.size(); i++) reasons.Set(i, r.reasons[i]);
  o.Set("reasons", reasons);
  return o;
}

// syscallName(arch, nr) -> "openat"
Napi::Value SyscallNameOf(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), SyscallName(info[0].As<Napi::Number>().Uint32Value(),
                                                   info[1].As<Napi::Number>().Int64Value()));
}

Napi::Value ArchNameOf(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), ArchName(info[0].As<Napi::Number>().Uint32Value()));
}

// pidOfPidfd(fd) -> pid, from the kernel's own fdinfo (never from what a sandbox claims).
Napi::Value PidOfPidfd(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  std::string path = "/proc/self/fdinfo/" + std::to_string(fd);
  FILE* f = fopen(path.c_str(), "re");
  int pid = -1;
  if (f != nullptr) {
    char line[256];
    while (fgets(line, sizeof line, f) != nullptr) {
      if (sscanf(line, "Pid:\t%d", &pid) == 1) break;
    }
    fclose(f);
  }
  return Napi::Number::New(info.Env(), pid);
}

// sealedMemfd(bytes) -> fd: the exact bytes the caller verified, in a memfd no one can change
// (F_SEAL_WRITE | SHRINK | GROW | SEAL): the template maps this, never the path.
Napi::Value SealedMemfd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
  int fd = static_cast<int>(syscall(__NR_memfd_create, "bulkhead-plugin", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (fd < 0) return Napi::Number::New(env, -errno);
  size_t off = 0;
  while (off < bytes.ByteLength()) {
    ssize_t n = write(fd, bytes.Data() + off, bytes.ByteLength() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = n < 0 ? errno : EIO;
      close(fd);
      return Napi::Number::New(env, -e);
    }
    off += static_cast<size_t>(n);
  }
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    int e = errno;
    close(fd);
    return Napi::Number::New(env, -e);
  }
  return Napi::Number::New(env, fd);
}

// pidfdKill(fd) -> 0 or errno: SIGKILL through a pidfd, then close it.
Napi::Value PidfdKill(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  int rc = syscall(__NR_pidfd_send_signal, fd, SIGKILL, nullptr, 0) == 0 ? 0 : errno;
  close(fd);
  return Napi::Number::New(info.Env(), rc);
}

// cpuTimeNs(pid) -> nanoseconds the whole process (every thread, those gone included) has spent
// on a CPU, from its process CPU clock, or -1 when the process is gone. The kernel reads that
// clock for any process, so it needs no privilege. The caller must know `pid` is still its
// worker (a live pidfd): pids are recycled.
Napi::Value CpuTimeNs(const Napi::CallbackInfo& info) {
  const int pid = info[0].As<Napi::Number>().Int32Value();
  double ns = -1;
  clockid_t clock;
  struct timespec ts;
  if (pid > 0 && clock_getcpuclockid(pid, &clock) == 0 && clock_gettime(clock, &ts) == 0) {
    ns = static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
  }
  return Napi::Number::New(info.Env(), ns);
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  return Napi::Number::New(info.Env(), fd >= 0 && close(fd) == 0 ? 0 : errno);
}

}  // namespace

void DefineProbe(Napi::Env env, Napi::Object exports) {
  exports.Set("probe", Napi::Function::New(env, Probe));
  exports.Set("probeCgroups", Napi::Function::New(env, ProbeCgroupsOf));
  exports.Set("delegateCgroup", Napi::Function::New(env, DelegateCgroupOf));
  exports.Set("syscallName", Napi::Function::New(env, SyscallNameOf));
  exports.Set("archName", Napi::Function::New(env, ArchNameOf));
  exports.Set("pidOfPidfd", Napi::Function::New(env, PidOfPidfd));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  exports.Set("cpuTimeNs", Napi::Function::New(env, CpuTimeNs));
  exports.Set("sealedMemfd", Napi::Function::New(env, SealedMemfd));
  exports.Set("pidfdKill", Napi::Function::New(env, PidfdKill));
}

}  // namespace bulkhead
