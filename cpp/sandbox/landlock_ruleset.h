// landlock_ruleset.h: builds and enforces a Landlock domain at the best ABI the kernel offers.
//
// Every filesystem right the ABI knows is handled (so denied unless a rule grants it), TCP bind and
// connect are handled with no port granted (ABI 4+), and abstract UNIX sockets and signals are
// scoped to the domain (ABI 6+). A grant is a path plus read-only, read-and-execute or
// read-and-write rights.
#ifndef BULKHEAD_SANDBOX_LANDLOCK_RULESET_H
#define BULKHEAD_SANDBOX_LANDLOCK_RULESET_H

#include <string>
#include <vector>

namespace bulkhead {

struct PathGrant {
  std::string path;
  bool execute = false;  // read + execute (libraries); otherwise read-only
  // Read + write: write files, create regular files and directories, remove them, and truncate
  // (ABI 3+). Never links, renames across directories (REFER), device nodes, FIFOs, sockets or
  // symlinks.
  bool write = false;
};

// The kernel's Landlock ABI version, or -errno (ENOSYS: no kernel support; EOPNOTSUPP: built in
// but disabled at boot; EPERM: refused by an outer seccomp profile).
int LandlockAbi();

// Creates a ruleset, adds the grants (missing paths are skipped), and restricts the calling
// thread. Requires no_new_privs. Returns the ABI enforced (>= 1) or -errno; the ruleset fd is
// closed before returning, whatever happens. `min_abi` makes a weaker kernel an error (-ENOTSUP).
int EnforceLandlock(const std::vector<PathGrant>& grants, int min_abi);

// Why a process that asked for `min_abi` (0: none) and holds file grants or not cannot go on with
// EnforceLandlock's result `rc`, or "" when it can. "No Landlock here" (not built: ENOSYS, not
// booted: EOPNOTSUPP, refused by an outer seccomp profile: EPERM, as container profiles from
// before Landlock do) is acceptable only to a spec asking for none and granting no files:
// seccomp lets opens through once paths are granted, and only Landlock keeps them to those paths.
std::string LandlockShortfall(int rc, int min_abi, bool file_grants);

}  // namespace bulkhead

#endif
