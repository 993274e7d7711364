// landlock_ruleset.cc: Landlock via raw syscalls, with the uapi constants newer than the build
// machine's headers defined here (Debian 12's headers stop at ABI 3).
#include "sandbox/landlock_ruleset.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace bulkhead {
namespace {

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
constexpr uint64_t kNetBindTcp = 1ULL << 0;
constexpr uint64_t kNetConnectTcp = 1ULL << 1;
constexpr uint64_t kScopeAbstractUnixSocket = 1ULL << 0;
constexpr uint64_t kScopeSignal = 1ULL << 1;

// The ruleset attribute as of ABI 6; the kernel reads only the size we pass.
struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

struct PathBeneathAttr {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));

constexpr uint64_t kFsRead = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
constexpr uint64_t kFsExecute = LANDLOCK_ACCESS_FS_EXECUTE;
constexpr uint64_t kFsWrite = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG |
                              LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
                              LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_TRUNCATE;
// The rights that apply to a file itself; the rest apply to directories only.
constexpr uint64_t kFsFileRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                   LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
                                   LANDLOCK_ACCESS_FS_IOCTL_DEV;

uint64_t HandledFs(int abi) {
  uint64_t fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;  // ABI 1: bits 0..12
  if (abi >= 2) fs |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
  if (abi >= 5) fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  return fs;
}

}  // namespace

int LandlockAbi() {
  long abi = syscall(__NR_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi < 0 ? -errno : static_cast<int>(abi);
}

int EnforceLandlock(const std::vector<PathGrant>& grants, int min_abi) {
  int abi = LandlockAbi();
  if (abi < 0) return abi;
  if (abi < min_abi) return -ENOTSUP;
  RulesetAttr attr{};
  attr.handled_access_fs = HandledFs(abi);
  size_t attr_size = sizeof(uint64_t);
  if (abi >= 4) {
    attr.handled_access_net = kNetBindTcp | kNetConnectTcp;  // no port is ever granted
    attr_size = 2 * sizeof(uint64_t);
  }
  if (abi >= 6) {
    attr.scoped = kScopeAbstractUnixSocket | kScopeSignal;
    attr_size = sizeof attr;
  }
  int ruleset = static_cast<int>(syscall(__NR_landlock_create_ruleset, &attr, attr_size, 0));
  if (ruleset < 0) return -errno;
  int result = abi;
  for (const PathGrant& g : grants) {
    int fd = open(g.path.c_str(), O_PATH | O_CLOEXEC);
    // Beneath the boundary policy (a worker's own domain) O_PATH is refused; an ordinary read-only
    // open of the same path does as well, and the outer domain already grants reading it.
    if (fd < 0 && errno == EPERM) fd = open(g.path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) continue;  // a path that does not exist grants nothing
    PathBeneathAttr pb{};
    pb.parent_fd = fd;
    // A right the ruleset does not handle is EINVAL (TRUNCATE before ABI 3).
    pb.allowed_access =
        (kFsRead | (g.execute ? kFsExecute : 0) | (g.write ? kFsWrite : 0)) & attr.handled_access_fs;
    // Directory-only rights on a file are EINVAL; retry with the file rights alone.
    long rc = syscall(__NR_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
    if (rc != 0 && errno == EINVAL) {
      pb.allowed_access &= kFsFileRights;
      rc = syscall(__NR_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
    }
    int saved = errno;
    close(fd);
    if (rc != 0) {
      result = -saved;
      break;
    }
  }
  if (result > 0 && syscall(__NR_landlock_restrict_self, ruleset, 0) != 0) result = -errno;
  close(ruleset);
  return result;
}

std::string LandlockShortfall(int rc, int min_abi, bool file_grants) {
  if (rc >= 0) return "";
  const bool none_here = rc == -ENOSYS || rc == -EOPNOTSUPP || rc == -EPERM;
  if (min_abi > 0 || !none_here) return std::string("landlock: ") + strerror(-rc);
  if (file_grants) return "file grants need Landlock, which is unavailable here";
  return "";
}

}  // namespace bulkhead
