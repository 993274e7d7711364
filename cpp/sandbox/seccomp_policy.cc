// seccomp_policy.cc: the syscall allowlists. Every allowance says why it exists.
#include "sandbox/seccomp_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace bulkhead {
namespace {


constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
// The boundary's denials, and the calls whose answer depends on the caller: the monitor decides.
constexpr uint32_t kMonitor = SECCOMP_RET_USER_NOTIF;
// fstatat/statx: emulated in the process by fstat() (cpp/zygote/stat_emulation.h).
constexpr uint32_t kEmulate = SECCOMP_RET_TRAP;
constexpr uint32_t Errno(int e) { return SECCOMP_RET_ERRNO | (static_cast<uint32_t>(e) & SECCOMP_RET_DATA); }

constexpr uint64_t kAll = ~0ULL;
constexpr uint64_t kLow32 = 0xffffffffULL;

// An int argument equal to v: the upper half must be zero (no smuggled bits).
ArgCond Is(int arg, uint64_t v) { return {arg, kAll, v}; }
// A 32-bit argument whose low word is v, whatever the upper half (the kernel truncates it).
ArgCond Low32Is(int arg, uint32_t v) { return {arg, kLow32, v}; }
// Bits in `mask` are all clear, on the full 64 bits.
ArgCond Clear(int arg, uint64_t mask) { return {arg, mask, 0}; }
// Bits in `mask` are all set.
ArgCond Set(int arg, uint64_t mask) { return {arg, mask, mask}; }

class RuleSet {
 public:
  void Allow(int nr) { rules_.push_back({nr, {}, kAllow}); }
  void Fail(int nr, int err) { rules_.push_back({nr, {}, Errno(err)}); }
  void Add(int nr, std::vector<Branch> branches, uint32_t otherwise) {
    rules_.push_back({nr, std::move(branches), otherwise});
  }
  std::vector<SyscallRule> Take() { return std::move(rules_); }

 private:
  std::vector<SyscallRule> rules_;
};

// O_TMPFILE without the O_DIRECTORY bit it includes: testing all of O_TMPFILE would also refuse
// every O_DIRECTORY open (opendir).
constexpr uint64_t kTmpfileBit = O_TMPFILE & ~O_DIRECTORY;
// Flags that let open() create, write or truncate. Paths themselves are Landlock's business;
// refusing write modes here keeps files read-only even where Landlock is missing.
constexpr uint64_t kOpenWriteFlags = O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND | kTmpfileBit;

void AddMemory(RuleSet* r) {
  // The allocator and the plugin's own buffers.
  r->Allow(__NR_munmap);
  r->Allow(__NR_mremap);
  r->Allow(__NR_brk);
  r->Allow(__NR_msync);
  // mmap: never huge pages (kernel-side reserves the worker's limits miss, REDTEAM #56). Pre-faulting
  // (MAP_POPULATE) fails softly with EPERM, since an honest allocator gets the same memory without
  // it; as part of an executable mapping it stays the monitor's violation. W^X: no
  // mapping is ever both writable and executable, file-backed included (a MAP_PRIVATE copy would
  // take new code into every worker), and no anonymous memory is executable: the monitor refuses
  // those in every phase. The dynamic linker maps code read-only and executable from the plugin's
  // sealed memfd and the granted libraries.
  // A read-only executable mapping of a file still goes to the monitor, which allows it only while
  // the plugin loads (the dynamic linker maps code then, and no writable descriptor that could be
  // mapped twice, like a worker's shared region, exists yet); afterwards it is a violation.
  r->Add(__NR_mmap,
         {{{Set(3, MAP_HUGETLB)}, kMonitor},
          {{Set(2, PROT_EXEC)}, kMonitor},
          {{Set(3, MAP_POPULATE)}, Errno(EPERM)},
          {{}, kAllow}},
         kMonitor);
  // mprotect: no turning memory executable ever (no JIT), no PROT_GROWSDOWN tricks.
  r->Add(__NR_mprotect, {{{Clear(2, PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP)}, kAllow}}, kMonitor);
  // madvise: the advice glibc's allocator and common libraries use; others fail softly.
  std::vector<Branch> madvise;
  for (int advice : {MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED,
                     MADV_FREE, MADV_DONTDUMP, MADV_DODUMP, MADV_HUGEPAGE, MADV_NOHUGEPAGE,
                     102 /* MADV_GUARD_INSTALL, new glibc */, 103 /* MADV_GUARD_REMOVE */}) {
    madvise.push_back({{Is(2, static_cast<uint64_t>(advice))}, kAllow});
  }
  r->Add(__NR_madvise, std::move(madvise), Errno(EPERM));
  // Locking memory: locked pages are memory the limits miss, and libraries that lock secrets
  // (libsodium's sodium_malloc) go on without it, so mlock fails as RLIMIT_MEMLOCK would; unlocking
  // what cannot have been locked does nothing.
  for (int nr : {__NR_mlock, __NR_mlock2, __NR_mlockall}) r->Fail(nr, EPERM);
  for (int nr : {__NR_munlock, __NR_munlockall}) r->Allow(nr);
}

// Opens, by the flags argument (`arg`).
std::vector<Branch> OpenBranches(int arg, bool file_writes) {
  // O_PATH opens are not checked by Landlock, and fstat() on the result reads any file's metadata.
  // The refusal never looks at the path, so it is the same whether or not the file exists.
  const Branch no_path = {{Set(arg, O_PATH)}, Errno(EPERM)};
  if (!file_writes) return {no_path, {{Clear(arg, kOpenWriteFlags)}, kAllow}};
  // With a write grant (Landlock required, see SeccompOptions): any mode, Landlock decides the
  // path (WRITE_FILE, MAKE_REG and TRUNCATE beneath the grant only). Truncation only together
  // with write access: below Landlock ABI 3 an O_RDONLY|O_TRUNC open is checked as a read, and
  // would empty a file that is only readable. O_TMPFILE never: an unnamed file Landlock checks
  // differently, and no plugin needs one.
  return {no_path,
          {{Clear(arg, kTmpfileBit | O_TRUNC)}, kAllow},
          {{Clear(arg, kTmpfileBit), Set(arg, O_WRONLY)}, kAllow},
          {{Clear(arg, kTmpfileBit), Set(arg, O_RDWR)}, kAllow}};
}

// Calls that change the filesystem. Without a write grant they fail, as they always did; with
// one, Landlock confines them to the granted directories (EACCES elsewhere).
void AddFileWrites(RuleSet* r, bool file_writes) {
  std::vector<int> calls = {__NR_mkdirat, __NR_unlinkat, __NR_ftruncate, __NR_fallocate};
#if defined(__x86_64__)
  // glibc's mkdir, rmdir, unlink and rename use these on x86-64, not the *at forms.
  calls.insert(calls.end(), {__NR_mkdir, __NR_rmdir, __NR_unlink, __NR_rename, __NR_renameat});
#endif
  if (!file_writes) {
    for (int nr : calls) r->Fail(nr, EPERM);
    r->Fail(__NR_renameat2, EPERM);
    return;
  }
  // mkdirat/mkdir: MAKE_DIR; unlinkat/unlink/rmdir: REMOVE_FILE and REMOVE_DIR; rename and
  // renameat: REMOVE_* at the source and MAKE_* at the target, within one directory (no REFER
  // right is granted, so a move between directories is EXDEV). ftruncate and fallocate act on a
  // descriptor opened for writing, which only a granted directory yields; RLIMIT_FSIZE bounds
  // the size they set (SIGXFSZ).
  for (int nr : calls) r->Allow(nr);
  // renameat2 with flags 0 is renameat; RENAME_EXCHANGE and RENAME_WHITEOUT are not needed.
  r->Add(__NR_renameat2, {{{Is(4, 0)}, kAllow}}, Errno(EPERM));
}

void AddFiles(RuleSet* r, const SeccompOptions& o) {
  // Descriptor I/O on what the process already holds (its ring, files it was allowed to open).
  for (int nr : {__NR_read, __NR_write, __NR_readv, __NR_writev, __NR_pread64, __NR_pwrite64,
                 __NR_lseek, __NR_close, __NR_getdents64, __NR_fstatfs, __NR_fsync,
                 __NR_fdatasync, __NR_fadvise64, __NR_dup, __NR_dup3, __NR_pipe2, __NR_ppoll,
                 __NR_close_range}) {
    r->Allow(nr);
  }
#ifdef __NR_fstat
  r->Allow(__NR_fstat);
#endif
#ifdef __NR_dup2
  r->Allow(__NR_dup2);
#endif
#ifdef __NR_poll
  r->Allow(__NR_poll);
#endif
  // Read-only opens unless the policy grants writable directories; Landlock decides which paths
  // (EACCES outside the grant).
  r->Add(__NR_openat, OpenBranches(2, o.file_writes), Errno(EPERM));
#ifdef __NR_open
  r->Add(__NR_open, OpenBranches(1, o.file_writes), Errno(EPERM));
#endif
  AddFileWrites(r, o.file_writes);
  // openat2 hides its flags in memory: ENOSYS makes libc fall back to openat, which we can check.
  r->Fail(__NR_openat2, ENOSYS);
  // fstat() is fstatat(fd, "", AT_EMPTY_PATH) in glibc. The filter cannot see whether the path is
  // empty, and a path stat leaks metadata Landlock does not guard (REDTEAM #4, #40): both trap to
  // an emulation that calls fstat(fd) for an empty path and fails every path with EPERM, without
  // a lookup, so existence does not show either. Subverting the emulation gains nothing: the
  // trapped call never reaches the kernel.
  r->Add(__NR_newfstatat, {}, kEmulate);
  r->Add(__NR_statx, {}, kEmulate);
  // fcntl: descriptor flags, seals and record locks only. F_SETOWN/F_SETSIG/O_ASYNC would let the
  // plugin aim SIGIO at another process (REDTEAM #23). Locks (POSIX and OFD) are on descriptors
  // the plugin holds, so on files Landlock let it open: SQLite and others lock their database.
  // A lock can hold up another user of a granted file, which the grant already shares with it.
  r->Add(__NR_fcntl,
         {{{Is(1, F_GETFD)}, kAllow},
          {{Is(1, F_SETFD)}, kAllow},
          {{Is(1, F_GETFL)}, kAllow},
          {{Is(1, F_SETFL), Clear(2, O_ASYNC)}, kAllow},
          {{Is(1, F_DUPFD_CLOEXEC)}, kAllow},
          {{Is(1, F_GET_SEALS)}, kAllow},
          {{Is(1, F_GETLK)}, kAllow},
          {{Is(1, F_SETLK)}, kAllow},
          {{Is(1, F_SETLKW)}, kAllow},
          {{Is(1, F_OFD_GETLK)}, kAllow},
          {{Is(1, F_OFD_SETLK)}, kAllow},
          {{Is(1, F_OFD_SETLKW)}, kAllow}},
         kMonitor);
  // flock: a whole-file lock on a descriptor it holds, as with fcntl's. flock ignores the open
  // mode, so an exclusive one (which holds off every other locker, readers included) needs a write
  // grant; with a read grant only shared ones, as fcntl's read locks.
  std::vector<Branch> flock = {{{Is(1, LOCK_SH)}, kAllow}, {{Is(1, LOCK_SH | LOCK_NB)}, kAllow},
                               {{Is(1, LOCK_UN)}, kAllow}, {{Is(1, LOCK_UN | LOCK_NB)}, kAllow}};
  if (o.file_writes) {
    flock.push_back({{Is(1, LOCK_EX)}, kAllow});
    flock.push_back({{Is(1, LOCK_EX | LOCK_NB)}, kAllow});
  }
  r->Add(__NR_flock, std::move(flock), Errno(EPERM));
  // No ioctl: no inherited terminal exists, and device ioctls are attack surface.
  r->Fail(__NR_ioctl, ENOTTY);
  // Metadata and namespace-changing file calls that Landlock cannot restrict or that a plugin
  // has no business making; libraries probe some of them, so they fail instead of trapping.
  for (int nr : {__NR_getcwd, __NR_readlinkat, __NR_chdir, __NR_fchdir, __NR_fchmod,
                 __NR_fchmodat, __NR_fchown, __NR_fchownat, __NR_utimensat, __NR_setxattr,
                 __NR_lsetxattr, __NR_fsetxattr, __NR_getxattr, __NR_lgetxattr, __NR_fgetxattr,
                 __NR_listxattr, __NR_llistxattr, __NR_flistxattr, __NR_removexattr,
                 __NR_lremovexattr, __NR_fremovexattr, __NR_linkat,
                 __NR_symlinkat, __NR_mknodat, __NR_truncate, __NR_faccessat, __NR_faccessat2,
                 __NR_statfs, __NR_memfd_create, __NR_sysinfo}) {
    r->Fail(nr, EPERM);
  }
#if defined(__x86_64__)
  for (int nr : {__NR_readlink, __NR_chmod, __NR_chown, __NR_lchown, __NR_utime, __NR_utimes,
                 __NR_futimesat, __NR_link, __NR_symlink, __NR_mknod, __NR_access, __NR_stat,
                 __NR_lstat}) {
    r->Fail(nr, EPERM);
  }
#endif
}

void AddProcess(RuleSet* r, const SeccompOptions& o) {
  // Identity and time: harmless queries every libc makes.
  for (int nr : {__NR_getpid, __NR_gettid, __NR_getppid, __NR_getuid, __NR_geteuid, __NR_getgid,
                 __NR_getegid, __NR_getresuid, __NR_getresgid, __NR_uname, __NR_sched_yield,
                 __NR_exit, __NR_exit_group, __NR_restart_syscall, __NR_rt_sigreturn,
                 __NR_rt_sigprocmask, __NR_sigaltstack, __NR_set_robust_list,
                 __NR_set_tid_address, __NR_rseq, __NR_gettimeofday, __NR_wait4, __NR_umask,
                 __NR_getrlimit, __NR_setrlimit}) {
    r->Allow(nr);
  }
  // Clocks: the system clocks and this process's own CPU clocks; ids of other processes' CPU
  // clocks are negative and trap (REDTEAM #37).
  for (int nr : {__NR_clock_gettime, __NR_clock_getres, __NR_clock_nanosleep}) {
    r->Add(nr, {{{Clear(0, ~0xfULL)}, kAllow}}, kMonitor);
  }
  r->Allow(__NR_nanosleep);
  // The SIGSYS handler is the stat emulation; nobody may replace it (REDTEAM #12).
  r->Add(__NR_rt_sigaction, {{{Low32Is(0, SIGSYS)}, kMonitor}}, kAllow);
  // Futexes: the plain operations; PI and requeue-PI fail (REDTEAM #65).
  std::vector<Branch> futex;
  for (int op : {FUTEX_WAIT, FUTEX_WAKE, FUTEX_REQUEUE, FUTEX_CMP_REQUEUE, FUTEX_WAKE_OP,
                 FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET}) {
    futex.push_back({{{1, 0xffffffff00000000ULL | FUTEX_CMD_MASK, static_cast<uint64_t>(op)}},
                     kAllow});
  }
  r->Add(__NR_futex, std::move(futex), Errno(EPERM));
  // getrandom without GRND_RANDOM (draining the blocking pool is nobody's business).
  r->Add(__NR_getrandom, {{{Clear(2, GRND_RANDOM)}, kAllow}}, Errno(EPERM));
  // Own resource limits and usage only (REDTEAM #36, #37). Raising a hard limit needs a
  // capability the sandbox has dropped.
  r->Add(__NR_prlimit64, {{{Is(0, 0)}, kAllow}}, kMonitor);
  r->Add(__NR_getrusage, {{{Is(0, RUSAGE_SELF)}, kAllow}, {{Is(0, RUSAGE_THREAD)}, kAllow}},
         Errno(EPERM));
  r->Add(__NR_sched_getaffinity, {{{Is(0, 0)}, kAllow}}, Errno(EPERM));
  // Scheduling of the calling thread (pid 0): thread pools and runtimes read their policy and
  // priority and some lower it. Never real-time (the template's RLIMIT_RTPRIO and RLIMIT_NICE are
  // 0 too): only the normal, batch and idle policies. Any other target or policy fails softly
  // (REDTEAM #35). sched_setaffinity stays a violation (#34).
  for (int nr : {__NR_sched_getparam, __NR_sched_getscheduler, __NR_sched_setparam}) {
    r->Add(nr, {{{Is(0, 0)}, kAllow}}, Errno(EPERM));
  }
  r->Add(__NR_sched_setscheduler,
         {{{Is(0, 0), Is(1, SCHED_OTHER)}, kAllow},
          {{Is(0, 0), Is(1, SCHED_BATCH)}, kAllow},
          {{Is(0, 0), Is(1, SCHED_IDLE)}, kAllow}},
         Errno(EPERM));
  for (int nr : {__NR_sched_get_priority_max, __NR_sched_get_priority_min}) r->Allow(nr);
  r->Add(__NR_getpriority, {{{Is(0, PRIO_PROCESS), Is(1, 0)}, kAllow}}, Errno(EPERM));
  r->Add(__NR_setpriority, {{{Is(0, PRIO_PROCESS), Is(1, 0)}, kAllow}}, Errno(EPERM));
  // prctl: naming the thread and reading dumpability; PR_SET_PTRACER fails softly (REDTEAM #16).
  r->Add(__NR_prctl,
         {{{Is(0, PR_SET_NAME)}, kAllow},
          {{Is(0, PR_GET_NAME)}, kAllow},
          {{Is(0, PR_GET_DUMPABLE)}, kAllow},
          {{Is(0, PR_SET_NO_NEW_PRIVS), Is(1, 1)}, kAllow},
          // A worker asks to die with the zygote; it only affects the caller.
          {{Is(0, PR_SET_PDEATHSIG), Is(1, SIGKILL)}, kAllow},
          {{Is(0, PR_SET_PTRACER)}, Errno(EPERM)}},
         kMonitor);
  // New processes: none; threads only with a grant (clone, below). clone3 hides its flags in
  // memory, so it answers ENOSYS and libc falls back to clone, whose flags we can see
  // (REDTEAM #6, #7).
  r->Fail(__NR_clone3, ENOSYS);
#ifdef __NR_fork
  r->Fail(__NR_fork, EPERM);
  r->Fail(__NR_vfork, EPERM);
#endif
  // Tightening the sandbox further is always allowed: the worker stacks its run-phase policy
  // and its own Landlock domain with these, and a plugin may add more. A second notification
  // listener would let the plugin answer its own syscalls (REDTEAM #10), so that flag traps.
  r->Add(__NR_seccomp,
         {{{Is(0, SECCOMP_SET_MODE_FILTER),
            Clear(1, SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_SPEC_ALLOW)},
           kAllow}},
         kMonitor);
  for (int nr : {__NR_landlock_create_ruleset, __NR_landlock_add_rule,
                 __NR_landlock_restrict_self}) {
    r->Allow(nr);
  }

  // Workers: the template clones them with one exact flag set and no child stack, and only the
  // monitor knows whether a spawn request is open, so it decides (one clone per request, from the
  // template's main thread only). Threads, with a grant, are glibc's exact flags, and the monitor
  // counts them (how many the grant allows, with or without a pids cgroup); every other clone
  // (fork, vfork, namespaces) fails.
  std::vector<Branch> clone = {{{Is(0, kWorkerCloneFlags), Is(1, 0)}, kMonitor}};
  if (o.threads) clone.push_back({{Is(0, kThreadCloneFlags)}, kMonitor});
  r->Add(__NR_clone, std::move(clone), Errno(EPERM));
  // Signals: only to the caller's own process (raise, abort, pthread_kill), in every phase. A
  // filter cannot know the caller's pid (workers are clones of the template), so the monitor
  // compares the target with the caller's thread-group id (REDTEAM #22, #25). tkill and
  // pidfd_send_signal have no such check and stay denied.
  for (int nr : {__NR_kill, __NR_tgkill, __NR_rt_sigqueueinfo, __NR_rt_tgsigqueueinfo}) {
    r->Add(nr, {}, kMonitor);
  }
  // The template's control socket: spawn requests in, pidfds out. Workers hold no socket.
  r->Add(__NR_recvmsg, {{{Is(0, static_cast<uint64_t>(o.template_sock_fd))}, kAllow}}, kMonitor);
  r->Add(__NR_sendmsg, {{{Is(0, static_cast<uint64_t>(o.template_sock_fd))}, kAllow}}, kMonitor);
}

// A worker's tightening layer. Everything not listed is the boundary's to decide (ALLOW here
// defers to it); refusals are errnos, since only the boundary has a listener.
void AddRunPhase(RuleSet* r) {
  // No new executable mappings once the plugin is loaded, not even read-only ones of readable
  // files (a file in a granted directory could hold code the plugin wrote). The forms the boundary
  // already refuses (writable or anonymous) stay its violations.
  r->Add(__NR_mmap,
         {{{{2, PROT_EXEC | PROT_WRITE, PROT_EXEC}, Clear(3, MAP_ANONYMOUS)}, Errno(EPERM)}}, kAllow);
  // A worker has no control socket.
  r->Fail(__NR_sendmsg, EPERM);
  r->Fail(__NR_recvmsg, EPERM);
}

}  // namespace

std::vector<SyscallRule> BuildSeccompRules(const SeccompOptions& options) {
  RuleSet r;
  if (options.phase == SeccompPhase::kRun) {
    AddRunPhase(&r);
    return r.Take();
  }
  AddProcess(&r, options);
  AddMemory(&r);
  AddFiles(&r, options);
  return r.Take();
}

bool CompileSeccomp(const SeccompOptions& options, std::vector<struct sock_filter>* program) {
  const uint32_t otherwise = options.phase == SeccompPhase::kRun ? kAllow : kMonitor;
  return CompileBpf(kNativeAuditArch, BuildSeccompRules(options), otherwise, program);
}

int InstallSeccomp(const SeccompOptions& options) {
  std::vector<struct sock_filter> program;
  if (!CompileSeccomp(options, &program)) return -E2BIG;
  struct sock_fprog prog = {static_cast<unsigned short>(program.size()), program.data()};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
  // Both callers are single-threaded here (a fresh fork of the zygote, a fresh clone of the
  // template), so no TSYNC: the kernel refuses it together with NEW_LISTENER on older kernels.
  const unsigned flags = options.phase == SeccompPhase::kLoad ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
  long rc = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (rc < 0) return -errno;
  return options.phase == SeccompPhase::kLoad ? static_cast<int>(rc) : 0;
}

}  // namespace bulkhead
