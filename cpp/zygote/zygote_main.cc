// zygote_main.cc: the monitor. The helper the addon execs: forks one template per plugin, decides
// what every plugin process may ask of it or of the kernel beyond the boundary policy, reaps every
// plugin process (workers are its children via CLONE_PARENT) and reports true wait statuses.
//
// Single-threaded, started with an empty environment and only its control socket (fd 3). It runs
// no plugin code itself and believes no template: a template's messages are checked against the
// requests outstanding for it (one answer per request, a pidfd of the zygote's own new child in
// the template's process group), and a template that breaks the protocol is killed with everything
// of its plugin. Each template's socket and notification listener get a bounded share of each
// poll round, so a flooding plugin delays the others by at most kPerRound items of its own. When
// the host goes away (EOF on fd 3, or the parent-death signal) it kills every plugin process group.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/wire.h"
#include "monitor/cgroup_tree.h"
#include "sandbox/sandbox_spec.h"
#include "sandbox/seccomp_policy.h"
#include "zygote/plugin_process.h"
#include "zygote/process_facts.h"
#include "zygote/syscall_monitor.h"

namespace bulkhead {
namespace {

constexpr int kHostFd = 3;
// Messages, and notifications, taken from one template per poll round.
constexpr int kPerRound = 4;
// A spawn request without a deadline of its own.
constexpr uint64_t kDefaultSpawnDeadlineMs = 10000;

enum class Phase {
  kAwaitListener,  // forked; setting up its sandbox (our code, no plugin code yet)
  kLoading,        // the monitor holds its listener; plugin code runs (constructors, init)
  kServing,        // loaded: it clones workers on request
  kEnded,          // reported its load error, or was killed: nothing more is believed
};

// A process's thread clones the monitor let through. One may not have returned yet (its thread
// not counted by the kernel), so until it is known to have, it counts as a thread already.
// Known: the creator asked for anything since, or is gone (`creators` then drops it); or, counted
// over the process's life, as many new threads have appeared as clones were let through, less
// the ones still open (`observed` of `allowed`). The open ones are whichever bound is smaller.
struct ThreadLedger {
  std::set<pid_t> creators;  // threads whose last clone let through may not have returned
  std::vector<pid_t> seen;   // its threads at the last look, sorted
  uint64_t allowed = 0;      // clones let through
  uint64_t observed = 0;     // threads that appeared since the first look
};

struct Template {
  uint32_t plugin_id = 0;
  pid_t pid = 0;
  pid_t ns_pid = 0;  // its pid as it sees itself (differs inside our pid namespace)
  int sock = -1;
  int listener = -1;
  Phase phase = Phase::kAwaitListener;
  uint64_t load_deadline_ms = 0;  // monotonic; 0: none
  std::map<uint32_t, uint64_t> open_spawns;  // worker id -> deadline
  uint32_t clones_unreported = 0;            // clones let through, not yet answered
  CgroupLimits worker_limits;
  // Worker cgroups are named by our own serial, so one can be made before it is asked for (making
  // one takes about a millisecond, which a spawn should not wait for).
  uint32_t next_cgroup = 1;
  uint32_t spare_cgroup = 0;  // made ahead, unused; 0: none
  std::map<uint32_t, uint32_t> spawn_cgroups;  // worker id of an open spawn -> its cgroup
  // Threads each of its processes may have besides its main one (policy.threads), and each
  // process's ledger of the thread clones it was let make (see ThreadRoom).
  uint32_t threads = 0;
  std::map<pid_t, ThreadLedger> thread_clones;
};

std::map<uint32_t, Template> g_templates;   // by plugin id
std::map<pid_t, uint32_t> g_template_pids;
struct WorkerEntry {
  uint32_t plugin_id;
  uint32_t cgroup;  // its worker cgroup's serial
  pid_t ns_pid;     // as it sees itself
};
std::map<pid_t, WorkerEntry> g_worker_pids;  // registered workers, by pid
// Plugin processes live in a pid namespace of their own whose init (the anchor) dies with us, so
// the kernel kills every one of them if we die, whatever they did to their own death signal.
pid_t g_anchor = 0;
// What a plugin process's getppid() says while we live: 0 from inside the namespace.
pid_t g_seen_as = 0;
// Every plugin's cgroups: the plugin's own (template and everything it makes, from its first
// instruction) and one per worker.
CgroupTree* g_cgroups = nullptr;
// Cgroups whose processes were killed but not yet gone: removed once they are (kWholePlugin: the
// plugin's, with its workers).
constexpr uint32_t kWholePlugin = ~0u;
struct Removal {
  uint32_t plugin, worker;
  int tries;
};
std::vector<Removal> g_removals;
constexpr int kRemovalTries = 250;  // polled every 20 ms: 5 s, far beyond an exit's few ms

uint64_t NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

void SendHost(WireType type, uint32_t id, uint32_t a, uint32_t b, uint64_t c,
              const void* payload = nullptr, size_t len = 0, const int* fds = nullptr, size_t nfds = 0) {
  if (WireSend(kHostFd, type, id, a, b, c, payload, len, fds, nfds) == -EPIPE) _exit(0);
}

void LoadError(uint32_t plugin_id, LoadErrorKind kind, const std::string& msg) {
  SendHost(WireType::kLoadError, plugin_id, static_cast<uint32_t>(kind), 0, 0, msg.data(), msg.size());
}

// A load that fails before any template exists: the host settles a load on the exit report that
// follows its error, so one comes here too (pid 0: no process).
void FailLoadEarly(uint32_t plugin_id, const std::string& msg) {
  LoadError(plugin_id, LoadErrorKind::kSandbox, msg);
  const uint64_t no_oom = 0;
  SendHost(WireType::kExited, plugin_id, 0, 0, plugin_id, &no_oom, sizeof no_oom);
}

// `cr` from AddPlugin or AddWorker, failed as well when a limit asked for is not in force (fail
// closed, whatever the host's probe believed): only "no hierarchy at all, none asked" stays ok.
CgroupResult WithLimitsInForce(CgroupResult cr, const CgroupLimitResults& applied) {
  if (cr.status == CgroupStatus::kFailed || cr.status == CgroupStatus::kInvalid) return cr;
  CgroupResult missing = applied.FirstUnapplied();
  if (missing.ok()) return cr;
  missing.status = CgroupStatus::kFailed;
  return missing;
}

void Remove(uint32_t plugin, uint32_t worker) {
  CgroupResult r = worker == kWholePlugin ? g_cgroups->RemovePlugin(plugin) : g_cgroups->RemoveWorker(plugin, worker);
  if (r.status == CgroupStatus::kBusy) g_removals.push_back({plugin, worker, 0});
}

void RetryRemovals() {
  std::vector<Removal> again;
  for (Removal r : g_removals) {
    CgroupResult res = r.worker == kWholePlugin ? g_cgroups->RemovePlugin(r.plugin)
                                                : g_cgroups->RemoveWorker(r.plugin, r.worker);
    if (res.status == CgroupStatus::kBusy && ++r.tries < kRemovalTries) again.push_back(r);
  }
  g_removals.swap(again);
}

// Kills the template and every process of its plugin: they share its process group, which the
// boundary policy lets none of them leave (setpgid and setsid are denied), and its cgroup.
void KillTemplate(Template& t) {
  kill(-t.pid, SIGKILL);
  kill(t.pid, SIGKILL);
  g_cgroups->KillPlugin(t.plugin_id);
  if (t.sock >= 0) close(t.sock);
  if (t.listener >= 0) close(t.listener);
  t.sock = t.listener = -1;
  t.phase = Phase::kEnded;
  t.open_spawns.clear();
}

// The template broke the protocol: the host hears why before it hears of the exit.
void BreakTemplate(Template& t, const std::string& why) {
  if (t.phase == Phase::kEnded && t.sock < 0) return;
  SendHost(WireType::kProtocolError, t.plugin_id, static_cast<uint32_t>(t.pid), 0, 0, why.data(), why.size());
  KillTemplate(t);
}

[[noreturn]] void Shutdown() {
  for (auto& [id, t] : g_templates) KillTemplate(t);
  // Our cgroups go too, once the killed are reaped (briefly: what stays empty, the next monitor of
  // a host with our pid, or any host's stale-host sweep, removes).
  for (int i = 0; i < 50; i++) {
    while (waitpid(-1, nullptr, WNOHANG | __WALL) > 0) {
    }
    if (g_cgroups->RemoveHost().status != CgroupStatus::kBusy) break;
    usleep(2000);
  }
  _exit(0);
}

void HandleLoad(WireMessage& msg) {
  const uint32_t id = msg.header.id;
  if (msg.fds.size() != 1 || g_templates.count(id) != 0) {
    FailLoadEarly(id, "malformed load request");
    return;
  }
  SandboxSpec spec;
  if (!DecodeSandboxSpec(msg.payload.data(), msg.payload.size(), &spec)) {
    FailLoadEarly(id, "malformed sandbox spec");
    return;
  }
  CgroupLimits plugin_limits;
  plugin_limits.memory_bytes = spec.plugin_memory_bytes;
  plugin_limits.pids_max = spec.plugin_pids;
  CgroupLimitResults applied;
  const CgroupResult cr = WithLimitsInForce(g_cgroups->AddPlugin(id, plugin_limits, &applied), applied);
  if (cr.status == CgroupStatus::kFailed || cr.status == CgroupStatus::kInvalid) {
    FailLoadEarly(id, "cgroup: " + cr.reason);
    g_cgroups->RemovePlugin(id);
    return;
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    FailLoadEarly(id, std::string("socketpair: ") + strerror(errno));
    g_cgroups->RemovePlugin(id);
    return;
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(sv[0]);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    RunTemplate(sv[1], msg.fds[0], id, g_seen_as, spec);
  }
  close(sv[1]);
  if (pid < 0) {
    close(sv[0]);
    FailLoadEarly(id, std::string("fork: ") + strerror(errno));
    g_cgroups->RemovePlugin(id);
    return;
  }
  // The template waits for "go": it runs nothing of its own, let alone the plugin, before it is
  // in the plugin's cgroup, so everything it ever makes starts there too.
  CgroupResult placed = g_cgroups->PlacePluginProcess(id, pid);
  if ((!placed.ok() && placed.status != CgroupStatus::kUnavailable) ||
      WireSend(sv[0], WireType::kGo, id, 0, 0, 0, nullptr, 0, nullptr, 0) != 0) {
    kill(pid, SIGKILL);
    close(sv[0]);
    FailLoadEarly(id, "cgroup: " + (placed.ok() ? std::string("cannot start the template") : placed.reason));
    g_removals.push_back({id, kWholePlugin, 0});
    return;
  }
  // A template that stops reading must never block the monitor: a full socket is a failed spawn.
  fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
  setpgid(pid, pid);
  Template t;
  t.plugin_id = id;
  t.pid = pid;
  t.sock = sv[0];
  t.load_deadline_ms = msg.header.b ? NowMs() + msg.header.b : 0;
  t.worker_limits.memory_bytes = spec.worker_memory_bytes;
  t.worker_limits.cpu_quota_percent = spec.worker_cpu_quota_percent;
  t.worker_limits.pids_max = spec.worker_pids;
  t.threads = spec.threads;
  g_templates[id] = t;
  g_template_pids[pid] = id;
}

// A worker cgroup with every limit the spec asked for in force, or why not (then it is gone).
CgroupResult AddWorkerCgroup(Template& t, uint32_t* serial) {
  CgroupLimitResults applied;
  *serial = t.next_cgroup++;
  const CgroupResult made = g_cgroups->AddWorker(t.plugin_id, *serial, t.worker_limits, &applied);
  const CgroupResult cr = WithLimitsInForce(made, applied);
  if (cr.status != made.status) Remove(t.plugin_id, *serial);  // made, but short of a limit
  return cr;
}

// A spare worker cgroup for every serving template that has none, made while nothing waits.
bool g_want_spares = false;
void MakeSpares() {
  g_want_spares = false;
  for (auto& [id, t] : g_templates) {
    if (t.phase != Phase::kServing || t.spare_cgroup != 0) continue;
    uint32_t serial;
    if (AddWorkerCgroup(t, &serial).ok()) t.spare_cgroup = serial;
  }
}

void HandleSpawn(WireMessage& msg) {
  auto it = g_templates.find(msg.header.id);
  if (it == g_templates.end() || it->second.phase != Phase::kServing || it->second.sock < 0 ||
      msg.fds.size() != 2 || it->second.open_spawns.count(msg.header.a) != 0) {
    SendHost(WireType::kSpawnError, msg.header.id, msg.header.a, ESRCH, 0);
    return;
  }
  Template& t = it->second;
  uint32_t cgroup = t.spare_cgroup;
  t.spare_cgroup = 0;
  if (cgroup == 0) {
    CgroupResult cr = AddWorkerCgroup(t, &cgroup);
    if (cr.status == CgroupStatus::kFailed || cr.status == CgroupStatus::kInvalid) {
      SendHost(WireType::kSpawnError, msg.header.id, msg.header.a, static_cast<uint32_t>(cr.err ? cr.err : EIO), 0,
               cr.reason.data(), std::min(cr.reason.size(), kMaxWirePayload));
      return;
    }
  }
  t.spawn_cgroups[msg.header.a] = cgroup;
  int rc = WireSend(t.sock, WireType::kSpawn, msg.header.id, msg.header.a, 0, 0, nullptr, 0,
                    msg.fds.data(), msg.fds.size());
  if (rc != 0) {
    Remove(t.plugin_id, cgroup);
    t.spawn_cgroups.erase(msg.header.a);
    SendHost(WireType::kSpawnError, msg.header.id, msg.header.a, static_cast<uint32_t>(-rc), 0);
    return;
  }
  t.open_spawns[msg.header.a] = NowMs() + (msg.header.b ? msg.header.b : kDefaultSpawnDeadlineMs);
}

void HandleHost() {
  for (;;) {
    WireMessage msg;
    int rc = WireRecv(kHostFd, &msg);
    if (rc == -EAGAIN) return;
    if (rc == 0 || (rc < 0 && rc != -EBADMSG)) Shutdown();  // the host is gone, or its socket is
    if (rc < 0) continue;
    switch (static_cast<WireType>(msg.header.type)) {
      case WireType::kLoad: HandleLoad(msg); break;
      case WireType::kSpawn: HandleSpawn(msg); break;
      case WireType::kUnload: {
        auto it = g_templates.find(msg.header.id);
        if (it != g_templates.end()) KillTemplate(it->second);
        else g_cgroups->KillPlugin(msg.header.id);
        break;
      }
      case WireType::kKillWorker: {
        // Only a registered worker of that plugin: the host names a pid, never any process. It is
        // our unreaped child, so the pid cannot have been reused.
        auto w = g_worker_pids.find(static_cast<pid_t>(msg.header.b));
        if (w != g_worker_pids.end() && w->second.plugin_id == msg.header.id) kill(w->first, SIGKILL);
        break;
      }
      default: break;
    }
    WireCloseFds(&msg);
  }
}

// Children of ours in the template's process group that no answered request accounts for.
size_t UnreportedChildren(const Template& t) {
  size_t n = 0;
  for (pid_t child : OwnChildren()) {
    ProcessIds ids;
    if (child == t.pid || g_worker_pids.count(child) != 0 || g_template_pids.count(child) != 0) continue;
    if (ReadProcessIds(child, &ids) && ids.pgrp == t.pid) n++;
  }
  return n;
}

// kSpawned: one fd, a pidfd of a new child of ours in the template's process group, answering an
// open request. Returns the reason it is not, or "" (and registers the worker as `*worker`).
std::string CheckSpawned(Template& t, const WireMessage& msg, pid_t* worker) {
  if (t.open_spawns.count(msg.header.a) == 0) return "answered a spawn request that is not open";
  if (msg.fds.size() != 1 || !msg.payload.empty()) return "sent a malformed spawn answer";
  if (t.clones_unreported == 0) return "claimed a worker it never cloned";
  const pid_t pid = PidOfPidfd(msg.fds[0]);
  if (pid <= 0) return "answered a spawn request with something that is not a live pidfd";
  ProcessIds ids;
  if (!ReadProcessIds(pid, &ids) || ids.tgid != pid || ids.ppid != getpid() || ids.pgrp != t.pid) {
    return "answered a spawn request with a pidfd of a process that is not its new worker";
  }
  if (pid == t.pid || g_worker_pids.count(pid) != 0 || g_template_pids.count(pid) != 0) {
    return "answered a spawn request with a known process";
  }
  t.clones_unreported--;
  t.open_spawns.erase(msg.header.a);
  g_worker_pids[pid] = WorkerEntry{t.plugin_id, t.spawn_cgroups[msg.header.a], ids.ns_tgid};
  t.spawn_cgroups.erase(msg.header.a);
  *worker = pid;
  return "";
}

// One message from a template: believe only what its phase and open requests allow.
void HandleTemplateMessage(Template& t, WireMessage& msg) {
  const auto type = static_cast<WireType>(msg.header.type);
  switch (t.phase) {
    case Phase::kAwaitListener:
      if (type == WireType::kListener && msg.fds.size() == 1 && IsSeccompListener(msg.fds[0])) {
        t.listener = msg.fds[0];
        msg.fds.clear();
        t.phase = Phase::kLoading;
        return;
      }
      if (type == WireType::kLoadError && msg.fds.empty()) {  // its sandbox could not be applied
        t.phase = Phase::kEnded;
        SendHost(WireType::kLoadError, t.plugin_id, msg.header.a, 0, 0, msg.payload.data(), msg.payload.size());
        return;
      }
      break;
    case Phase::kLoading:
      if (type == WireType::kLoaded && msg.fds.empty()) {
        t.phase = Phase::kServing;
        SendHost(WireType::kLoaded, t.plugin_id, static_cast<uint32_t>(t.pid), 0, 0, msg.payload.data(), msg.payload.size());
        return;
      }
      if (type == WireType::kLoadError && msg.fds.empty()) {
        SendHost(WireType::kLoadError, t.plugin_id, msg.header.a, 0, 0, msg.payload.data(), msg.payload.size());
        KillTemplate(t);  // a failed load is over: nothing of it runs on
        return;
      }
      break;
    case Phase::kServing:
      if (type == WireType::kSpawned && msg.fds.size() == 1 && t.open_spawns.count(msg.header.a) != 0 &&
          t.clones_unreported > 0 && IsPidfdOfGone(msg.fds[0])) {
        // A worker that died at once (and is reaped already): a failed spawn, not a lie. Its
        // wait status goes with it where the kernel keeps one (c = status + 1; 0: unknown).
        t.clones_unreported--;
        t.open_spawns.erase(msg.header.a);
        Remove(t.plugin_id, t.spawn_cgroups[msg.header.a]);
        t.spawn_cgroups.erase(msg.header.a);
        SendHost(WireType::kSpawnError, t.plugin_id, msg.header.a, ECHILD,
                 static_cast<uint64_t>(PidfdExitStatus(msg.fds[0]) + 1));
        return;
      }
      if (type == WireType::kSpawned) {
        pid_t pid = 0;
        std::string why = CheckSpawned(t, msg, &pid);
        if (!why.empty()) return BreakTemplate(t, why);
        // Into its own cgroup before the host hands it a call (it started in the plugin's).
        CgroupResult placed = g_cgroups->PlaceWorker(t.plugin_id, g_worker_pids[pid].cgroup, pid);
        if (!placed.ok() && placed.status != CgroupStatus::kUnavailable) {
          kill(pid, SIGKILL);
          SendHost(WireType::kSpawnError, t.plugin_id, msg.header.a, static_cast<uint32_t>(placed.err ? placed.err : EIO), 0,
                   placed.reason.data(), std::min(placed.reason.size(), kMaxWirePayload));
          return;
        }
        SendHost(WireType::kSpawned, t.plugin_id, msg.header.a, static_cast<uint32_t>(pid), 0, nullptr, 0, msg.fds.data(), 1);
        g_want_spares = true;
        return;
      }
      if (type == WireType::kSpawnError && msg.fds.empty() && msg.payload.empty() &&
          t.open_spawns.count(msg.header.a) != 0) {
        t.open_spawns.erase(msg.header.a);
        Remove(t.plugin_id, t.spawn_cgroups[msg.header.a]);
        t.spawn_cgroups.erase(msg.header.a);
        if (t.clones_unreported > 0) t.clones_unreported--;  // the clone let through failed
        if (UnreportedChildren(t) > t.clones_unreported) {
          return BreakTemplate(t, "reported a failed spawn but made a process");
        }
        SendHost(WireType::kSpawnError, t.plugin_id, msg.header.a, msg.header.b, 0);
        return;
      }
      break;
    case Phase::kEnded:
      break;
  }
  BreakTemplate(t, "sent message type " + std::to_string(msg.header.type) + " out of turn");
}

void HandleTemplate(Template& t, int budget) {
  for (int i = 0; i < budget && t.sock >= 0; i++) {
    WireMessage msg;
    int rc = WireRecv(t.sock, &msg);
    if (rc == -EAGAIN) return;
    if (rc == 0 || (rc < 0 && rc != -EBADMSG)) {  // it exited, or closed its end: either way it is over
      KillTemplate(t);
      return;
    }
    if (rc < 0) return BreakTemplate(t, "sent a malformed message");
    HandleTemplateMessage(t, msg);
    WireCloseFds(&msg);
  }
}

void ReportViolation(const Template& t, pid_t tgid, const SyscallNotice& n) {
  ViolationArgs v{};
  memcpy(v.args, n.args, sizeof v.args);
  v.ip = n.ip;
  SendHost(WireType::kViolation, t.plugin_id, static_cast<uint32_t>(tgid), static_cast<uint32_t>(n.nr),
           n.arch, &v, sizeof v);
}

// The caller's process, as we see it and as it sees itself. Every process of a plugin is a child
// of ours until we reap it, so a pid read while its notice is pending cannot be reused before we
// act on it.
ProcessIds CallerIds(Template& t, const SyscallNotice& n) {
  ProcessIds ids;
  if (n.tid == t.pid && t.ns_pid > 0) {
    ids.tgid = t.pid;
    ids.ns_tgid = t.ns_pid;
    return ids;
  }
  auto w = g_worker_pids.find(n.tid);
  if (w != g_worker_pids.end()) {
    ids.tgid = n.tid;
    ids.ns_tgid = w->second.ns_pid;
    return ids;
  }
  if (!ReadProcessIds(n.tid, &ids)) return ProcessIds{};
  if (n.tid == t.pid) t.ns_pid = ids.ns_tgid;
  return ids;
}

// Whether process `tgid` of `t` may start one more thread for its thread `tid`: the kernel's count
// of its threads, plus those whose clones were let through and may not have returned, stays within
// the main thread and the grant. Exact without a pids cgroup, and never above the grant, however
// many of its threads clone at once (a stale entry only makes it stricter, until that thread asks
// again or ends). Records the clone when there is room.
// Counts the threads in `now` that were not there at the ledger's last look (none at its first),
// adds them to `observed`, and makes `now` the last look.
uint64_t Observe(ThreadLedger& l, const std::vector<pid_t>& now) {
  uint64_t fresh = 0;
  for (pid_t x : now) {
    if (!l.seen.empty() && !std::binary_search(l.seen.begin(), l.seen.end(), x)) fresh++;
  }
  l.observed += fresh;
  l.seen = now;
  return fresh;
}

bool ThreadRoom(Template& t, pid_t tgid, pid_t tid) {
  ThreadLedger& l = t.thread_clones[tgid];
  const std::vector<pid_t> now = ThreadIds(tgid);
  if (now.empty()) return false;
  Observe(l, now);
  for (auto it = l.creators.begin(); it != l.creators.end();) {
    it = std::binary_search(now.begin(), now.end(), *it) ? std::next(it) : l.creators.erase(it);
  }
  const uint64_t by_count = l.allowed > l.observed ? l.allowed - l.observed : 0;
  const uint64_t open = std::min<uint64_t>(l.creators.size(), by_count);
  if (now.size() + open + 1 > 1 + uint64_t{t.threads}) return false;
  l.creators.insert(tid);
  l.allowed++;
  return true;
}

// After letting `tid`'s thread clone through: waits briefly for the new thread to show, so the
// next clone is decided on a settled count (one clone open at a time per process). A clone that
// fails, or takes longer, stays open in the ledger: stricter, never looser.
void SettleThreadClone(Template& t, pid_t tgid, pid_t tid) {
  constexpr uint64_t kSettleNs = 2 * 1000 * 1000;
  ThreadLedger& l = t.thread_clones[tgid];
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    const std::vector<pid_t> now = ThreadIds(tgid);
    if (now.empty()) return;  // gone
    if (Observe(l, now) > 0) {
      l.creators.erase(tid);
      return;
    }
    struct timespec at;
    clock_gettime(CLOCK_MONOTONIC, &at);
    const uint64_t spent = static_cast<uint64_t>(at.tv_sec - start.tv_sec) * 1000000000ull +
                           static_cast<uint64_t>(at.tv_nsec) - static_cast<uint64_t>(start.tv_nsec);
    if (spent >= kSettleNs) return;
    sched_yield();
  }
}

void HandleNotices(Template& t, int budget) {
  for (int i = 0; i < budget && t.listener >= 0; i++) {
    struct pollfd p = {t.listener, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN)) return;
    SyscallNotice n;
    int rc = ReceiveNotice(t.listener, &n);
    if (rc < 0) return;
    if (rc == 0) continue;
    const ProcessIds ids = CallerIds(t, n);
    if (!NoticePending(t.listener, n.id)) continue;  // it died meanwhile: what we read may be stale
    CallerFacts facts;
    facts.tgid = ids.ns_tgid;
    facts.is_template_main = n.tid == t.pid;
    facts.spawn_open = t.phase == Phase::kServing && t.clones_unreported < t.open_spawns.size();
    facts.loading = t.phase == Phase::kLoading;
    // A thread that asks for anything has returned from any clone it made before.
    auto clones = t.thread_clones.find(ids.tgid);
    if (clones != t.thread_clones.end()) clones->second.creators.erase(n.tid);
    const bool thread_clone = n.nr == __NR_clone && n.args[0] == kThreadCloneFlags;
    facts.thread_room = thread_clone && ids.tgid > 0 && ThreadRoom(t, ids.tgid, n.tid);
    const Verdict v = Decide(n, facts);
    if (v != Verdict::kViolation) {
      if (n.nr == __NR_clone && !thread_clone) t.clones_unreported++;
      Answer(t.listener, n.id, v);
      if (thread_clone && v == Verdict::kContinue) SettleThreadClone(t, ids.tgid, n.tid);
      continue;
    }
    ReportViolation(t, ids.tgid, n);
    // Before the answer: it must not run on. kill() of a thread id ends its whole process, for
    // when /proc could not say which process that is.
    kill(ids.tgid > 0 ? ids.tgid : n.tid, SIGKILL);
    Answer(t.listener, n.id, v);
  }
}

// Activation and spawn deadlines; returns the poll timeout until the next one (-1: none).
int CheckDeadlines() {
  const uint64_t now = NowMs();
  uint64_t next = 0;
  auto consider = [&](uint64_t d) { if (d && (next == 0 || d < next)) next = d; };
  for (auto& [id, t] : g_templates) {
    if (t.phase == Phase::kAwaitListener || t.phase == Phase::kLoading) {
      if (t.load_deadline_ms && now >= t.load_deadline_ms) {
        LoadError(t.plugin_id, LoadErrorKind::kTimeout, "loading did not finish before its deadline");
        KillTemplate(t);
        continue;
      }
      consider(t.load_deadline_ms);
    }
    for (auto& [worker, deadline] : t.open_spawns) {
      if (now >= deadline) {
        BreakTemplate(t, "did not answer spawn request " + std::to_string(worker) + " before its deadline");
        break;
      }
      consider(deadline);
    }
  }
  if (!g_removals.empty() && (next == 0 || next > now + 20)) next = now + 20;
  if (next == 0) return -1;
  return next <= now ? 0 : static_cast<int>(next - now);
}

void Reap() {
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG | __WALL);
    if (pid <= 0) return;
    if (pid == g_anchor) Shutdown();  // the namespace and every plugin process in it are gone
    uint32_t plugin_id = 0;
    uint64_t oom_kills = 0;  // of a worker: what its cgroup counted, read before it goes
    auto w = g_worker_pids.find(pid);
    if (w != g_worker_pids.end()) {
      CgroupUsage usage;
      if (g_cgroups->ReadWorkerUsage(w->second.plugin_id, w->second.cgroup, &usage).ok()) {
        oom_kills = usage.oom_kills;
      }
      g_cgroups->KillWorker(w->second.plugin_id, w->second.cgroup);  // anything it left
      Remove(w->second.plugin_id, w->second.cgroup);
      auto t = g_templates.find(w->second.plugin_id);
      if (t != g_templates.end()) t->second.thread_clones.erase(pid);
      g_worker_pids.erase(w);
    }
    auto it = g_template_pids.find(pid);
    if (it != g_template_pids.end()) {
      plugin_id = it->second;
      g_template_pids.erase(it);
      auto t = g_templates.find(plugin_id);
      if (t != g_templates.end()) {
        // What it said before dying (a load error) and what the monitor saw (a violation) must
        // reach the host before its exit does: the host explains a failed load by the most
        // specific report.
        HandleTemplate(t->second, kPerRound);
        HandleNotices(t->second, kPerRound);
        KillTemplate(t->second);  // its workers go with it
        g_templates.erase(t);
        Remove(plugin_id, kWholePlugin);
      }
    }
    SendHost(WireType::kExited, plugin_id, static_cast<uint32_t>(pid), static_cast<uint32_t>(status), plugin_id,
             &oom_kills, sizeof oom_kills);
  }
}

// A pid namespace for every plugin process, where the kernel lets us make one (root, or
// CAP_SYS_ADMIN; else a user namespace mapping only our own ids). Its init is a process that does
// nothing but reap and dies with us. Without one, plugin processes rely on their death signal and
// our process-group kill. Returns whether plugin processes are in the namespace.
bool EnterPidNamespace() {
  const uid_t uid = getuid();
  const gid_t gid = getgid();
  // The anchor's parent (us) is outside its namespace, so its getppid() is 0 whether we live or
  // not: a pidfd of ours tells it whether we died before its death signal was set.
  const int self = static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0));
  if (self < 0) return false;
  const bool own_user_ns = unshare(CLONE_NEWPID) != 0;
  if (own_user_ns && unshare(CLONE_NEWUSER | CLONE_NEWPID) != 0) {
    close(self);
    return false;
  }
  if (own_user_ns) {  // map only our own ids into it
    char map[64];
    snprintf(map, sizeof map, "%u %u 1", uid, uid);
    int fd = open("/proc/self/uid_map", O_WRONLY | O_CLOEXEC);
    bool ok = fd >= 0 && write(fd, map, strlen(map)) > 0;
    if (fd >= 0) close(fd);
    fd = open("/proc/self/setgroups", O_WRONLY | O_CLOEXEC);
    ok = ok && fd >= 0 && write(fd, "deny", 4) == 4;
    if (fd >= 0) close(fd);
    snprintf(map, sizeof map, "%u %u 1", gid, gid);
    fd = open("/proc/self/gid_map", O_WRONLY | O_CLOEXEC);
    ok = ok && fd >= 0 && write(fd, map, strlen(map)) > 0;
    if (fd >= 0) close(fd);
    if (!ok) _exit(2);  // half a user namespace: better no zygote than one that misreports ids
  }
  pid_t anchor = fork();
  if (anchor < 0) {  // the namespace's first process failed: fork()s from here fail too
    close(self);
    return false;
  }
  if (anchor == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (ProcessExited(self)) _exit(0);  // we are gone already
    syscall(__NR_close_range, 0, ~0U, 0);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    for (;;) {  // orphans of the namespace are ours to reap
      siginfo_t si;
      sigwaitinfo(&chld, &si);
      while (waitpid(-1, nullptr, WNOHANG | __WALL) > 0) {
      }
    }
  }
  close(self);
  g_anchor = anchor;
  return true;
}

}  // namespace
}  // namespace bulkhead

int main(int argc, char** argv) {
  using namespace bulkhead;
  // The host passes its pid: if it is already gone, the death signal below would never come.
  if (argc < 2) return 2;
  const pid_t host = static_cast<pid_t>(strtol(argv[1], nullptr, 10));
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != host) return kExitParentGone;
  if (fcntl(kHostFd, F_GETFD) < 0) return 2;
  signal(SIGPIPE, SIG_IGN);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, nullptr);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) return 2;
  // Cgroups first, while our ids are still the host's own.
  const CgroupSupport cgroups = ProbeCgroups(host);
  ReapStaleHosts(cgroups);
  g_cgroups = new CgroupTree(cgroups);
  g_cgroups->Prepare();
  const bool namespaced = EnterPidNamespace();
  g_seen_as = namespaced ? 0 : getpid();
  SendHost(WireType::kReady, 0, static_cast<uint32_t>(getpid()), namespaced ? 1 : 0, 0);

  struct Source {
    uint32_t plugin_id;
    bool notices;  // the listener, else the socket
  };
  std::vector<struct pollfd> fds;
  std::vector<Source> sources;
  for (;;) {
    if (!g_removals.empty()) RetryRemovals();
    const int timeout = CheckDeadlines();
    fds.clear();
    sources.clear();
    fds.push_back({kHostFd, POLLIN, 0});
    fds.push_back({sfd, POLLIN, 0});
    for (auto& [id, t] : g_templates) {
      if (t.sock >= 0) {
        fds.push_back({t.sock, POLLIN, 0});
        sources.push_back({id, false});
      }
      if (t.listener >= 0) {
        fds.push_back({t.listener, POLLIN, 0});
        sources.push_back({id, true});
      }
    }
    int ready = poll(fds.data(), fds.size(), g_want_spares ? 0 : timeout);
    if (ready < 0) {
      if (errno == EINTR) continue;
      Shutdown();
    }
    if (ready == 0 && g_want_spares) {  // idle: time for the next spawns' cgroups
      MakeSpares();
      continue;
    }
    // Notices first: a plugin process waits in the kernel until it is answered.
    for (size_t i = 2; i < fds.size(); i++) {
      if (!fds[i].revents) continue;
      auto it = g_templates.find(sources[i - 2].plugin_id);
      if (it == g_templates.end()) continue;
      Template& t = it->second;
      if (sources[i - 2].notices && t.listener == fds[i].fd) {
        if (fds[i].revents & (POLLHUP | POLLERR | POLLNVAL) && !(fds[i].revents & POLLIN)) {
          close(t.listener);  // no process of the plugin is left to notify
          t.listener = -1;
        } else {
          HandleNotices(t, kPerRound);
        }
      }
    }
    for (size_t i = 2; i < fds.size(); i++) {
      if (!fds[i].revents || sources[i - 2].notices) continue;
      auto it = g_templates.find(sources[i - 2].plugin_id);
      if (it != g_templates.end() && it->second.sock == fds[i].fd) HandleTemplate(it->second, kPerRound);
    }
    if (fds[1].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == sizeof si) {
      }
      Reap();
    }
    if (fds[0].revents) HandleHost();
  }
}
