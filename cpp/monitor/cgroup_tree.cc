// cgroup_tree.cc: the plugin and worker cgroups. The limit details follow lib/cgroup.ts: memory caps
// swap too, cpu quotas use a 100 ms period, and cpu-only hierarchies are joined only for a quota
// (each hierarchy joined is one more cgroup.procs write on the spawn path).
#include "monitor/cgroup_tree.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <set>

#include "monitor/cgroup_fs.h"

namespace bulkhead {
namespace {

constexpr const char* kTemplateLeaf = "t";

CgroupResult Result(CgroupStatus status, int err, std::string reason) {
  return CgroupResult{status, err, std::move(reason)};
}

CgroupResult Failed(int err, const std::string& what) {
  return Result(err == EBUSY ? CgroupStatus::kBusy : CgroupStatus::kFailed, err,
                what + " (" + ErrnoName(err) + ")");
}

int Severity(CgroupStatus s) {
  switch (s) {
    case CgroupStatus::kOk: return 0;
    case CgroupStatus::kUnavailable: return 1;
    case CgroupStatus::kBusy: return 2;
    case CgroupStatus::kFailed: return 3;
    case CgroupStatus::kInvalid: return 4;
  }
  return 4;
}

// Keeps the most severe status and every reason.
void Merge(CgroupResult* acc, const CgroupResult& r) {
  if (r.ok()) return;
  if (Severity(r.status) > Severity(acc->status)) {
    acc->status = r.status;
    acc->err = r.err;
  }
  acc->reason += (acc->reason.empty() ? "" : "; ") + r.reason;
}

std::string PluginName(uint32_t plugin) { return "p" + std::to_string(plugin); }
std::string WorkerName(uint32_t worker) { return "w" + std::to_string(worker); }

CgroupResult CheckLimits(const CgroupLimits& l) {
  if (l.memory_bytes != 0 && l.memory_bytes < kMinMemoryBytes) {
    return Result(CgroupStatus::kInvalid, EINVAL, "memory limit below one page");
  }
  if (l.cpu_quota_percent > kMaxCpuQuotaPercent) {
    return Result(CgroupStatus::kInvalid, EINVAL, "cpu quota above " +
                  std::to_string(kMaxCpuQuotaPercent) + "%");
  }
  if (l.pids_max > kMaxPids) {
    return Result(CgroupStatus::kInvalid, EINVAL, "pids limit above " + std::to_string(kMaxPids));
  }
  return {};
}

int Write(const std::string& dir, const char* file, const std::string& value) {
  return WriteCgroupFile(dir + "/" + file, value);
}

std::optional<std::string> Read(const std::string& dir, const char* file) {
  return ReadCgroupFile(dir + "/" + file);
}

CgroupResult WriteResult(const std::string& dir, const char* file, const std::string& value) {
  const int err = Write(dir, file, value);
  return err == 0 ? CgroupResult{} : Failed(err, "cannot write " + value + " to " + dir + "/" + file);
}

// `oom_group`: on v2 the OOM killer then takes every process of the cgroup rather than one. Set
// for a worker; not for a plugin, where it would take the template with the worker that overran.
CgroupResult ApplyMemory(CgroupVersion v, const std::string& dir, uint64_t bytes, bool oom_group) {
  const std::string value = std::to_string(bytes);
  if (v == CgroupVersion::kV2) {
    CgroupResult r = WriteResult(dir, "memory.max", value);
    if (!r.ok()) return r;
    // Swap would let the cgroup keep its excess.
    Write(dir, "memory.swap.max", "0");
    if (oom_group) Write(dir, "memory.oom.group", "1");
    return r;
  }
  CgroupResult r = WriteResult(dir, "memory.limit_in_bytes", value);
  if (!r.ok()) return r;
  // memsw exists only with swap accounting; without it swappiness 0 is the only brake on swapping.
  Write(dir, "memory.memsw.limit_in_bytes", value);
  Write(dir, "memory.swappiness", "0");
  return r;
}

CgroupResult ApplyCpu(CgroupVersion v, const std::string& dir, uint32_t percent) {
  const uint64_t quota = (static_cast<uint64_t>(percent) * kCpuPeriodUs + 50) / 100;
  if (v == CgroupVersion::kV2) {
    return WriteResult(dir, "cpu.max", std::to_string(quota) + " " + std::to_string(kCpuPeriodUs));
  }
  CgroupResult r = WriteResult(dir, "cpu.cfs_period_us", std::to_string(kCpuPeriodUs));
  return r.ok() ? WriteResult(dir, "cpu.cfs_quota_us", std::to_string(quota)) : r;
}

bool Alive(pid_t pid) { return kill(pid, 0) == 0 || errno == EPERM; }

void CollectPids(const std::string& dir, int depth, std::set<pid_t>* out) {
  for (pid_t p : CgroupPids(dir)) out->insert(p);
  if (depth <= 0) return;
  for (const std::string& child : CgroupChildren(dir)) CollectPids(dir + "/" + child, depth - 1, out);
}

// The host pid in "bulkhead-<pid>" or "bulkhead-<pid>-probe-<pid>"; 0 for any other name.
pid_t HostPidOf(const std::string& name) {
  const std::string prefix = "bulkhead-";
  if (name.compare(0, prefix.size(), prefix) != 0) return 0;
  size_t i = prefix.size();
  uint64_t pid = 0;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9' && pid <= INT32_MAX) {
    pid = pid * 10 + static_cast<uint64_t>(name[i++] - '0');
  }
  if (i == prefix.size() || pid == 0 || pid > INT32_MAX) return 0;
  if (i == name.size()) return static_cast<pid_t>(pid);
  const std::string probe = "-probe-";
  if (name.compare(i, probe.size(), probe) != 0 || i + probe.size() == name.size()) return 0;
  for (size_t j = i + probe.size(); j < name.size(); j++) {
    if (name[j] < '0' || name[j] > '9') return 0;
  }
  return static_cast<pid_t>(pid);
}

}  // namespace

CgroupTree::CgroupTree(const CgroupSupport& support)
    : support_(support), host_name_("bulkhead-" + std::to_string(support.host_pid)) {
  auto add = [this](const CgroupHierarchy& h, bool Hierarchy::*role) {
    if (!h.usable()) return;
    const std::string dir = h.dir + "/" + host_name_;
    for (Hierarchy& e : hierarchies_) {
      if (e.dir == dir) {
        e.*role = true;
        return;
      }
    }
    Hierarchy e{h.version, dir};
    e.*role = true;
    hierarchies_.push_back(e);
  };
  add(support_.memory, &Hierarchy::memory);
  add(support_.cpu, &Hierarchy::cpu);
  add(support_.pids, &Hierarchy::pids);
  add(support_.cpu_usage, &Hierarchy::cpu_usage);
  add(support_.unified, &Hierarchy::unified);
}

CgroupTree::~CgroupTree() {
  for (auto& [id, p] : plugins_) {
    if (p.node.v2_fd >= 0) close(p.node.v2_fd);
    for (auto& [wid, w] : p.workers) {
      if (w.v2_fd >= 0) close(w.v2_fd);
    }
  }
}

CgroupResult CgroupTree::Prepare() {
  prepared_ = true;
  CgroupResult out;
  for (Hierarchy& h : hierarchies_) {
    h.usable = true;
    int err = MakeCgroupDir(h.dir);
    if (err == EEXIST) {
      // A previous monitor of this host, or a dead host whose pid this one now has.
      for (const std::string& child : CgroupChildren(h.dir)) RemoveEmptyCgroupTree(h.dir + "/" + child, 2);
      err = 0;
    }
    const std::pair<bool Hierarchy::*, const char*> controllers[] = {
        {&Hierarchy::memory, "memory"}, {&Hierarchy::cpu, "cpu"}, {&Hierarchy::pids, "pids"}};
    // What stops working here is said the way the probe says it, so limit results can quote it.
    auto drop = [&](bool Hierarchy::*role, const char* name, int e, const std::string& what) {
      h.*role = false;
      CgroupResult r = Result(CgroupStatus::kUnavailable, e, std::string(name) + ": " + what +
                              " (" + ErrnoName(e) + ")");
      support_.reasons.push_back(r.reason);
      Merge(&out, r);
    };
    if (err != 0) {
      h.usable = false;
      for (const auto& [role, name] : controllers) {
        if (h.*role) drop(role, name, err, "cannot create " + h.dir);
      }
      Merge(&out, Result(CgroupStatus::kUnavailable, err, "cannot create " + h.dir + " (" + ErrnoName(err) + ")"));
      continue;
    }
    if (h.version != CgroupVersion::kV2) continue;
    for (const auto& [role, name] : controllers) {
      if (!(h.*role)) continue;
      if (int e = Write(h.dir, "cgroup.subtree_control", std::string("+") + name); e != 0) {
        drop(role, name, e, "cannot enable it in " + h.dir + "/cgroup.subtree_control");
      }
    }
  }
  return out;
}

const CgroupTree::Plugin* CgroupTree::FindPlugin(uint32_t plugin) const {
  auto it = plugins_.find(plugin);
  return it == plugins_.end() ? nullptr : &it->second;
}

const CgroupTree::Node* CgroupTree::FindWorker(uint32_t plugin, uint32_t worker) const {
  const Plugin* p = FindPlugin(plugin);
  if (p == nullptr) return nullptr;
  auto it = p->workers.find(worker);
  return it == p->workers.end() ? nullptr : &it->second;
}

CgroupResult CgroupTree::MakeNode(const std::string& rel, const CgroupLimits& limits,
                                  bool plugin_level, Plugin* parent, Node* node,
                                  CgroupLimitResults* applied) {
  CgroupLimitResults results;
  const bool wants_cpu = limits.cpu_quota_percent != 0;
  std::vector<std::string> made;
  auto undo = [&made, node]() {
    if (node->v2_fd >= 0) close(node->v2_fd);
    node->v2_fd = -1;
    for (auto it = made.rbegin(); it != made.rend(); ++it) RemoveCgroupDir(*it);
  };
  for (size_t i = 0; i < hierarchies_.size(); i++) {
    const Hierarchy& h = hierarchies_[i];
    if (!h.usable || (h.CpuOnly() && !wants_cpu)) continue;
    if (!plugin_level && h.CpuOnly()) {
      // The plugin did not join this hierarchy (it asked no quota): its directory only nests ours.
      bool have = false;
      for (size_t j : parent->node.joined) have = have || j == i;
      const std::string pdir = h.dir + "/" + rel.substr(0, rel.find('/'));
      for (const std::string& d : parent->extra_dirs) have = have || d == pdir;
      if (!have) {
        const int err = MakeCgroupDir(pdir);
        if (err != 0 && err != EEXIST) {
          undo();
          return Failed(err, "cannot create " + pdir);
        }
        parent->extra_dirs.push_back(pdir);
      }
    }
    const std::string dir = h.dir + "/" + rel;
    int err = MakeCgroupDir(dir);
    if (err != 0) {
      undo();
      return err == EEXIST ? Result(CgroupStatus::kFailed, EEXIST, dir + " is in use")
                           : Failed(err, "cannot create " + dir);
    }
    made.push_back(dir);
    std::string proc_dir = dir;
    if (plugin_level && h.version == CgroupVersion::kV2) {
      const std::pair<bool, const char*> controllers[] = {
          {h.memory, "+memory"}, {h.cpu, "+cpu"}, {h.pids, "+pids"}};
      for (const auto& [on, name] : controllers) {
        if (!on) continue;
        if (int e = Write(dir, "cgroup.subtree_control", name); e != 0) {
          undo();
          return Failed(e, std::string("cannot write ") + name + " to " + dir + "/cgroup.subtree_control");
        }
      }
      proc_dir = dir + "/" + kTemplateLeaf;
      if (int e = MakeCgroupDir(proc_dir); e != 0) {
        undo();
        return Failed(e, "cannot create " + proc_dir);
      }
      made.push_back(proc_dir);
    }
    node->joined.push_back(i);
    node->dirs.push_back(dir);
    node->proc_dirs.push_back(proc_dir);
    if (h.unified) node->v2_fd = open(proc_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }

  auto unavailable = [this](const char* controller) {
    const std::string prefix = std::string(controller) + ":";
    for (const std::string& r : support_.reasons) {
      if (r.compare(0, prefix.size(), prefix) == 0) return Result(CgroupStatus::kUnavailable, 0, r);
    }
    return Result(CgroupStatus::kUnavailable, 0, prefix + " not usable here");
  };
  auto where = [this, node](bool Hierarchy::*role, CgroupVersion* v) -> const std::string* {
    for (size_t k = 0; k < node->joined.size(); k++) {
      const Hierarchy& h = hierarchies_[node->joined[k]];
      if (h.*role) {
        *v = h.version;
        return &node->dirs[k];
      }
    }
    return nullptr;
  };
  CgroupVersion v = CgroupVersion::kNone;
  if (limits.memory_bytes != 0) {
    const std::string* dir = where(&Hierarchy::memory, &v);
    results.memory = dir ? ApplyMemory(v, *dir, limits.memory_bytes, !plugin_level) : unavailable("memory");
  }
  if (limits.cpu_quota_percent != 0) {
    const std::string* dir = where(&Hierarchy::cpu, &v);
    results.cpu = dir ? ApplyCpu(v, *dir, limits.cpu_quota_percent) : unavailable("cpu");
  }
  if (limits.pids_max != 0) {
    const std::string* dir = where(&Hierarchy::pids, &v);
    results.pids = dir ? WriteResult(*dir, "pids.max", std::to_string(limits.pids_max)) : unavailable("pids");
  }
  if (applied != nullptr) *applied = results;
  if (node->dirs.empty()) {
    return Result(CgroupStatus::kUnavailable, 0, "no cgroup hierarchy is usable here");
  }
  return {};
}

CgroupResult CgroupTree::AddPlugin(uint32_t plugin, const CgroupLimits& limits,
                                   CgroupLimitResults* applied) {
  if (CgroupResult r = CheckLimits(limits); !r.ok()) return r;
  if (plugins_.count(plugin) != 0) {
    return Result(CgroupStatus::kInvalid, EEXIST, "plugin " + std::to_string(plugin) + " already has a cgroup");
  }
  if (!prepared_) Prepare();
  Plugin p;
  CgroupResult r = MakeNode(PluginName(plugin), limits, true, nullptr, &p.node, applied);
  if (r.ok() || r.status == CgroupStatus::kUnavailable) plugins_.emplace(plugin, std::move(p));
  return r;
}

CgroupResult CgroupTree::AddWorker(uint32_t plugin, uint32_t worker, const CgroupLimits& limits,
                                   CgroupLimitResults* applied) {
  if (CgroupResult r = CheckLimits(limits); !r.ok()) return r;
  auto it = plugins_.find(plugin);
  if (it == plugins_.end()) {
    return Result(CgroupStatus::kInvalid, ENOENT, "plugin " + std::to_string(plugin) + " has no cgroup");
  }
  if (it->second.workers.count(worker) != 0) {
    return Result(CgroupStatus::kInvalid, EEXIST, "worker " + std::to_string(worker) + " already has a cgroup");
  }
  Node n;
  CgroupResult r = MakeNode(PluginName(plugin) + "/" + WorkerName(worker), limits,
                            false, &it->second, &n, applied);
  if (r.ok() || r.status == CgroupStatus::kUnavailable) it->second.workers.emplace(worker, std::move(n));
  return r;
}

CgroupResult CgroupTree::Place(const Node& node, pid_t pid) const {
  if (pid <= 0) return Result(CgroupStatus::kInvalid, EINVAL, "no such pid " + std::to_string(pid));
  if (node.proc_dirs.empty()) return Result(CgroupStatus::kUnavailable, 0, "no cgroup hierarchy is usable here");
  const std::string value = std::to_string(pid);
  for (const std::string& dir : node.proc_dirs) {
    if (int err = Write(dir, "cgroup.procs", value); err != 0) {
      return Failed(err, "cannot move process " + value + " into " + dir);
    }
  }
  return {};
}

CgroupResult CgroupTree::PlacePluginProcess(uint32_t plugin, pid_t pid) {
  const Plugin* p = FindPlugin(plugin);
  if (p == nullptr) return Result(CgroupStatus::kInvalid, ENOENT, "plugin " + std::to_string(plugin) + " has no cgroup");
  return Place(p->node, pid);
}

CgroupResult CgroupTree::PlaceWorker(uint32_t plugin, uint32_t worker, pid_t pid) {
  const Node* n = FindWorker(plugin, worker);
  if (n == nullptr) return Result(CgroupStatus::kInvalid, ENOENT, "worker " + std::to_string(worker) + " has no cgroup");
  return Place(*n, pid);
}

int CgroupTree::PluginProcessCgroupFd(uint32_t plugin) const {
  const Plugin* p = FindPlugin(plugin);
  return p == nullptr ? -1 : p->node.v2_fd;
}

int CgroupTree::WorkerCgroupFd(uint32_t plugin, uint32_t worker) const {
  const Node* n = FindWorker(plugin, worker);
  return n == nullptr ? -1 : n->v2_fd;
}

CgroupResult CgroupTree::ReadUsage(const Node& node, CgroupUsage* out) const {
  *out = CgroupUsage{};
  if (node.dirs.empty()) return Result(CgroupStatus::kUnavailable, 0, "no cgroup hierarchy is usable here");
  const std::string* cpuacct = nullptr;
  const std::string* unified = nullptr;
  for (size_t k = 0; k < node.joined.size(); k++) {
    const Hierarchy& h = hierarchies_[node.joined[k]];
    const std::string& dir = node.dirs[k];
    const bool v2 = h.version == CgroupVersion::kV2;
    if (h.memory) {
      if (v2) {
        out->oom_kills = KeyedValue(Read(dir, "memory.events").value_or(""), "oom_kill").value_or(0);
      } else if (auto kills = KeyedValue(Read(dir, "memory.oom_control").value_or(""), "oom_kill")) {
        out->oom_kills = *kills;
      } else {
        out->oom_kills = SingleValue(Read(dir, "memory.failcnt").value_or("")).value_or(0) > 0 ? 1 : 0;
      }
      out->memory_peak_bytes =
          SingleValue(Read(dir, v2 ? "memory.peak" : "memory.max_usage_in_bytes").value_or(""));
    }
    if (h.pids) {
      out->pids_peak = SingleValue(Read(dir, "pids.peak").value_or(""));
      out->pids_max_events = KeyedValue(Read(dir, "pids.events").value_or(""), "max");
    }
    if (h.cpu_usage && !v2) cpuacct = &dir;
    if (v2) unified = &dir;
  }
  if (cpuacct != nullptr) {
    out->cpu_usage_ns = SingleValue(Read(*cpuacct, "cpuacct.usage").value_or(""));
  } else if (unified != nullptr) {
    // cpu.stat is there without the cpu controller: the core counts usage for every cgroup.
    if (auto usec = KeyedValue(Read(*unified, "cpu.stat").value_or(""), "usage_usec")) {
      out->cpu_usage_ns = *usec * 1000;
    }
  }
  return {};
}

CgroupResult CgroupTree::ReadPluginUsage(uint32_t plugin, CgroupUsage* out) const {
  const Plugin* p = FindPlugin(plugin);
  if (p == nullptr) return Result(CgroupStatus::kInvalid, ENOENT, "plugin " + std::to_string(plugin) + " has no cgroup");
  return ReadUsage(p->node, out);
}

CgroupResult CgroupTree::ReadWorkerUsage(uint32_t plugin, uint32_t worker, CgroupUsage* out) const {
  const Node* n = FindWorker(plugin, worker);
  if (n == nullptr) return Result(CgroupStatus::kInvalid, ENOENT, "worker " + std::to_string(worker) + " has no cgroup");
  return ReadUsage(*n, out);
}

CgroupResult CgroupTree::KillAll(const Node& node, int depth) const {
  if (node.dirs.empty()) return Result(CgroupStatus::kUnavailable, 0, "no cgroup hierarchy is usable here");
  if (support_.kill_supported) {
    for (size_t k = 0; k < node.joined.size(); k++) {
      if (hierarchies_[node.joined[k]].unified && Write(node.dirs[k], "cgroup.kill", "1") == 0) return {};
    }
  }
  // Without cgroup.kill, signal what is listed until a read lists none not yet signalled: a process
  // may fork between the read and its kill. A listed pid could be reaped and reused by an unrelated
  // process before the kill only if the whole pid space wrapped in that instant.
  std::set<pid_t> signalled;
  for (int round = 0; round < kKillRounds; round++) {
    std::set<pid_t> listed;
    for (const std::string& dir : node.dirs) CollectPids(dir, depth, &listed);
    bool fresh = false;
    for (pid_t pid : listed) {
      if (!signalled.insert(pid).second) continue;
      fresh = true;
      kill(pid, SIGKILL);  // ESRCH: exited since the read
    }
    if (!fresh) return {};
  }
  return Result(CgroupStatus::kBusy, EAGAIN, "processes still appear after " +
                std::to_string(kKillRounds) + " rounds of SIGKILL");
}

CgroupResult CgroupTree::KillPlugin(uint32_t plugin) {
  const Plugin* p = FindPlugin(plugin);
  if (p == nullptr) return Result(CgroupStatus::kInvalid, ENOENT, "plugin " + std::to_string(plugin) + " has no cgroup");
  Node all = p->node;  // and the cpu-only directories its workers nest in
  for (const std::string& d : p->extra_dirs) all.dirs.push_back(d);
  return KillAll(all, 2);
}

CgroupResult CgroupTree::KillWorker(uint32_t plugin, uint32_t worker) {
  const Node* n = FindWorker(plugin, worker);
  if (n == nullptr) return Result(CgroupStatus::kInvalid, ENOENT, "worker " + std::to_string(worker) + " has no cgroup");
  return KillAll(*n, 0);
}

CgroupResult CgroupTree::RemoveNode(Node* node) {
  CgroupResult out;
  std::vector<std::string> order;
  for (size_t k = 0; k < node->dirs.size(); k++) {
    if (node->proc_dirs[k] != node->dirs[k]) order.push_back(node->proc_dirs[k]);
  }
  for (auto it = node->dirs.rbegin(); it != node->dirs.rend(); ++it) order.push_back(*it);
  for (const std::string& dir : order) {
    if (int err = RemoveCgroupDir(dir); err != 0) Merge(&out, Failed(err, "cannot remove " + dir));
  }
  if (out.ok() && node->v2_fd >= 0) {
    close(node->v2_fd);
    node->v2_fd = -1;
  }
  return out;
}

CgroupResult CgroupTree::RemoveWorker(uint32_t plugin, uint32_t worker) {
  auto it = plugins_.find(plugin);
  if (it == plugins_.end()) return {};
  auto w = it->second.workers.find(worker);
  if (w == it->second.workers.end()) return {};
  CgroupResult r = RemoveNode(&w->second);
  if (r.ok()) it->second.workers.erase(w);
  return r;
}

CgroupResult CgroupTree::RemovePlugin(uint32_t plugin) {
  auto it = plugins_.find(plugin);
  if (it == plugins_.end()) return {};
  Plugin& p = it->second;
  CgroupResult out;
  for (auto w = p.workers.begin(); w != p.workers.end();) {
    CgroupResult r = RemoveNode(&w->second);
    Merge(&out, r);
    w = r.ok() ? p.workers.erase(w) : std::next(w);
  }
  Merge(&out, RemoveNode(&p.node));
  for (const std::string& d : p.extra_dirs) {
    if (int err = RemoveCgroupDir(d); err != 0) Merge(&out, Failed(err, "cannot remove " + d));
  }
  if (out.ok()) plugins_.erase(it);
  return out;
}

CgroupResult CgroupTree::RemoveHost() {
  CgroupResult out;
  std::vector<uint32_t> ids;
  for (const auto& [id, p] : plugins_) ids.push_back(id);
  for (uint32_t id : ids) Merge(&out, RemovePlugin(id));
  for (const Hierarchy& h : hierarchies_) {
    if (int err = RemoveEmptyCgroupTree(h.dir, 3); err != 0) Merge(&out, Failed(err, "cannot remove " + h.dir));
  }
  if (out.ok()) prepared_ = false;
  return out;
}

int ReapStaleHostsIn(const std::string& parent, pid_t self) {
  int reaped = 0;
  for (const std::string& name : CgroupChildren(parent)) {
    const pid_t pid = HostPidOf(name);
    if (pid == 0 || pid == self || Alive(pid)) continue;
    if (RemoveEmptyCgroupTree(parent + "/" + name, 3) == 0) reaped++;
  }
  return reaped;
}

int ReapStaleHosts(const CgroupSupport& support) {
  std::set<std::string> parents;
  for (const CgroupHierarchy* h : {&support.memory, &support.cpu, &support.pids, &support.cpu_usage,
                                   &support.unified}) {
    if (h->usable()) parents.insert(h->dir);
  }
  int reaped = 0;
  for (const std::string& dir : parents) reaped += ReapStaleHostsIn(dir, support.host_pid);
  return reaped;
}

}  // namespace bulkhead
