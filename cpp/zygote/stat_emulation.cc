// stat_emulation.cc: fstat() for trapped fstatat/statx (see stat_emulation.h). Async-signal-safe.
#include "zygote/stat_emulation.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/stat.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <ucontext.h>
#include <unistd.h>

#include "sandbox/bpf_program.h"

namespace bulkhead {
namespace {

constexpr int kSysSeccomp = 1;  // si_code of a seccomp trap (asm-generic/siginfo.h)
// Flags that change nothing for a descriptor's own metadata.
constexpr long kHarmlessFlags = AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT |
                                AT_STATX_SYNC_TYPE;

#if defined(__x86_64__)
long Arg(ucontext_t* uc, int i) {
  static const int regs[] = {REG_RDI, REG_RSI, REG_RDX, REG_R10, REG_R8, REG_R9};
  return static_cast<long>(uc->uc_mcontext.gregs[regs[i]]);
}
void SetResult(ucontext_t* uc, long v) { uc->uc_mcontext.gregs[REG_RAX] = v; }
#elif defined(__aarch64__)
long Arg(ucontext_t* uc, int i) { return static_cast<long>(uc->uc_mcontext.regs[i]); }
void SetResult(ucontext_t* uc, long v) { uc->uc_mcontext.regs[0] = static_cast<unsigned long long>(v); }
#endif

// fstat(fd) when (fd, path, flags) names the descriptor itself, else -EPERM (no lookup is made).
long FstatOf(long fd, long path, long flags, struct stat* st) {
  if ((flags & ~kHarmlessFlags) != 0) return -EINVAL;
  // A NULL path with AT_EMPTY_PATH is the empty path (Linux 6.11+). A wild pointer faults here,
  // which kills the caller: its own bug, in its own process.
  const bool empty = path == 0 || *reinterpret_cast<const volatile char*>(path) == '\0';
  if (!(flags & AT_EMPTY_PATH) || !empty || fd < 0) return -EPERM;
  long rc = syscall(__NR_fstat, fd, st);
  return rc < 0 ? -errno : 0;
}

void ToStatx(const struct stat& st, struct statx* sx) {
  memset(sx, 0, sizeof *sx);
  sx->stx_mask = STATX_BASIC_STATS;
  sx->stx_blksize = static_cast<uint32_t>(st.st_blksize);
  sx->stx_nlink = static_cast<uint32_t>(st.st_nlink);
  sx->stx_uid = st.st_uid;
  sx->stx_gid = st.st_gid;
  sx->stx_mode = static_cast<uint16_t>(st.st_mode);
  sx->stx_ino = st.st_ino;
  sx->stx_size = static_cast<uint64_t>(st.st_size);
  sx->stx_blocks = static_cast<uint64_t>(st.st_blocks);
  sx->stx_atime = {st.st_atim.tv_sec, static_cast<uint32_t>(st.st_atim.tv_nsec), 0};
  sx->stx_ctime = {st.st_ctim.tv_sec, static_cast<uint32_t>(st.st_ctim.tv_nsec), 0};
  sx->stx_mtime = {st.st_mtim.tv_sec, static_cast<uint32_t>(st.st_mtim.tv_nsec), 0};
  sx->stx_rdev_major = major(st.st_rdev);
  sx->stx_rdev_minor = minor(st.st_rdev);
  sx->stx_dev_major = major(st.st_dev);
  sx->stx_dev_minor = minor(st.st_dev);
}

void OnSigsys(int, siginfo_t* info, void* context) {
  auto* uc = static_cast<ucontext_t*>(context);
  if (info->si_code != kSysSeccomp) {
    for (;;) syscall(kDieSyscall);
  }
  const int saved = errno;
  struct stat st;
  long rc;
  if (info->si_syscall == __NR_newfstatat) {
    // newfstatat(dirfd, path, buf, flags)
    rc = FstatOf(Arg(uc, 0), Arg(uc, 1), Arg(uc, 3), &st);
    if (rc == 0) memcpy(reinterpret_cast<void*>(Arg(uc, 2)), &st, sizeof st);
  } else if (info->si_syscall == __NR_statx) {
    // statx(dirfd, path, flags, mask, buf)
    rc = FstatOf(Arg(uc, 0), Arg(uc, 1), Arg(uc, 2), &st);
    if (rc == 0) {
      struct statx sx;
      ToStatx(st, &sx);
      memcpy(reinterpret_cast<void*>(Arg(uc, 4)), &sx, sizeof sx);
    }
  } else {
    for (;;) syscall(kDieSyscall);  // no other call traps: not ours to answer
  }
  SetResult(uc, rc);
  errno = saved;
}

}  // namespace

bool InstallStatEmulation() {
  struct sigaction sa {};
  sa.sa_sigaction = OnSigsys;
  // The caller's own stack: the emulation needs no alternate stack, and so cannot be broken by one.
  sa.sa_flags = SA_SIGINFO;
  sigfillset(&sa.sa_mask);
  return sigaction(SIGSYS, &sa, nullptr) == 0;
}

}  // namespace bulkhead
