// stat_emulation.h: the SIGSYS handler that answers the trapped fstatat/statx calls with fstat().
//
// glibc's fstat() is fstatat(fd, "", AT_EMPTY_PATH), and a seccomp filter cannot see whether a
// path is empty, so the boundary policy traps both calls here (SECCOMP_RET_TRAP). An empty path
// with AT_EMPTY_PATH on a descriptor becomes fstat(fd) (statx's buffer is filled from it); every
// other form fails with EPERM without a path lookup, so neither metadata nor existence of any
// path shows. The handler is plugin-reachable code in a hostile process: it only ever calls
// fstat() on a descriptor the caller already holds, so subverting it gains nothing. A SIGSYS that
// is not a seccomp trap (the plugin's own raise) ends the process by SIGSYS: a crash.
#ifndef BULKHEAD_ZYGOTE_STAT_EMULATION_H
#define BULKHEAD_ZYGOTE_STAT_EMULATION_H

namespace bulkhead {

// Installs the handler. Call before the boundary policy (which denies replacing it).
bool InstallStatEmulation();

}  // namespace bulkhead

#endif
