// cgroup_tree.h: the monitor's cgroups, a directory bulkhead-<host pid>/p<plugin> per plugin and
// .../p<plugin>/w<worker> per worker in every usable hierarchy, with limits, placement, accounting,
// kill and removal, each answering with a typed CgroupResult.
//
// Shape, and why: the plugin cgroup bounds every process of a plugin (template, workers, anything
// they start) from its first instruction, so its memory and pids limits cover the whole plugin; a
// worker cgroup adds the worker's own memory, cpu and pids limits and makes it killable and
// accountable alone. v1 lets a process live in a non-leaf cgroup, so the template lives in
// p<plugin>; v2 forbids that wherever controllers are enabled (the no-internal-processes rule), so
// there the template lives in the leaf p<plugin>/t. PlacePluginProcess hides the difference.
//
// Nothing here sleeps: removal of a cgroup that still holds a process answers kBusy, and the
// caller retries from its poll loop once it has reaped the process. Not thread-safe; the monitor
// is single-threaded. Plugin processes must not be able to write cgroupfs (Landlock denies it), so
// the directories keep the shape this class gave them.
#ifndef BULKHEAD_MONITOR_CGROUP_TREE_H
#define BULKHEAD_MONITOR_CGROUP_TREE_H

#include <stdint.h>
#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "monitor/cgroup_probe.h"

namespace bulkhead {

enum class CgroupStatus : uint8_t {
  kOk = 0,
  kUnavailable = 1,  // no usable hierarchy for it: the limit is not applied, nothing was done
  kBusy = 2,         // still holds processes (or they still fork): retry after reaping them
  kInvalid = 3,      // a limit out of range, or an unknown plugin or worker: a caller bug
  kFailed = 4,       // the kernel refused; err and reason say why
};

// Modelled on sandbox2's Result: a status to branch on, the errno behind it, words for people.
struct CgroupResult {
  CgroupStatus status = CgroupStatus::kOk;
  int err = 0;
  std::string reason;
  bool ok() const { return status == CgroupStatus::kOk; }
};

// Limits for one cgroup; 0 means not asked. The caller validates (lib/ does, with its messages);
// out-of-range values answer kInvalid here.
struct CgroupLimits {
  uint64_t memory_bytes = 0;       // >= 4096 (one page; the kernel rounds down to pages)
  uint32_t cpu_quota_percent = 0;  // 1..kMaxCpuQuotaPercent, of one CPU, per 100 ms period
  uint32_t pids_max = 0;           // 1..kMaxPids tasks (threads count): 1 + threads for a worker
};

constexpr uint64_t kMinMemoryBytes = 4096;
// 4096 CPUs: more than any machine this runs on, and far inside what the kernel accepts.
constexpr uint32_t kMaxCpuQuotaPercent = 409600;
// The kernel rejects pids.max at or above PID_MAX_LIMIT + 1.
constexpr uint32_t kMaxPids = 4194304;
constexpr uint32_t kCpuPeriodUs = 100000;
// Bounds the kill loop without cgroup.kill; each round signals every pid forked since the last
// one, and pids.max bounds those.
constexpr int kKillRounds = 64;

// One result per limit: kOk where it holds (or was not asked), kUnavailable where its controller
// is not usable here, kFailed where the kernel refused the value.
struct CgroupLimitResults {
  CgroupResult memory;
  CgroupResult cpu;
  CgroupResult pids;
  // The first limit that was asked for and does not hold, or ok: what the monitor refuses to run
  // a process without (fail closed), whatever the host's probe believed.
  CgroupResult FirstUnapplied() const {
    for (const CgroupResult* r : {&memory, &cpu, &pids}) {
      if (!r->ok()) return *r;
    }
    return {};
  }
};

// What the kernel counted for one cgroup and everything beneath it; nullopt where this kernel or
// hierarchy does not count it.
struct CgroupUsage {
  // Processes the OOM killer killed. On v1 before Linux 4.13 (no oom_kill count) it is 1 once the
  // limit was ever hit, the closest sign left. 0 without a memory cgroup.
  uint64_t oom_kills = 0;
  std::optional<uint64_t> memory_peak_bytes;  // v2 before Linux 5.19: none
  std::optional<uint64_t> cpu_usage_ns;       // v1 cpuacct.usage where joined, else v2 cpu.stat
  std::optional<uint64_t> pids_peak;          // before Linux 6.1: none
  std::optional<uint64_t> pids_max_events;    // forks and clones refused by pids.max
};

class CgroupTree {
 public:
  // Acts on what `support` found; touches nothing until Prepare or AddPlugin.
  explicit CgroupTree(const CgroupSupport& support);
  ~CgroupTree();  // closes its descriptors; removes nothing (RemoveHost does)
  CgroupTree(const CgroupTree&) = delete;
  CgroupTree& operator=(const CgroupTree&) = delete;

  const CgroupSupport& support() const { return support_; }

  // Makes bulkhead-<host pid> in every hierarchy (enabling the v2 controllers for its children) and
  // removes the empty cgroups a previous monitor of this host left in it. AddPlugin calls it once if
  // the caller has not; call it before any plugin exists. kUnavailable lists what it had to drop,
  // which support().reasons then lists too.
  CgroupResult Prepare();

  // Makes p<plugin> with `limits` for the whole plugin (plus p<plugin>/t on v2). kUnavailable when
  // no hierarchy is usable (the plugin is still known, so later calls answer kUnavailable too).
  CgroupResult AddPlugin(uint32_t plugin, const CgroupLimits& limits, CgroupLimitResults* applied);

  // Makes p<plugin>/w<worker> with the worker's own limits.
  CgroupResult AddWorker(uint32_t plugin, uint32_t worker, const CgroupLimits& limits,
                         CgroupLimitResults* applied);

  // Moves `pid` (all its threads) into the plugin's process cgroup in every hierarchy: p<plugin>
  // on v1, p<plugin>/t on v2. Call it before the process runs plugin code: memory charged before
  // stays where it was, and children forked between the per-hierarchy writes stay behind.
  CgroupResult PlacePluginProcess(uint32_t plugin, pid_t pid);

  // Moves `pid` into p<plugin>/w<worker> in every hierarchy that worker joined.
  CgroupResult PlaceWorker(uint32_t plugin, uint32_t worker, pid_t pid);

  // The v2 directory a process would be placed in, for clone3(CLONE_INTO_CGROUP); -1 where there
  // is none. Owned by the tree, valid until the cgroup is removed.
  int PluginProcessCgroupFd(uint32_t plugin) const;
  int WorkerCgroupFd(uint32_t plugin, uint32_t worker) const;

  CgroupResult ReadPluginUsage(uint32_t plugin, CgroupUsage* out) const;
  CgroupResult ReadWorkerUsage(uint32_t plugin, uint32_t worker, CgroupUsage* out) const;

  // SIGKILLs every process in the cgroup and beneath it, and nothing outside: one cgroup.kill
  // write where v2 has it, else rounds of signalling what cgroup.procs lists until a round finds
  // no pid not yet signalled (at most kKillRounds; kBusy if they still fork after that).
  CgroupResult KillPlugin(uint32_t plugin);
  CgroupResult KillWorker(uint32_t plugin, uint32_t worker);

  // rmdir in every hierarchy, leaves first. kBusy while a process is still in it (the parts
  // already removed stay removed; call again after reaping). Removing what is gone is kOk.
  CgroupResult RemoveWorker(uint32_t plugin, uint32_t worker);
  CgroupResult RemovePlugin(uint32_t plugin);  // its workers first
  CgroupResult RemoveHost();                   // every plugin, then bulkhead-<host pid>

 private:
  struct Hierarchy {
    CgroupVersion version;
    std::string dir;  // bulkhead-<host pid> beneath the host's own cgroup
    bool memory = false, cpu = false, pids = false, cpu_usage = false, unified = false;
    bool usable = true;  // false once Prepare could not make its directory
    bool CpuOnly() const { return !memory && !pids && !unified; }
  };
  struct Node {
    std::vector<size_t> joined;          // indices into hierarchies_
    std::vector<std::string> dirs;       // the cgroup in each joined hierarchy
    std::vector<std::string> proc_dirs;  // where its processes go (dirs, or dirs/t on v2)
    int v2_fd = -1;
  };
  struct Plugin {
    Node node;
    std::vector<std::string> extra_dirs;  // p<plugin> in cpu hierarchies only its workers use
    std::map<uint32_t, Node> workers;
  };

  const Plugin* FindPlugin(uint32_t plugin) const;
  const Node* FindWorker(uint32_t plugin, uint32_t worker) const;
  // `rel`: p<plugin> or p<plugin>/w<worker>, beneath each hierarchy's bulkhead-<host pid>.
  CgroupResult MakeNode(const std::string& rel, const CgroupLimits& limits, bool plugin_level,
                        Plugin* parent, Node* node, CgroupLimitResults* applied);
  CgroupResult Place(const Node& node, pid_t pid) const;
  CgroupResult ReadUsage(const Node& node, CgroupUsage* out) const;
  CgroupResult KillAll(const Node& node, int depth) const;
  CgroupResult RemoveNode(Node* node);

  CgroupSupport support_;
  std::string host_name_;  // bulkhead-<host pid>
  std::vector<Hierarchy> hierarchies_;
  bool prepared_ = false;
  std::map<uint32_t, Plugin> plugins_;
};

// Removes the empty bulkhead-<pid> directories (and bulkhead-<pid>-probe-<n> trial directories) of
// hosts that died without cleaning up, beneath the host's own cgroup in every hierarchy of
// `support`; returns how many went. A host whose pid is alive keeps its directory (even when that
// pid now belongs to another process: a leftover costs less than a wrong removal).
int ReapStaleHosts(const CgroupSupport& support);

// The same in one directory `parent`, sparing `self`.
int ReapStaleHostsIn(const std::string& parent, pid_t self);

}  // namespace bulkhead

#endif  // BULKHEAD_MONITOR_CGROUP_TREE_H
