// cgroup_probe.h: which cgroup hierarchy can hold each controller (memory, cpu, pids) beneath the
// host's own cgroup, and why not where none can; plain C++ so the monitor and the addon share it.
//
// Where each kind of hierarchy can help, and why:
// - v1 (one hierarchy per controller, or a few co-mounted): any writable directory beneath the
//   host's cgroup can hold a plugin process, which joins one directory per hierarchy.
// - v2 controllers: a cgroup offers a controller to its children only through
//   cgroup.subtree_control, and the no-internal-processes rule refuses that (EBUSY) for any cgroup
//   holding processes except the root. The host sits in its own cgroup, so v2 limits beneath it
//   work only when that cgroup is the root, or when the host opted in to delegation, which moved
//   it into a leaf (cgroup_delegation.h): then plugin cgroups go beside the leaf.
// - v2 without controllers: any cgroup may have children, so plugin processes still join a v2
//   cgroup where the unified hierarchy is writable, which gives cgroup.kill (a race-free kill of a
//   whole tree) and cpu.stat (CPU time, counted without the cpu controller), even on hybrid machines.
//
// The parsers and the planner are pure (text in, struct out); only ProbeCgroups touches the system.
#ifndef BULKHEAD_MONITOR_CGROUP_PROBE_H
#define BULKHEAD_MONITOR_CGROUP_PROBE_H

#include <stdint.h>
#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead {

enum class CgroupVersion : uint8_t { kNone = 0, kV1 = 1, kV2 = 2 };

struct CgroupHierarchy {
  CgroupVersion version = CgroupVersion::kNone;
  std::string dir;  // the host's own cgroup in this hierarchy; bulkhead-<host pid> goes beneath
  bool usable() const { return version != CgroupVersion::kNone; }
};

struct CgroupSupport {
  pid_t host_pid = 0;
  CgroupHierarchy memory;
  CgroupHierarchy cpu;
  CgroupHierarchy pids;
  CgroupHierarchy cpu_usage;  // v1 cpuacct where it exists, else the unified hierarchy
  CgroupHierarchy unified;    // the v2 cgroup every plugin process joins, controllers or not
  bool kill_supported = false;  // unified children have cgroup.kill (Linux 5.14+)
  // Why a controller or cgroup.kill is unavailable, in words, each prefixed "memory:", "cpu:",
  // "pids:", "cgroup.kill:" or "cgroups:".
  std::vector<std::string> reasons;
};

// One cgroup or cgroup2 line of a mountinfo file.
struct CgroupMount {
  std::string root;   // the part of the hierarchy this mount shows ("/" unless a bind mount)
  std::string point;  // where it is mounted
  std::string fstype;  // "cgroup" or "cgroup2"
  std::vector<std::string> options;  // super options: the v1 controllers ("memory", "cpu", ...)
};

// A process's cgroups, from /proc/<pid>/cgroup.
struct OwnCgroups {
  std::optional<std::string> v2;            // the "0::" line
  std::map<std::string, std::string> v1;    // controller (or "name=systemd") -> path
};

// What the mount table and the host's cgroups allow, before anything is tried on the filesystem.
struct CgroupCandidate {
  CgroupVersion version = CgroupVersion::kNone;
  std::string dir;
  std::string reason;  // set where version is kNone
};

struct CgroupPlan {
  std::optional<std::string> unified_dir;
  std::string unified_reason;  // set where unified_dir is empty
  std::vector<std::string> v2_offers;  // unified_dir/cgroup.controllers
  CgroupCandidate memory;
  CgroupCandidate cpu;
  CgroupCandidate pids;
  std::optional<std::string> cpuacct_dir;
};

// The filesystem questions the planner asks, so fixtures can answer them.
struct CgroupView {
  std::function<bool(const std::string& path)> exists;
  std::function<std::optional<std::string>(const std::string& path)> read;
};

// mountinfo escapes space, tab, newline and backslash as \ooo octal.
std::string UnescapeMountField(std::string_view field);

// The cgroup and cgroup2 mounts of a mountinfo text; other lines and malformed ones are skipped.
std::vector<CgroupMount> ParseMountinfo(std::string_view text);

// The v2 path and the v1 path of each controller; malformed lines are skipped.
OwnCgroups ParseProcCgroup(std::string_view text);

// Where cgroup path `own` lives under mount `m`; nullopt when the mount shows another part of the
// hierarchy (a container's bind mount of its own subtree, say).
std::optional<std::string> DirInMount(const CgroupMount& m, const std::string& own);

// The first mount of `fstype` (holding `controller`, if not empty) that shows `own` where it exists.
std::optional<std::string> ReachableDir(const std::vector<CgroupMount>& mounts,
                                        const std::string& own, std::string_view fstype,
                                        std::string_view controller, const CgroupView& view);

// Which hierarchy each controller would use, or why none can. v2 controllers are planned only
// where the host's v2 cgroup is "/" or a delegation leaf; ProbeCgroups still tries them (a cgroup
// namespace's "/" is not the real root).
CgroupPlan PlanCgroups(const std::vector<CgroupMount>& mounts, const OwnCgroups& own,
                       const CgroupView& view);

// Plans from /proc/<host_pid>/cgroup and /proc/self/mountinfo, then tries each candidate: makes a
// trial directory beneath the host's cgroup in each hierarchy (bulkhead-<host>-probe-<own pid>, so
// a probe never touches a live host directory), checks the limit file a child shows, enables v2
// controllers for children where it can, and removes the trial directories. Enabling a v2
// controller in the host's cgroup (the root) is its one lasting effect.
CgroupSupport ProbeCgroups(pid_t host_pid);

// The words of a cgroup file's text (cgroup.controllers, cgroup.subtree_control).
std::vector<std::string> Words(std::string_view s);

// Turns controller `c` on for the children of v2 cgroup `dir`; 0 or errno (EBUSY while `dir`
// holds processes). One already on is left alone.
int EnableForChildren(const std::string& dir, std::string_view c);

// "EACCES" and the like, for reasons; "errno N" for the rest.
std::string ErrnoName(int err);

}  // namespace bulkhead

#endif  // BULKHEAD_MONITOR_CGROUP_PROBE_H
