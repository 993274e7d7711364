// syscall_monitor.cc: deciding and answering seccomp notifications (see syscall_monitor.h).
#include "zygote/syscall_monitor.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

#include "sandbox/seccomp_policy.h"

namespace bulkhead {
namespace {

// The kernel's notification structs may grow; size the buffers as it says.
struct Sizes {
  size_t notif = sizeof(struct seccomp_notif);
  size_t resp = sizeof(struct seccomp_notif_resp);
  Sizes() {
    struct seccomp_notif_sizes s {};
    if (syscall(__NR_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &s) == 0) {
      if (s.seccomp_notif > notif) notif = s.seccomp_notif;
      if (s.seccomp_notif_resp > resp) resp = s.seccomp_notif_resp;
    }
  }
};

const Sizes& KernelSizes() {
  static const Sizes sizes;
  return sizes;
}

}  // namespace

Verdict Decide(const SyscallNotice& n, const CallerFacts& facts) {
  if (n.arch != kNativeAuditArch || facts.tgid <= 0) return Verdict::kViolation;
  const uint64_t self = static_cast<uint64_t>(facts.tgid);
  switch (n.nr) {
    // kill(pid, sig), tgkill(tgid, tid, sig), rt_sigqueueinfo(tgid, sig, info),
    // rt_tgsigqueueinfo(tgid, tid, sig, info): the first argument, all 64 bits, is the caller's
    // own process. For the tid forms the kernel itself checks that the thread is in that process.
    case __NR_kill:
    case __NR_tgkill:
    case __NR_rt_sigqueueinfo:
    case __NR_rt_tgsigqueueinfo:
      return n.args[0] == self ? Verdict::kContinue : Verdict::kViolation;
    case __NR_clone:
      // The filter only hands over the exact worker clone and, with a grant, the exact thread
      // clone; check again, it costs nothing.
      if (n.args[0] == kThreadCloneFlags) return facts.thread_room ? Verdict::kContinue : Verdict::kRefuse;
      if (n.args[0] != kWorkerCloneFlags || n.args[1] != 0) return Verdict::kViolation;
      return facts.is_template_main && facts.spawn_open ? Verdict::kContinue : Verdict::kViolation;
    case __NR_mmap: {
      // mmap(addr, len, prot, flags, fd, off): never writable and executable, never anonymous.
      const uint64_t prot = n.args[2], flags = n.args[3];
      if ((prot & PROT_EXEC) == 0 || (prot & PROT_WRITE) != 0 || (flags & MAP_ANONYMOUS) != 0) {
        return Verdict::kViolation;
      }
      if ((flags & (MAP_HUGETLB | MAP_POPULATE)) != 0) return Verdict::kViolation;
      return facts.loading ? Verdict::kContinue : Verdict::kViolation;
    }
    default:
      return Verdict::kViolation;
  }
}

int ReceiveNotice(int listener, SyscallNotice* out) {
  std::vector<uint8_t> buf(KernelSizes().notif, 0);  // RECV wants it zeroed
  auto* req = reinterpret_cast<struct seccomp_notif*>(buf.data());
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) != 0) return errno == ENOENT ? 0 : -errno;
  out->id = req->id;
  out->tid = static_cast<pid_t>(req->pid);
  out->arch = req->data.arch;
  out->nr = req->data.nr;
  memcpy(out->args, req->data.args, sizeof out->args);
  out->ip = req->data.instruction_pointer;
  return out->tid > 0 ? 1 : 0;  // 0: the caller is outside our pid namespace (never ours)
}

bool NoticePending(int listener, uint64_t id) {
  return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

void Answer(int listener, uint64_t id, Verdict v) {
  std::vector<uint8_t> buf(KernelSizes().resp, 0);
  auto* resp = reinterpret_cast<struct seccomp_notif_resp*>(buf.data());
  resp->id = id;
  if (v == Verdict::kContinue) {
    resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  } else {
    resp->error = v == Verdict::kRefuse ? -EAGAIN : -EPERM;
  }
  ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp);  // ENOENT: the caller was killed meanwhile
}

}  // namespace bulkhead
