// cgroup_delegation.cc: moving a cgroup's processes into a leaf and enabling v2 controllers for
// its children (see the header for why).
#include "monitor/cgroup_delegation.h"

#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <string_view>

#include "monitor/cgroup_fs.h"
#include "monitor/cgroup_probe.h"

namespace bulkhead {
namespace {

// Rounds of moving before giving up on a cgroup whose processes keep forking into it.
constexpr int kMoveRounds = 64;

bool Has(const std::vector<std::string>& v, const std::string& w) {
  return std::find(v.begin(), v.end(), w) != v.end();
}

}  // namespace

std::optional<std::string> DelegatedRoot(const std::string& own) {
  if (own == "/") return own;
  const size_t slash = own.rfind('/');
  if (slash == std::string::npos || own.compare(slash + 1, std::string::npos, kHostLeaf) != 0) {
    return std::nullopt;
  }
  return slash == 0 ? std::string("/") : own.substr(0, slash);
}

DelegationResult DelegateCgroup(const std::string& root, const std::vector<std::string>& controllers) {
  DelegationResult r;
  r.root = root;
  const std::string leaf = root + "/" + kHostLeaf;
  // The hierarchy's real root (the only cgroup without cgroup.type; a cgroup namespace's "/" has
  // one) is exempt from the rule: nothing moves, the whole machine's processes least of all.
  const bool real_root = access((root + "/cgroup.type").c_str(), F_OK) != 0;
  const int e = real_root ? (access(root.c_str(), W_OK) == 0 ? 0 : errno) : MakeCgroupDir(leaf);
  if (e != 0 && e != EEXIST) {
    r.error = (real_root ? "cannot create cgroups in " + root : "cannot create " + leaf) + " (" +
              ErrnoName(e) + "): " + root + " is not writable by this user, or not delegated to it";
    return r;
  }
  for (int round = 0; !real_root; round++) {
    int read_err = 0;
    if (!ReadCgroupFile(root + "/cgroup.procs", &read_err)) {
      r.error = "cannot read " + root + "/cgroup.procs (" + ErrnoName(read_err) + ")";
      return r;
    }
    const std::vector<pid_t> left = CgroupPids(root);
    if (left.empty()) break;
    if (round == kMoveRounds) {
      r.error = "processes kept appearing in " + root + " (" + std::to_string(left.size()) +
                " after " + std::to_string(kMoveRounds) + " rounds of moving them)";
      return r;
    }
    for (pid_t pid : left) {
      const int e = WriteCgroupFile(leaf + "/cgroup.procs", std::to_string(pid));
      if (e == 0) {
        r.moved.push_back(pid);
      } else if (e != ESRCH) {  // ESRCH: it exited meanwhile
        r.error = "cannot move process " + std::to_string(pid) + " from " + root + " into " + leaf +
                  " (" + ErrnoName(e) + "): the cgroup holds processes this user may not move";
        return r;
      }
    }
  }
  const std::optional<std::string> offered = ReadCgroupFile(root + "/cgroup.controllers");
  const std::vector<std::string> offers = offered ? Words(*offered) : std::vector<std::string>{};
  for (const std::string& c : controllers) {
    if (!Has(offers, c)) {
      std::string list;
      for (const std::string& o : offers) list += (list.empty() ? "" : " ") + o;
      r.reasons.push_back(c + ": " + root + "/cgroup.controllers does not offer it (" +
                          (list.empty() ? std::string("empty") : list) +
                          "); its parent must enable it, or it is bound to a cgroup v1 hierarchy");
      continue;
    }
    if (const int e = EnableForChildren(root, c); e == 0) {
      r.enabled.push_back(c);
    } else {
      r.reasons.push_back(c + ": cannot enable it in " + root + "/cgroup.subtree_control (" +
                          ErrnoName(e) + ")");
    }
  }
  return r;
}

DelegationResult DelegateOwnCgroup(const std::vector<std::string>& controllers) {
  std::string why;
  std::optional<std::string> dir = OwnUnifiedDir(&why);
  if (!dir) {
    DelegationResult r;
    r.error = why;
    return r;
  }
  const std::string leaf_suffix = std::string("/") + kHostLeaf;
  if (dir->size() > leaf_suffix.size() &&
      dir->compare(dir->size() - leaf_suffix.size(), leaf_suffix.size(), leaf_suffix) == 0) {
    dir->resize(dir->size() - leaf_suffix.size());
  }
  return DelegateCgroup(*dir, controllers);
}

std::optional<std::string> OwnUnifiedDir(std::string* why) {
  int err = 0;
  const std::optional<std::string> own = ReadCgroupFile("/proc/self/cgroup", &err);
  const std::optional<std::string> mounts = own ? ReadCgroupFile("/proc/self/mountinfo", &err) : std::nullopt;
  if (!own || !mounts) {
    *why = "cannot read /proc/self/cgroup or /proc/self/mountinfo (" + ErrnoName(err) + ")";
    return std::nullopt;
  }
  const OwnCgroups ids = ParseProcCgroup(*own);
  if (!ids.v2) {
    *why = "this process has no cgroup v2 cgroup (no \"0::\" line in /proc/self/cgroup)";
    return std::nullopt;
  }
  const CgroupView view{
      [](const std::string& p) { return access(p.c_str(), F_OK) == 0; },
      [](const std::string& p) { return ReadCgroupFile(p); },
  };
  std::optional<std::string> dir = ReachableDir(ParseMountinfo(*mounts), *ids.v2, "cgroup2", "", view);
  if (!dir) *why = "no cgroup2 mount shows this process's cgroup " + *ids.v2;
  return dir;
}

}  // namespace bulkhead
