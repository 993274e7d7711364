// cgroup_tree_test.cc: the plugin and worker cgroups against real processes. Needs a writable
// hierarchy (root, or a delegated cgroup); each test skips with the probe's reasons where the
// machine lacks what it covers. Every child is held on a pipe until it is placed, so the test
// decides what it runs inside its cgroup, and every child is killed and reaped after each test.
#include "monitor/cgroup_tree.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <set>

#include "monitor/cgroup_fs.h"

namespace bulkhead {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : "; ") + s;
  return out;
}

bool Exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

std::string Trimmed(std::optional<std::string> s) {
  std::string t = s.value_or("<unreadable>");
  while (!t.empty() && t.back() == '\n') t.pop_back();
  return t;
}

bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

double Seconds() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// The cgroup of `pid` in the hierarchy of `controller` at version `v` ("" for the v2 line).
std::string CgroupOf(pid_t pid, CgroupVersion v, const std::string& controller) {
  OwnCgroups own = ParseProcCgroup(ReadCgroupFile("/proc/" + std::to_string(pid) + "/cgroup").value_or(""));
  if (v == CgroupVersion::kV2) return own.v2.value_or("<none>");
  auto it = own.v1.find(controller);
  return it == own.v1.end() ? "<none>" : it->second;
}

// Allocates and writes `mib` MiB a page at a time, through volatile stores the compiler cannot
// elide, then returns if no limit stopped it: a bounded allocation, not a hang.
void TouchMemory(size_t mib) {
  for (size_t i = 0; i < mib; i++) {
    volatile char* p = static_cast<volatile char*>(malloc(kMiB));
    if (p == nullptr) _exit(4);
    for (size_t off = 0; off < kMiB; off += 4096) p[off] = static_cast<char>(i + 1);
  }
}

// A forked child that waits for one byte on a pipe, then runs `body` and exits 0.
struct Held {
  pid_t pid = -1;
  int go = -1;
};

class CgroupTreeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Grandchildren orphaned by a kill come to us, so a test can check how they died.
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    support_ = new CgroupSupport(ProbeCgroups(getpid()));
  }
  static void TearDownTestSuite() {
    delete support_;
    support_ = nullptr;
  }

  void SetUp() override {
    alarm(60);  // a hang fails the run instead of stalling it
    const CgroupSupport& s = *support_;
    if (!s.memory.usable() && !s.cpu.usable() && !s.pids.usable() && !s.unified.usable()) {
      GTEST_SKIP() << "no writable cgroup hierarchy: " << Joined(s.reasons);
    }
    tree_ = std::make_unique<CgroupTree>(s);
    host_ = "bulkhead-" + std::to_string(getpid());
  }

  void TearDown() override {
    for (pid_t pid : children_) kill(pid, SIGKILL);
    // Blocking: orphaned grandchildren, SIGKILLed by the test, may still be exiting.
    while (waitpid(-1, nullptr, 0) > 0 || errno == EINTR) {
    }
    if (tree_) {
      CgroupResult r = tree_->RemoveHost();
      EXPECT_TRUE(r.ok()) << r.reason;
      for (const std::string& d : HostDirs()) EXPECT_FALSE(Exists(d)) << d;
    }
    alarm(0);
  }

  const CgroupSupport& support() const { return *support_; }

  // bulkhead-<pid> in every usable hierarchy.
  std::vector<std::string> HostDirs() const {
    std::set<std::string> dirs;
    for (const CgroupHierarchy* h : {&support().memory, &support().cpu, &support().pids,
                                     &support().cpu_usage, &support().unified}) {
      if (h->usable()) dirs.insert(h->dir + "/" + host_);
    }
    return {dirs.begin(), dirs.end()};
  }

  // A directory of the cgroup `rel` (e.g. "p1/w1") that every process of it is listed in.
  std::string AnyDir(const std::string& rel) const {
    for (const CgroupHierarchy* h : {&support().unified, &support().memory, &support().pids}) {
      if (h->usable()) return h->dir + "/" + host_ + "/" + rel;
    }
    return support().cpu.dir + "/" + host_ + "/" + rel;
  }

  Held Hold(std::function<void()> body = [] {}) {
    int p[2];
    EXPECT_EQ(pipe2(p, O_CLOEXEC), 0);
    Held h;
    h.pid = fork();
    if (h.pid == 0) {
      close(p[1]);
      char c;
      if (read(p[0], &c, 1) != 1) _exit(3);
      body();
      _exit(0);
    }
    close(p[0]);
    h.go = p[1];
    children_.push_back(h.pid);
    return h;
  }

  void Release(Held& h) {
    ASSERT_EQ(write(h.go, "g", 1), 1);
    close(h.go);
    h.go = -1;
  }

  // Waits at most 5 s, so a process the code under test failed to kill fails the test, not the run.
  static int Reap(pid_t pid) {
    int status = 0;
    for (int i = 0; i < 5000; i++) {
      const pid_t r = waitpid(pid, &status, WNOHANG);
      if (r == pid) return status;
      if (r < 0) {
        ADD_FAILURE() << "waitpid " << pid << ": " << strerror(errno);
        return -1;
      }
      usleep(1000);
    }
    ADD_FAILURE() << "process " << pid << " still alive after 5 s";
    return -1;
  }

  // Waits (bounded) until `dir` lists `n` processes.
  std::vector<pid_t> WaitForPids(const std::string& dir, size_t n) {
    std::vector<pid_t> pids;
    for (int i = 0; i < 2000 && (pids = CgroupPids(dir)).size() < n; i++) usleep(1000);
    return pids;
  }

  static bool KilledBySigkill(int status) { return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL; }

  static CgroupSupport* support_;
  std::unique_ptr<CgroupTree> tree_;
  std::string host_;
  std::vector<pid_t> children_;
};

CgroupSupport* CgroupTreeTest::support_ = nullptr;

TEST_F(CgroupTreeTest, ProbeLeavesNoTrialDirectoryBehind) {
  const std::string trial = "bulkhead-" + std::to_string(getpid()) + "-probe-" + std::to_string(getpid());
  ProbeCgroups(getpid());
  for (const CgroupHierarchy* h : {&support().memory, &support().cpu, &support().pids,
                                   &support().cpu_usage, &support().unified}) {
    if (h->usable()) {
      EXPECT_FALSE(Exists(h->dir + "/" + trial)) << h->dir;
    }
  }
}

TEST_F(CgroupTreeTest, ProbeNeverEmptiesALiveHostDirectory) {
  // The addon may probe while the monitor has made plugin cgroups that hold no process yet.
  ASSERT_TRUE(tree_->AddPlugin(7, {}, nullptr).status != CgroupStatus::kFailed);
  ProbeCgroups(getpid());
  for (const CgroupHierarchy* h : {&support().memory, &support().pids, &support().unified}) {
    if (h->usable()) {
      EXPECT_TRUE(Exists(h->dir + "/" + host_ + "/p7")) << h->dir;
    }
  }
}

TEST_F(CgroupTreeTest, LimitsReadBackFromTheKernelAtBothLevels) {
  CgroupLimitResults plugin, worker;
  ASSERT_TRUE(tree_->AddPlugin(1, {256 * kMiB, 0, 64}, &plugin).ok());
  ASSERT_TRUE(tree_->AddWorker(1, 1, {32 * kMiB, 25, 4}, &worker).ok());
  auto status = [](const CgroupHierarchy& h) { return h.usable() ? CgroupStatus::kOk : CgroupStatus::kUnavailable; };
  EXPECT_EQ(plugin.memory.status, status(support().memory)) << plugin.memory.reason;
  EXPECT_EQ(plugin.pids.status, status(support().pids)) << plugin.pids.reason;
  EXPECT_EQ(worker.memory.status, status(support().memory)) << worker.memory.reason;
  EXPECT_EQ(worker.cpu.status, status(support().cpu)) << worker.cpu.reason;
  EXPECT_EQ(worker.pids.status, status(support().pids)) << worker.pids.reason;
  auto in = [this](const CgroupHierarchy& h, const std::string& rel, const char* file) {
    return Trimmed(ReadCgroupFile(h.dir + "/" + host_ + "/" + rel + "/" + file));
  };
  const bool v2mem = support().memory.version == CgroupVersion::kV2;
  if (support().memory.usable()) {
    EXPECT_EQ(in(support().memory, "p1", v2mem ? "memory.max" : "memory.limit_in_bytes"), "268435456");
    EXPECT_EQ(in(support().memory, "p1/w1", v2mem ? "memory.max" : "memory.limit_in_bytes"), "33554432");
    if (v2mem) {
      EXPECT_EQ(in(support().memory, "p1/w1", "memory.oom.group"), "1");
      EXPECT_EQ(in(support().memory, "p1", "memory.oom.group"), "0");  // an overrun takes one worker, not the plugin
    } else {
      EXPECT_EQ(in(support().memory, "p1/w1", "memory.swappiness"), "0");
    }
  }
  if (support().cpu.version == CgroupVersion::kV1) {
    EXPECT_EQ(in(support().cpu, "p1/w1", "cpu.cfs_quota_us"), "25000");
    EXPECT_EQ(in(support().cpu, "p1/w1", "cpu.cfs_period_us"), "100000");
  } else if (support().cpu.version == CgroupVersion::kV2) {
    EXPECT_EQ(in(support().cpu, "p1/w1", "cpu.max"), "25000 100000");
  }
  if (support().pids.usable()) {
    EXPECT_EQ(in(support().pids, "p1", "pids.max"), "64");
    EXPECT_EQ(in(support().pids, "p1/w1", "pids.max"), "4");
  }
}

TEST_F(CgroupTreeTest, UnusableControllerReportsItsLimitAsUnappliedNotOk) {
  CgroupSupport without = support();
  without.memory = {};
  without.reasons.push_back("memory: hidden by the test");
  tree_ = std::make_unique<CgroupTree>(without);
  CgroupLimitResults applied;
  tree_->AddPlugin(1, {}, nullptr);
  CgroupResult r = tree_->AddWorker(1, 1, {64 * kMiB, 0, 0}, &applied);
  EXPECT_NE(r.status, CgroupStatus::kFailed) << r.reason;
  EXPECT_EQ(applied.memory.status, CgroupStatus::kUnavailable);
  EXPECT_EQ(applied.memory.reason, "memory: hidden by the test");
  // The monitor refuses such a worker: the limit was asked for.
  EXPECT_EQ(applied.FirstUnapplied().reason, "memory: hidden by the test");
  // Not asking for it is not a gap.
  CgroupLimitResults none;
  tree_->AddWorker(1, 2, {0, 0, 0}, &none);
  EXPECT_TRUE(none.FirstUnapplied().ok()) << none.FirstUnapplied().reason;
}

TEST_F(CgroupTreeTest, HierarchyPrepareCannotUseIsDroppedAndItsLimitsSaySo) {
  CgroupSupport broken = support();
  broken.memory = {CgroupVersion::kV1, "/nonexistent/memory"};
  tree_ = std::make_unique<CgroupTree>(broken);
  CgroupResult prepared = tree_->Prepare();
  EXPECT_EQ(prepared.status, CgroupStatus::kUnavailable);
  EXPECT_EQ(prepared.err, ENOENT) << prepared.reason;
  CgroupLimitResults applied;
  tree_->AddPlugin(1, {64 * kMiB, 0, 0}, &applied);
  EXPECT_EQ(applied.memory.status, CgroupStatus::kUnavailable);
  EXPECT_EQ(applied.memory.reason, "memory: cannot create /nonexistent/memory/" + host_ + " (ENOENT)");
}

TEST_F(CgroupTreeTest, TemplateLivesInThePluginCgroupAndWorkersInTheirOwn) {
  ASSERT_TRUE(tree_->AddPlugin(1, {128 * kMiB, 0, 32}, nullptr).ok());
  ASSERT_TRUE(tree_->AddWorker(1, 1, {16 * kMiB, 50, 2}, nullptr).ok());
  ASSERT_TRUE(tree_->AddWorker(1, 2, {16 * kMiB, 0, 2}, nullptr).ok());
  Held t = Hold(), w1 = Hold(), w2 = Hold();
  const std::string host_cpu = CgroupOf(getpid(), support().cpu.version, "cpu");
  ASSERT_TRUE(tree_->PlacePluginProcess(1, t.pid).ok());
  ASSERT_TRUE(tree_->PlaceWorker(1, 1, w1.pid).ok());
  ASSERT_TRUE(tree_->PlaceWorker(1, 2, w2.pid).ok());
  struct Role { const CgroupHierarchy* h; const char* controller; };
  for (Role role : {Role{&support().memory, "memory"}, Role{&support().pids, "pids"},
                    Role{&support().unified, ""}}) {
    if (!role.h->usable()) continue;
    const bool v2 = role.h->version == CgroupVersion::kV2;
    // v2: the template sits in the leaf t, since p1 has controllers enabled for its children.
    EXPECT_TRUE(EndsWith(CgroupOf(t.pid, role.h->version, role.controller), "/" + host_ + (v2 ? "/p1/t" : "/p1")))
        << role.controller << ": " << CgroupOf(t.pid, role.h->version, role.controller);
    EXPECT_TRUE(EndsWith(CgroupOf(w1.pid, role.h->version, role.controller), "/" + host_ + "/p1/w1"));
    EXPECT_TRUE(EndsWith(CgroupOf(w2.pid, role.h->version, role.controller), "/" + host_ + "/p1/w2"));
  }
  if (support().cpu.version == CgroupVersion::kV1) {
    EXPECT_TRUE(EndsWith(CgroupOf(w1.pid, CgroupVersion::kV1, "cpu"), "/" + host_ + "/p1/w1"));
    // No quota asked: one cgroup.procs write fewer, and the worker stays in the host's cpu cgroup.
    EXPECT_EQ(CgroupOf(w2.pid, CgroupVersion::kV1, "cpu"), host_cpu);
    EXPECT_EQ(CgroupOf(t.pid, CgroupVersion::kV1, "cpu"), host_cpu);
  }
}

TEST_F(CgroupTreeTest, PlacingAPidThatIsGoneFailsWithEsrch) {
  ASSERT_TRUE(tree_->AddPlugin(1, {}, nullptr).ok());
  Held h = Hold();
  Release(h);
  Reap(h.pid);
  CgroupResult r = tree_->PlacePluginProcess(1, h.pid);
  EXPECT_EQ(r.status, CgroupStatus::kFailed);
  EXPECT_EQ(r.err, ESRCH) << r.reason;
  EXPECT_EQ(tree_->PlacePluginProcess(1, 0).status, CgroupStatus::kInvalid);
  EXPECT_EQ(tree_->PlaceWorker(1, 99, getpid()).status, CgroupStatus::kInvalid);
}

TEST_F(CgroupTreeTest, OutOfRangeLimitsAndUnknownIdsAreRefusedBeforeAnythingIsMade) {
  EXPECT_EQ(tree_->AddPlugin(9, {1000, 0, 0}, nullptr).status, CgroupStatus::kInvalid);
  EXPECT_EQ(tree_->AddPlugin(9, {0, kMaxCpuQuotaPercent + 1, 0}, nullptr).status, CgroupStatus::kInvalid);
  EXPECT_EQ(tree_->AddPlugin(9, {0, 0, kMaxPids + 1}, nullptr).status, CgroupStatus::kInvalid);
  EXPECT_FALSE(Exists(AnyDir("p9")));
  EXPECT_EQ(tree_->AddWorker(9, 1, {}, nullptr).status, CgroupStatus::kInvalid);
  ASSERT_TRUE(tree_->AddPlugin(9, {}, nullptr).ok());
  EXPECT_EQ(tree_->AddPlugin(9, {}, nullptr).status, CgroupStatus::kInvalid);
  ASSERT_TRUE(tree_->AddWorker(9, 1, {}, nullptr).ok());
  EXPECT_EQ(tree_->AddWorker(9, 1, {}, nullptr).status, CgroupStatus::kInvalid);
  EXPECT_EQ(tree_->KillWorker(9, 2).status, CgroupStatus::kInvalid);
}

TEST_F(CgroupTreeTest, CloneIntoCgroupFdStartsAChildInsideTheWorkerCgroup) {
  ASSERT_TRUE(tree_->AddPlugin(1, {}, nullptr).ok());
  ASSERT_TRUE(tree_->AddWorker(1, 1, {}, nullptr).ok());
  const int fd = tree_->WorkerCgroupFd(1, 1);
  if (fd < 0) GTEST_SKIP() << "no v2 hierarchy: " << Joined(support().reasons);
  EXPECT_GE(tree_->PluginProcessCgroupFd(1), 0);
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<uint64_t>(fd);
  long pid = syscall(__NR_clone3, &args, sizeof args);
  if (pid < 0 && (errno == ENOSYS || errno == E2BIG)) GTEST_SKIP() << "no clone3 with CLONE_INTO_CGROUP";
  ASSERT_GE(pid, 0) << strerror(errno);
  if (pid == 0) {
    char c;
    if (read(p[0], &c, 1) < 0) _exit(3);
    _exit(0);
  }
  children_.push_back(static_cast<pid_t>(pid));
  close(p[0]);
  EXPECT_TRUE(EndsWith(CgroupOf(static_cast<pid_t>(pid), CgroupVersion::kV2, ""), "/" + host_ + "/p1/w1"))
      << CgroupOf(static_cast<pid_t>(pid), CgroupVersion::kV2, "");
  close(p[1]);
}

TEST_F(CgroupTreeTest, OomKillOfAWorkerIsCountedAndTheTemplateSurvives) {
  if (!support().memory.usable()) GTEST_SKIP() << Joined(support().reasons);
  ASSERT_TRUE(tree_->AddPlugin(1, {512 * kMiB, 0, 0}, nullptr).ok());
  CgroupLimitResults applied;
  ASSERT_TRUE(tree_->AddWorker(1, 1, {16 * kMiB, 0, 0}, &applied).ok());
  ASSERT_TRUE(applied.memory.ok()) << applied.memory.reason;
  Held t = Hold();
  ASSERT_TRUE(tree_->PlacePluginProcess(1, t.pid).ok());
  // Bounded: 256 MiB touched a page at a time, then a clean exit if no limit stopped it.
  Held w = Hold([] { TouchMemory(256); });
  ASSERT_TRUE(tree_->PlaceWorker(1, 1, w.pid).ok());
  Release(w);
  const int status = Reap(w.pid);
  EXPECT_TRUE(KilledBySigkill(status)) << "status " << status;
  CgroupUsage usage;
  ASSERT_TRUE(tree_->ReadWorkerUsage(1, 1, &usage).ok());
  EXPECT_GE(usage.oom_kills, 1u);
  if (usage.memory_peak_bytes) {
    EXPECT_LE(*usage.memory_peak_bytes, 16 * kMiB);
  }
  EXPECT_EQ(kill(t.pid, 0), 0);
  EXPECT_EQ(waitpid(t.pid, nullptr, WNOHANG), 0);
}

TEST_F(CgroupTreeTest, PluginMemoryLimitBoundsAWorkerWhoseOwnLimitIsLooser) {
  if (!support().memory.usable()) GTEST_SKIP() << Joined(support().reasons);
  ASSERT_TRUE(tree_->AddPlugin(1, {24 * kMiB, 0, 0}, nullptr).ok());
  ASSERT_TRUE(tree_->AddWorker(1, 1, {512 * kMiB, 0, 0}, nullptr).ok());
  Held w = Hold([] { TouchMemory(256); });
  ASSERT_TRUE(tree_->PlaceWorker(1, 1, w.pid).ok());
  Release(w);
  const int status = Reap(w.pid);
  EXPECT_TRUE(KilledBySigkill(status)) << "status " << status;
  CgroupUsage worker, plugin;
  ASSERT_TRUE(tree_->ReadWorkerUsage(1, 1, &worker).ok());
  ASSERT_TRUE(tree_->ReadPluginUsage(1, &plugin).ok());
  EXPECT_GE(worker.oom_kills + plugin.oom_kills, 1u);
}

TEST_F(CgroupTreeTest, PluginPidsLimitBoundsWorkersTogetherWithTheTemplate) {
  if (!support().pids.usable()) GTEST_SKIP() << Joined(support().reasons);
  ASSERT_TRUE(tree_->AddPlugin(1, {0, 0, 2}, nullptr).ok());
  ASSERT_TRUE(tree_->AddWorker(1, 1, {0, 0, 8}, nullptr).ok());
  Held t = Hold();
  ASSERT_TRUE(tree_->PlacePluginProcess(1, t.pid).ok());
  Held w = Hold([] {
    const pid_t kid = fork();  // the plugin's third task: over its pids.max of 2
    if (kid == 0) _exit(0);
    _exit(kid < 0 ? 0 : 1);
  });
  ASSERT_TRUE(tree_->PlaceWorker(1, 1, w.pid).ok());
  Release(w);
  const int status = Reap(w.pid);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the fork past the plugin's limit succeeded";
}

TEST(CgroupProbe, UnreadableHostCgroupIsReportedNotGuessed) {
  CgroupSupport s = ProbeCgroups(0x7ffffff0);
  EXPECT_FALSE(s.memory.usable() || s.cpu.usable() || s.pids.usable() || s.unified.usable());
  ASSERT_EQ(s.reasons.size(), 1u);
  EXPECT_EQ(s.reasons[0], "cgroups: cannot read /proc/2147483632/cgroup or /proc/self/mountinfo (ENOENT)");
}

TEST_F(CgroupTreeTest, CpuTimeIsCountedForAWorkerWithoutAQuota) {
  if (!support().unified.usable() && support().cpu_usage.version != CgroupVersion::kV2) {
    GTEST_SKIP() << "cpu usage needs cpuacct joined (a quota) or a v2 hierarchy";
  }
  ASSERT_TRUE(tree_->AddPlugin(1, {}, nullptr).ok());
  ASSERT_TRUE(tree_->AddWorker(1, 1, {}, nullptr).ok());
  Held w = Hold([] {  // 200 ms of its own CPU time, however loaded the machine is
    struct timespec ts {};
    while (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0 && ts.tv_sec == 0 && ts.tv_nsec < 200'000'000) {
    }
  });
  ASSERT_TRUE(tree_->PlaceWorker(1, 1, w.pid).ok());
  Release(w);
  Reap(w.pid);
  CgroupUsage usage;
  ASSERT_TRUE(tree_->ReadWorkerUsage(1, 1, &usage).ok());
  ASSERT_TRUE(usage.cpu_usage_ns.has_value());
  EXPECT_GE(*usage.cpu_usage_ns, 150'000'000u);
  CgroupUsage plugin;
  ASSERT_TRUE(tree_->ReadPluginUsage(1, &plugin).ok());
  ASSERT_TRUE(plugin.cpu_usage_ns.has_value());
  EXPECT_GE(*plugin.cpu_usage_ns, *usage.cpu_usage_ns);  // the plugin counts its workers
}

TEST_F(CgroupTreeTest, PidsLimitRefusesForksAndCountsTheRefusals) {
  if (!support().pids.usable()) GTEST_SKIP() << Joined(support().reasons);
  ASSERT_TRUE(tree_->AddPlugin(1, {}, nullptr).ok());
  ASSERT_TRUE(tree_->AddWorker(1, 1, {0, 0, 2}, nullptr).ok());
  Held w = Hold([] {
    int started = 0;
    pid_t kids[5];
    for (int i = 0; i < 5; i++) {
      kids[i] = fork();
      if (kids[i] == 0) {
        pause();
        _exit(0);
      }
      if (kids[i] > 0) started++;
    }
    for (int i = 0; i < 5; i++) {
      if (kids[i] > 0) kill(kids[i], SIGKILL);
    }
    _exit(started);
  });
  ASSERT_TRUE(tree_->PlaceWorker(1, 1, w.pid).ok());
  Release(w);
  const int status = Reap(w.pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);  // itself and one more
  CgroupUsage usage;
  ASSERT_TRUE(tree_->ReadWorkerUsage(1, 1, &usage).ok());
  if (usage.pids_max_events) {
    EXPECT_GE(*usage.pids_max_events, 4u);
  }
  if (usage.pids_peak) {
    EXPECT_EQ(*usage.pids_peak, 2u);
  }
}

class CgroupKillTest : public CgroupTreeTest, public ::testing::WithParamInterface<bool> {
 protected:
  // With the parameter false, the tree acts as on a kernel without cgroup.kill.
  void SetUp() override {
    CgroupTreeTest::SetUp();
    if (IsSkipped()) return;
    if (GetParam() && !support().kill_supported) GTEST_SKIP() << Joined(support().reasons);
    CgroupSupport s = support();
    s.kill_supported = GetParam();
    tree_ = std::make_unique<CgroupTree>(s);
  }

  // A worker whose process starts two more once released: three to kill.
  Held Forker() {
    return Hold([] {
      for (int i = 0; i < 2; i++) {
        if (fork() == 0) {
          pause();
          _exit(0);
        }
      }
      pause();
    });
  }

  // Reaps `pids` (children, or grandchildren orphaned to this subreaper) and checks each died by SIGKILL.
  void ExpectAllKilled(const std::vector<pid_t>& pids) {
    for (pid_t pid : pids) {
      const int status = Reap(pid);
      EXPECT_TRUE(KilledBySigkill(status)) << pid << " status " << status;
    }
  }
};

TEST_P(CgroupKillTest, KillWorkerTakesItsDescendantsAndSparesTheTemplate) {
  ASSERT_TRUE(tree_->AddPlugin(1, {}, nullptr).ok());
  ASSERT_TRUE(tree_->AddWorker(1, 1, {}, nullptr).ok());
  Held t = Hold();
  ASSERT_TRUE(tree_->PlacePluginProcess(1, t.pid).ok());
  Held w = Forker();
  ASSERT_TRUE(tree_->PlaceWorker(1, 1, w.pid).ok());
  Release(w);  // only now, so its two children start inside the cgroup
  std::vector<pid_t> listed = WaitForPids(AnyDir("p1/w1"), 3);
  ASSERT_EQ(listed.size(), 3u);
  CgroupResult r = tree_->KillWorker(1, 1);
  ASSERT_TRUE(r.ok()) << r.reason;
  ExpectAllKilled({w.pid});  // first: its children are orphaned to us only once it has exited
  std::vector<pid_t> rest;
  for (pid_t p : listed) {
    if (p != w.pid) rest.push_back(p);
  }
  ExpectAllKilled(rest);
  EXPECT_EQ(waitpid(t.pid, nullptr, WNOHANG), 0);
}

TEST_P(CgroupKillTest, KillPluginTakesTemplateAndWorkersAndNothingElse) {
  ASSERT_TRUE(tree_->AddPlugin(1, {}, nullptr).ok());
  ASSERT_TRUE(tree_->AddWorker(1, 1, {}, nullptr).ok());
  ASSERT_TRUE(tree_->AddWorker(1, 2, {0, 30, 0}, nullptr).ok());  // in the cpu hierarchy too
  Held t = Hold(), w1 = Hold(), w2 = Hold(), outsider = Hold();
  ASSERT_TRUE(tree_->PlacePluginProcess(1, t.pid).ok());
  ASSERT_TRUE(tree_->PlaceWorker(1, 1, w1.pid).ok());
  ASSERT_TRUE(tree_->PlaceWorker(1, 2, w2.pid).ok());
  CgroupResult r = tree_->KillPlugin(1);
  ASSERT_TRUE(r.ok()) << r.reason;
  ExpectAllKilled({t.pid, w1.pid, w2.pid});
  EXPECT_EQ(waitpid(outsider.pid, nullptr, WNOHANG), 0);
  EXPECT_TRUE(tree_->RemovePlugin(1).ok());
}

TEST_P(CgroupKillTest, KillWorkerLeavesNothingOfAWorkerThatKeepsForking) {
  if (!support().pids.usable()) GTEST_SKIP() << Joined(support().reasons);
  ASSERT_TRUE(tree_->AddPlugin(1, {}, nullptr).ok());
  ASSERT_TRUE(tree_->AddWorker(1, 1, {0, 0, 24}, nullptr).ok());  // pids.max bounds the loop's rounds
  Held w = Hold([] {
    for (;;) {
      if (fork() == 0) continue;  // every child forks on too
      usleep(100);
    }
  });
  ASSERT_TRUE(tree_->PlaceWorker(1, 1, w.pid).ok());
  Release(w);
  ASSERT_GE(WaitForPids(AnyDir("p1/w1"), 8).size(), 8u);
  CgroupResult r = tree_->KillWorker(1, 1);
  ASSERT_TRUE(r.ok()) << r.reason;
  EXPECT_TRUE(KilledBySigkill(Reap(w.pid)));
  std::vector<pid_t> left = CgroupPids(AnyDir("p1/w1"));
  for (int i = 0; i < 5000 && !left.empty(); i++) {
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    usleep(1000);
    left = CgroupPids(AnyDir("p1/w1"));
  }
  EXPECT_TRUE(left.empty()) << left.size() << " processes survived the kill";
}

INSTANTIATE_TEST_SUITE_P(Modes, CgroupKillTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& i) {
                           return i.param ? "CgroupKill" : "SignalLoop";
                         });

TEST_F(CgroupTreeTest, RemovingAPopulatedWorkerIsBusyWithoutWaitingThenSucceedsAfterReap) {
  ASSERT_TRUE(tree_->AddPlugin(1, {}, nullptr).ok());
  ASSERT_TRUE(tree_->AddWorker(1, 1, {}, nullptr).ok());
  Held w = Hold();
  ASSERT_TRUE(tree_->PlaceWorker(1, 1, w.pid).ok());
  const double start = Seconds();
  CgroupResult r = tree_->RemoveWorker(1, 1);
  EXPECT_LT(Seconds() - start, 0.05);  // the monitor's poll loop must not stall on it
  EXPECT_EQ(r.status, CgroupStatus::kBusy) << r.reason;
  EXPECT_EQ(r.err, EBUSY);
  EXPECT_TRUE(Exists(AnyDir("p1/w1")));
  EXPECT_GE(tree_->WorkerCgroupFd(1, 1), support().unified.usable() ? 0 : -1);
  ASSERT_TRUE(tree_->KillWorker(1, 1).ok());
  Reap(w.pid);
  r = tree_->RemoveWorker(1, 1);
  EXPECT_TRUE(r.ok()) << r.reason;
  for (const std::string& d : HostDirs()) EXPECT_FALSE(Exists(d + "/p1/w1")) << d;
  EXPECT_EQ(tree_->WorkerCgroupFd(1, 1), -1);
  EXPECT_TRUE(tree_->RemoveWorker(1, 1).ok());  // what is gone stays gone
}

TEST_F(CgroupTreeTest, RemovingAPluginIsBusyWhileItsTemplateLives) {
  ASSERT_TRUE(tree_->AddPlugin(1, {}, nullptr).ok());
  ASSERT_TRUE(tree_->AddWorker(1, 1, {}, nullptr).ok());
  Held t = Hold();
  ASSERT_TRUE(tree_->PlacePluginProcess(1, t.pid).ok());
  EXPECT_EQ(tree_->RemovePlugin(1).status, CgroupStatus::kBusy);
  EXPECT_FALSE(Exists(AnyDir("p1/w1")));  // the empty worker went, leaves first
  EXPECT_TRUE(Exists(AnyDir("p1")));
  EXPECT_EQ(tree_->RemoveHost().status, CgroupStatus::kBusy);
  ASSERT_TRUE(tree_->KillPlugin(1).ok());
  Reap(t.pid);
  EXPECT_TRUE(tree_->RemovePlugin(1).ok());
  EXPECT_FALSE(Exists(AnyDir("p1")));
}

TEST_F(CgroupTreeTest, RemoveHostLeavesNoDirectoryAndTheTreeStartsAgain) {
  ASSERT_TRUE(tree_->AddPlugin(1, {64 * kMiB, 0, 16}, nullptr).ok());
  ASSERT_TRUE(tree_->AddWorker(1, 1, {0, 20, 0}, nullptr).ok());
  ASSERT_TRUE(tree_->AddPlugin(2, {}, nullptr).ok());
  CgroupResult r = tree_->RemoveHost();
  ASSERT_TRUE(r.ok()) << r.reason;
  for (const std::string& d : HostDirs()) EXPECT_FALSE(Exists(d)) << d;
  ASSERT_TRUE(tree_->AddPlugin(1, {}, nullptr).ok());
  EXPECT_TRUE(Exists(AnyDir("p1")));
}

TEST_F(CgroupTreeTest, PrepareClearsEmptyLeftoversOfAPreviousMonitorAndKeepsPopulatedOnes) {
  const std::string first = HostDirs()[0];
  ASSERT_EQ(MakeCgroupDir(first), 0);
  ASSERT_EQ(MakeCgroupDir(first + "/p5"), 0);
  ASSERT_EQ(MakeCgroupDir(first + "/p5/w1"), 0);
  ASSERT_EQ(MakeCgroupDir(first + "/p6"), 0);
  Held alive = Hold();
  ASSERT_EQ(WriteCgroupFile(first + "/p6/cgroup.procs", std::to_string(alive.pid)), 0);
  tree_->Prepare();
  EXPECT_FALSE(Exists(first + "/p5"));
  EXPECT_TRUE(Exists(first + "/p6"));
  kill(alive.pid, SIGKILL);
  Reap(alive.pid);
  EXPECT_EQ(RemoveCgroupDir(first + "/p6"), 0);
}

TEST_F(CgroupTreeTest, ReapStaleHostsRemovesDeadHostsOnlyAndSparesBusyOnes) {
  ASSERT_TRUE(tree_->AddPlugin(1, {}, nullptr).ok());
  const std::string scratch = AnyDir("p1/scratch");
  ASSERT_EQ(MakeCgroupDir(scratch), 0);
  Held dead = Hold(), dead2 = Hold();
  Release(dead);
  Reap(dead.pid);
  Release(dead2);
  Reap(dead2.pid);
  Held busy = Hold();
  const std::string d = std::to_string(dead.pid), d2 = std::to_string(dead2.pid);
  for (const std::string& rel : std::vector<std::string>{"bulkhead-" + d, "bulkhead-" + d + "/p1", "bulkhead-" + d + "/p1/w1",
                                 "bulkhead-" + d + "-probe-9", "bulkhead-1", "bulkhead-1/p1",
                                 host_, "bulkhead-x", "bulkhead-" + d2}) {
    ASSERT_EQ(MakeCgroupDir(scratch + "/" + rel), 0) << rel;
  }
  // A dead host's directory with a process still in it (an orphan worker) stays.
  ASSERT_EQ(WriteCgroupFile(scratch + "/bulkhead-" + d2 + "/cgroup.procs", std::to_string(busy.pid)), 0);
  EXPECT_EQ(ReapStaleHostsIn(scratch, getpid()), 2);
  EXPECT_FALSE(Exists(scratch + "/bulkhead-" + d));
  EXPECT_FALSE(Exists(scratch + "/bulkhead-" + d + "-probe-9"));
  EXPECT_TRUE(Exists(scratch + "/bulkhead-1/p1"));  // pid 1 is alive
  EXPECT_TRUE(Exists(scratch + "/" + host_));
  EXPECT_TRUE(Exists(scratch + "/bulkhead-x"));
  EXPECT_TRUE(Exists(scratch + "/bulkhead-" + d2));
  kill(busy.pid, SIGKILL);
  Reap(busy.pid);
  EXPECT_EQ(RemoveEmptyCgroupTree(scratch, 2), 0);
}

TEST_F(CgroupTreeTest, ReapStaleHostsOnTheRealTreeKeepsOurOwnDirectory) {
  ASSERT_TRUE(tree_->AddPlugin(1, {}, nullptr).ok());
  Held dead = Hold();
  Release(dead);
  Reap(dead.pid);
  const std::string parent = AnyDir("");
  const std::string root = parent.substr(0, parent.size() - host_.size() - 2);
  const std::string stale = root + "/bulkhead-" + std::to_string(dead.pid);
  ASSERT_EQ(MakeCgroupDir(stale), 0);
  ASSERT_EQ(MakeCgroupDir(stale + "/p3"), 0);
  EXPECT_GE(ReapStaleHosts(support()), 1);
  EXPECT_FALSE(Exists(stale));
  EXPECT_TRUE(Exists(AnyDir("p1")));
}

}  // namespace
}  // namespace bulkhead
