// cgroup_delegation.h: the opt-in by which a host that owns its cgroup v2 subtree (a container's
// cgroup namespace root, a systemd unit with Delegate=yes) gives bulkhead v2 controllers: its
// cgroup's processes move into a leaf, kHostLeaf, and the cgroup enables them for its children.
//
// Why a leaf: cgroup v2 enables a controller for a cgroup's children (cgroup.subtree_control) only
// while the cgroup itself holds no process (the no-internal-processes rule; the root is exempt).
// The host's cgroup holds the host, so per-plugin limits need the host moved out of it first.
#ifndef BULKHEAD_MONITOR_CGROUP_DELEGATION_H
#define BULKHEAD_MONITOR_CGROUP_DELEGATION_H

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace bulkhead {

// The leaf a delegated cgroup's processes live in; plugin cgroups go beside it.
inline constexpr char kHostLeaf[] = "bulkhead-host";

// For a process in cgroup `own` (a /proc/<pid>/cgroup v2 path): the cgroup its plugin cgroups go
// beneath with v2 controllers, i.e. `own`'s parent when `own` is a kHostLeaf, and "/" for "/";
// nullopt otherwise (there the no-internal-processes rule keeps controllers from children).
std::optional<std::string> DelegatedRoot(const std::string& own);

struct DelegationResult {
  std::string root;   // the cgroup directory delegated
  std::string error;  // set when the processes could not all be moved; then nothing is enabled
  std::vector<pid_t> moved;  // processes moved into root/kHostLeaf
  std::vector<std::string> enabled;  // of the controllers asked for, those on for root's children
  std::vector<std::string> reasons;  // why each other one is not, "memory: ..."
};

// Makes root/kHostLeaf, moves every process of root into it (in rounds, for processes that fork
// meanwhile), then enables each of `controllers` in root/cgroup.subtree_control. Idempotent: a
// root already delegated has nothing to move. The hierarchy's real root needs no leaf (it is
// exempt from the rule): there only the controllers are enabled.
DelegationResult DelegateCgroup(const std::string& root, const std::vector<std::string>& controllers);

// DelegateCgroup for this process's own cgroup, or for the cgroup above it when it is already in a
// kHostLeaf (delegated before: by an earlier call, or by the container's entrypoint).
DelegationResult DelegateOwnCgroup(const std::vector<std::string>& controllers);

// Where this process's cgroup v2 cgroup is mounted (from /proc/self/cgroup and mountinfo), as a
// directory; nullopt with *why when no cgroup2 mount reaches it.
std::optional<std::string> OwnUnifiedDir(std::string* why);

}  // namespace bulkhead

#endif  // BULKHEAD_MONITOR_CGROUP_DELEGATION_H
