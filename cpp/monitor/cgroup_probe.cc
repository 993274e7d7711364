// cgroup_probe.cc: parsing /proc/<pid>/cgroup and mountinfo, planning, and the trial directories that
// confirm a plan. The reason texts are the ones lib/cgroup.ts gives, so capabilities() reads the same.
#include "monitor/cgroup_probe.h"

#include <errno.h>
#include <unistd.h>

#include <algorithm>

#include "monitor/cgroup_delegation.h"
#include "monitor/cgroup_fs.h"

namespace bulkhead {
namespace {

constexpr const char* kControllers[] = {"memory", "cpu", "pids"};

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    const size_t at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

// A cgroup path as /proc shows it: absolute, and ".." only when the process is outside the
// reader's cgroup namespace, which no mount of ours can reach.
bool PlainCgroupPath(const std::string& p) {
  if (p.empty() || p[0] != '/') return false;
  for (std::string_view part : Split(p, '/')) {
    if (part == "." || part == "..") return false;
  }
  return true;
}

CgroupHierarchy* Slot(CgroupSupport& s, std::string_view c) {
  return c == "memory" ? &s.memory : c == "cpu" ? &s.cpu : &s.pids;
}

CgroupCandidate* Slot(CgroupPlan& p, std::string_view c) {
  return c == "memory" ? &p.memory : c == "cpu" ? &p.cpu : &p.pids;
}

const CgroupCandidate& Slot(const CgroupPlan& p, std::string_view c) {
  return c == "memory" ? p.memory : c == "cpu" ? p.cpu : p.pids;
}

// A child cgroup shows these only when the controller can limit it there.
const char* LimitFile(CgroupVersion v, std::string_view c) {
  if (v == CgroupVersion::kV2) return c == "memory" ? "memory.max" : c == "cpu" ? "cpu.max" : "pids.max";
  return c == "memory" ? "memory.limit_in_bytes" : c == "cpu" ? "cpu.cfs_quota_us" : "pids.max";
}

std::string NoInternalProcessesReason(std::string_view c, const std::string& dir) {
  return std::string(c) + ": cgroup v2 will not enable it for children of " + dir +
         ": that cgroup holds processes (this one among them) and only the root cgroup is exempt "
         "from the no-internal-processes rule; a host that owns its cgroup can call "
         "delegateCgroups() first (README: cgroup v2 delegation)";
}


}  // namespace

std::vector<std::string> Words(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t')) i++;
    const size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\n' && s[i] != '\t') i++;
    if (i > start) out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

int EnableForChildren(const std::string& dir, std::string_view c) {
  std::optional<std::string> on = ReadCgroupFile(dir + "/cgroup.subtree_control");
  if (on && Contains(Words(*on), c)) return 0;
  return WriteCgroupFile(dir + "/cgroup.subtree_control", "+" + std::string(c));
}

std::string ErrnoName(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EIO: return "EIO";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case EROFS: return "EROFS";
    case EAGAIN: return "EAGAIN";
    case ENODEV: return "ENODEV";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ENOTEMPTY: return "ENOTEMPTY";
    default: return "errno " + std::to_string(err);
  }
}

std::string UnescapeMountField(std::string_view f) {
  std::string out;
  out.reserve(f.size());
  for (size_t i = 0; i < f.size(); i++) {
    if (f[i] == '\\' && i + 3 < f.size()) {
      const char a = f[i + 1], b = f[i + 2], c = f[i + 3];
      if (a >= '0' && a <= '3' && b >= '0' && b <= '7' && c >= '0' && c <= '7') {
        out.push_back(static_cast<char>((a - '0') * 64 + (b - '0') * 8 + (c - '0')));
        i += 3;
        continue;
      }
    }
    out.push_back(f[i]);
  }
  return out;
}

std::vector<CgroupMount> ParseMountinfo(std::string_view text) {
  std::vector<CgroupMount> out;
  for (std::string_view line : Split(text, '\n')) {
    std::vector<std::string_view> f = Split(line, ' ');
    size_t sep = 6;
    while (sep < f.size() && f[sep] != "-") sep++;
    if (sep + 1 >= f.size() || (f[sep + 1] != "cgroup" && f[sep + 1] != "cgroup2")) continue;
    CgroupMount m;
    m.root = UnescapeMountField(f[3]);
    m.point = UnescapeMountField(f[4]);
    m.fstype = std::string(f[sep + 1]);
    if (sep + 3 < f.size()) {
      for (std::string_view o : Split(f[sep + 3], ',')) m.options.emplace_back(o);
    }
    out.push_back(std::move(m));
  }
  return out;
}

OwnCgroups ParseProcCgroup(std::string_view text) {
  OwnCgroups own;
  for (std::string_view line : Split(text, '\n')) {
    const size_t a = line.find(':');
    if (a == 0 || a == std::string_view::npos) continue;
    const std::string_view id = line.substr(0, a);
    if (!std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    const size_t b = line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    const std::string_view controllers = line.substr(a + 1, b - a - 1);
    const std::string path(line.substr(b + 1));
    if (id == "0" && controllers.empty()) {
      own.v2 = path;
    } else {
      for (std::string_view c : Split(controllers, ',')) own.v1[std::string(c)] = path;
    }
  }
  return own;
}

std::optional<std::string> DirInMount(const CgroupMount& m, const std::string& own) {
  if (!PlainCgroupPath(own) || !PlainCgroupPath(m.root)) return std::nullopt;
  std::string rel;
  if (m.root == "/") {
    rel = own;
  } else if (own == m.root) {
    rel = "";
  } else if (own.compare(0, m.root.size(), m.root) == 0 && own[m.root.size()] == '/') {
    rel = own.substr(m.root.size());
  } else {
    return std::nullopt;
  }
  while (!rel.empty() && rel.back() == '/') rel.pop_back();
  std::string point = m.point;
  while (point.size() > 1 && point.back() == '/') point.pop_back();
  if (rel.empty()) return point;
  return point == "/" ? rel : point + rel;
}

std::optional<std::string> ReachableDir(const std::vector<CgroupMount>& mounts,
                                        const std::string& own, std::string_view fstype,
                                        std::string_view controller, const CgroupView& view) {
  for (const CgroupMount& m : mounts) {
    if (m.fstype != fstype || (!controller.empty() && !Contains(m.options, controller))) continue;
    std::optional<std::string> dir = DirInMount(m, own);
    if (dir && view.exists(*dir)) return dir;
  }
  return std::nullopt;
}

CgroupPlan PlanCgroups(const std::vector<CgroupMount>& mounts, const OwnCgroups& own,
                       const CgroupView& view) {
  CgroupPlan plan;
  // A delegated host (in a kHostLeaf) has its plugin cgroups beside its leaf, where v2 controllers
  // can be enabled; any other host has them beneath its own cgroup.
  const std::optional<std::string> delegated = own.v2 ? DelegatedRoot(*own.v2) : std::nullopt;
  if (own.v2) plan.unified_dir = ReachableDir(mounts, delegated ? *delegated : *own.v2, "cgroup2", "", view);
  if (plan.unified_dir) {
    std::optional<std::string> offers = view.read(*plan.unified_dir + "/cgroup.controllers");
    if (offers) plan.v2_offers = Words(*offers);
  } else {
    plan.unified_reason = "cgroup.kill: no cgroup v2 hierarchy reaches this process's cgroup; "
                          "killAll() signals pids one by one";
  }
  for (const char* c : kControllers) {
    CgroupCandidate* slot = Slot(plan, c);
    auto v1 = own.v1.find(c);
    if (v1 != own.v1.end()) {
      // A controller bound to a v1 hierarchy is absent from v2 until that hierarchy is unmounted.
      std::optional<std::string> dir = ReachableDir(mounts, v1->second, "cgroup", c, view);
      if (!dir) {
        slot->reason = std::string(c) + ": its cgroup v1 hierarchy is not mounted where this "
                       "process can reach " + v1->second;
        continue;
      }
      slot->version = CgroupVersion::kV1;
      slot->dir = *dir;
    } else if (plan.unified_dir && Contains(plan.v2_offers, c)) {
      if (!delegated) {
        slot->reason = NoInternalProcessesReason(c, *plan.unified_dir);
        continue;
      }
      slot->version = CgroupVersion::kV2;
      slot->dir = *plan.unified_dir;
    } else {
      slot->reason = std::string(c) + ": no cgroup v1 hierarchy has it and cgroup v2 does not offer "
                     "it here (" + (plan.unified_dir ? *plan.unified_dir + "/cgroup.controllers: " +
                     (plan.v2_offers.empty() ? "empty" : Join(plan.v2_offers)) : "no v2 mount") + ")";
    }
  }
  auto cpuacct = own.v1.find("cpuacct");
  if (cpuacct != own.v1.end()) {
    plan.cpuacct_dir = ReachableDir(mounts, cpuacct->second, "cgroup", "cpuacct", view);
  }
  return plan;
}

CgroupSupport ProbeCgroups(pid_t host_pid) {
  CgroupSupport support;
  support.host_pid = host_pid;
  const std::string own_file = "/proc/" + std::to_string(host_pid) + "/cgroup";
  int err = 0;
  std::optional<std::string> own_text = ReadCgroupFile(own_file, &err);
  std::optional<std::string> mounts_text;
  if (own_text) mounts_text = ReadCgroupFile("/proc/self/mountinfo", &err);
  if (!own_text || !mounts_text) {
    support.reasons.push_back("cgroups: cannot read " + own_file + " or /proc/self/mountinfo (" +
                              ErrnoName(err) + ")");
    return support;
  }
  const CgroupView view{
      [](const std::string& p) { return access(p.c_str(), F_OK) == 0; },
      [](const std::string& p) { return ReadCgroupFile(p); },
  };
  const CgroupPlan plan = PlanCgroups(ParseMountinfo(*mounts_text), ParseProcCgroup(*own_text), view);

  const std::string trial_name =
      "bulkhead-" + std::to_string(host_pid) + "-probe-" + std::to_string(getpid());
  std::vector<std::string> made;
  auto trial = [&](const std::string& dir) {
    const std::string path = dir + "/" + trial_name;
    const int e = MakeCgroupDir(path);
    if (e == 0) made.push_back(path);
    return e == EEXIST ? 0 : e;
  };

  if (plan.unified_dir) {
    const std::string& dir = *plan.unified_dir;
    if (int e = trial(dir); e == 0) {
      support.unified = {CgroupVersion::kV2, dir};
      support.kill_supported = access((dir + "/" + trial_name + "/cgroup.kill").c_str(), F_OK) == 0;
      if (!support.kill_supported) {
        support.reasons.push_back("cgroup.kill: needs Linux 5.14; killAll() signals pids one by one");
      }
    } else {
      support.reasons.push_back("cgroup.kill: cannot create a cgroup in " + dir + " (" +
                                ErrnoName(e) + "); killAll() signals pids one by one");
    }
  } else {
    support.reasons.push_back(plan.unified_reason);
  }

  for (const char* c : kControllers) {
    const CgroupCandidate& cand = Slot(plan, c);
    if (cand.version == CgroupVersion::kNone) {
      support.reasons.push_back(cand.reason);
      continue;
    }
    if (cand.version == CgroupVersion::kV1) {
      if (int e = trial(cand.dir); e != 0) {
        support.reasons.push_back(std::string(c) + ": cannot create a cgroup in " + cand.dir + " (" +
                                  ErrnoName(e) + "): not writable or not delegated");
        continue;
      }
    } else {
      if (int e = EnableForChildren(cand.dir, c); e != 0) {
        support.reasons.push_back(e == EBUSY ? NoInternalProcessesReason(c, cand.dir)
                                  : std::string(c) + ": cannot write " + cand.dir +
                                        "/cgroup.subtree_control (" + ErrnoName(e) +
                                        "): not delegated to this user");
        continue;
      }
      int e = trial(cand.dir);
      if (e == 0) e = EnableForChildren(cand.dir + "/" + trial_name, c);
      if (e != 0) {
        support.reasons.push_back(std::string(c) + ": cannot create a cgroup in " + cand.dir +
                                  " with it enabled (" + ErrnoName(e) + ")");
        continue;
      }
    }
    const char* file = LimitFile(cand.version, c);
    if (access((cand.dir + "/" + trial_name + "/" + file).c_str(), F_OK) != 0) {
      support.reasons.push_back(std::string(c) + ": a child cgroup in " + cand.dir + " has no " +
                                file + " (kernel built without it)");
      continue;
    }
    *Slot(support, c) = {cand.version, cand.dir};
  }

  if (plan.cpuacct_dir && trial(*plan.cpuacct_dir) == 0) {
    support.cpu_usage = {CgroupVersion::kV1, *plan.cpuacct_dir};
  } else {
    support.cpu_usage = support.unified;  // the v2 cgroup counts CPU time too
  }

  for (auto it = made.rbegin(); it != made.rend(); ++it) RemoveCgroupDir(*it);
  return support;
}

}  // namespace bulkhead
