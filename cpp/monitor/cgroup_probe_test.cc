// cgroup_probe_test.cc: the pure parsers and the planner on fixed mountinfo and /proc/<pid>/cgroup
// texts, one per kind of machine; each test is named after the mistake it would catch.
#include "monitor/cgroup_probe.h"

#include <gtest/gtest.h>

#include <set>

#include "monitor/cgroup_fs.h"

namespace bulkhead {
namespace {

// This machine: v1 controllers, a cgroup2 mount without controllers, memory in a nested cgroup.
constexpr const char* kHybridMountinfo =
    "22 1 253:0 / / rw,relatime - ext4 /dev/vda rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
constexpr const char* kHybridCgroup =
    "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/40bed\n2:cpuacct:/\n1:cpu:/\n0::/\n";

constexpr const char* kPureV2Mountinfo =
    "29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";
constexpr const char* kAllV2Controllers = "cpuset cpu io memory hugetlb pids rdma misc\n";

// The fixtures' filesystem: every directory exists unless listed as missing; cgroup.controllers
// of the v2 mount reads `controllers`.
CgroupView View(std::string controllers, std::set<std::string> missing = {}) {
  return CgroupView{
      [missing](const std::string& p) { return missing.count(p) == 0; },
      [controllers](const std::string& p) -> std::optional<std::string> {
        if (p.size() > 19 && p.compare(p.size() - 19, 19, "/cgroup.controllers") == 0) return controllers;
        return std::nullopt;
      },
  };
}

CgroupPlan Plan(const char* mountinfo, const char* cgroup, const CgroupView& view) {
  return PlanCgroups(ParseMountinfo(mountinfo), ParseProcCgroup(cgroup), view);
}

TEST(MountinfoParse, OctalEscapesInMountPointsAreDecoded) {
  EXPECT_EQ(UnescapeMountField("/mnt/my\\040cgroups\\011x\\134y"), "/mnt/my cgroups\tx\\y");
  // Not three octal digits: left as written rather than misread.
  EXPECT_EQ(UnescapeMountField("/a\\9b\\01"), "/a\\9b\\01");
  EXPECT_EQ(UnescapeMountField("\\"), "\\");
  auto m = ParseMountinfo("41 31 0:38 / /mnt/c\\040g rw - cgroup2 cgroup2 rw\n");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].point, "/mnt/c g");
}

TEST(MountinfoParse, OptionalFieldsBeforeTheSeparatorDoNotShiftTheFsType) {
  auto m = ParseMountinfo(
      "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw shared:9 master:3 - cgroup cgroup rw,cpu,cpuacct\n"
      "33 31 0:30 / /proc rw - proc proc rw\n"
      "garbage line\n"
      "\n");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].fstype, "cgroup");
  EXPECT_EQ(m[0].point, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(m[0].options, (std::vector<std::string>{"rw", "cpu", "cpuacct"}));
}

TEST(ProcCgroupParse, PathsWithColonsAndMalformedLinesAreHandled) {
  OwnCgroups own = ParseProcCgroup("4:memory:/a:b\n2:cpu,cpuacct:/x\nnot a line\n:x:/y\n0::/s:t\n");
  ASSERT_TRUE(own.v2.has_value());
  EXPECT_EQ(*own.v2, "/s:t");
  EXPECT_EQ(own.v1.at("memory"), "/a:b");
  EXPECT_EQ(own.v1.at("cpu"), "/x");
  EXPECT_EQ(own.v1.at("cpuacct"), "/x");
  EXPECT_EQ(own.v1.size(), 3u);
}

TEST(CgroupPlan, HybridV1MachineUsesV1ForEveryControllerAndV2ForKill) {
  CgroupPlan p = Plan(kHybridMountinfo, kHybridCgroup, View("hugetlb\n"));
  EXPECT_EQ(p.unified_dir, "/sys/fs/cgroup/unified");
  EXPECT_EQ(p.memory.version, CgroupVersion::kV1);
  EXPECT_EQ(p.memory.dir, "/sys/fs/cgroup/memory/process_api/40bed");
  EXPECT_EQ(p.cpu.version, CgroupVersion::kV1);
  EXPECT_EQ(p.cpu.dir, "/sys/fs/cgroup/cpu");
  EXPECT_EQ(p.pids.version, CgroupVersion::kV1);
  EXPECT_EQ(p.pids.dir, "/sys/fs/cgroup/pids");
  EXPECT_EQ(p.cpuacct_dir, "/sys/fs/cgroup/cpuacct");
}

TEST(CgroupPlan, PureV2AtTheRootUsesV2ForEveryController) {
  CgroupPlan p = Plan(kPureV2Mountinfo, "0::/\n", View(kAllV2Controllers));
  EXPECT_EQ(p.unified_dir, "/sys/fs/cgroup");
  for (const CgroupCandidate* c : {&p.memory, &p.cpu, &p.pids}) {
    EXPECT_EQ(c->version, CgroupVersion::kV2);
    EXPECT_EQ(c->dir, "/sys/fs/cgroup");
  }
  EXPECT_FALSE(p.cpuacct_dir.has_value());
}

TEST(CgroupPlan, V2InASystemdSliceRefusesControllersForTheNoInternalProcessesRule) {
  const char* own = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/term.scope\n";
  CgroupPlan p = Plan(kPureV2Mountinfo, own, View(kAllV2Controllers));
  const std::string dir = "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/term.scope";
  EXPECT_EQ(p.unified_dir, dir);  // still joined, for cgroup.kill and cpu.stat
  for (const CgroupCandidate* c : {&p.memory, &p.cpu, &p.pids}) {
    EXPECT_EQ(c->version, CgroupVersion::kNone);
    EXPECT_NE(c->reason.find("no-internal-processes"), std::string::npos) << c->reason;
    EXPECT_NE(c->reason.find(dir), std::string::npos) << c->reason;
  }
  EXPECT_EQ(p.memory.reason.rfind("memory: ", 0), 0u);
}

TEST(CgroupPlan, DelegatedHostInItsLeafGetsV2ControllersBesideTheLeaf) {
  const char* own = "0::/system.slice/app.service/bulkhead-host\n";
  CgroupPlan p = Plan(kPureV2Mountinfo, own, View(kAllV2Controllers));
  const std::string root = "/sys/fs/cgroup/system.slice/app.service";
  EXPECT_EQ(p.unified_dir, root);
  for (const CgroupCandidate* c : {&p.memory, &p.cpu, &p.pids}) {
    EXPECT_EQ(c->version, CgroupVersion::kV2) << c->reason;
    EXPECT_EQ(c->dir, root);
  }
}

TEST(CgroupPlan, ALeafNamedLikeOursOnlyAsASuffixIsNotDelegated) {
  CgroupPlan p = Plan(kPureV2Mountinfo, "0::/app.service/my-bulkhead-host\n", View(kAllV2Controllers));
  EXPECT_EQ(p.memory.version, CgroupVersion::kNone);
  EXPECT_NE(p.memory.reason.find("delegateCgroups()"), std::string::npos) << p.memory.reason;
}

TEST(CgroupPlan, ContainerBindMountOfItsOwnSubtreeMapsToTheMountPoint) {
  const char* mountinfo =
      "500 400 0:32 /docker/abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory\n"
      "501 400 0:36 /docker/abc /sys/fs/cgroup/pids ro,nosuid - cgroup cgroup rw,pids\n";
  CgroupPlan p = Plan(mountinfo, "8:pids:/docker/abc/inner\n4:memory:/docker/abc\n", View(""));
  EXPECT_EQ(p.memory.dir, "/sys/fs/cgroup/memory");
  EXPECT_EQ(p.pids.dir, "/sys/fs/cgroup/pids/inner");
}

TEST(CgroupPlan, BindMountOfAnotherSubtreeIsNotMistakenForOurs) {
  // /docker/abcdef starts with /docker/abc as a string but is not beneath it.
  const char* mountinfo = "500 400 0:32 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
  CgroupPlan p = Plan(mountinfo, "4:memory:/docker/abcdef\n", View(""));
  EXPECT_EQ(p.memory.version, CgroupVersion::kNone);
  EXPECT_EQ(p.memory.reason,
            "memory: its cgroup v1 hierarchy is not mounted where this process can reach /docker/abcdef");
}

TEST(CgroupPlan, PathOutsideOurCgroupNamespaceIsNotReachable) {
  // A process outside the reader's cgroup namespace shows "/.." paths; resolving them would
  // point above the mount.
  CgroupPlan p = Plan(kPureV2Mountinfo, "0::/../../system.slice\n", View(kAllV2Controllers));
  EXPECT_FALSE(p.unified_dir.has_value());
  EXPECT_EQ(p.memory.version, CgroupVersion::kNone);
  EXPECT_EQ(p.memory.reason.find("(no v2 mount)") != std::string::npos, true) << p.memory.reason;
}

TEST(CgroupPlan, MountWhoseDirectoryIsMissingIsSkippedForTheNextOne) {
  const char* mountinfo =
      "35 31 0:32 / /gone/memory rw - cgroup cgroup rw,memory\n"
      "36 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
  CgroupPlan p = Plan(mountinfo, "4:memory:/a\n", View("", {"/gone/memory/a"}));
  EXPECT_EQ(p.memory.dir, "/sys/fs/cgroup/memory/a");
}

TEST(CgroupPlan, MissingControllersSayWhyInsteadOfVanishing) {
  // v1 memory only, no v2 mount: cpu and pids have neither.
  const char* mountinfo = "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
  CgroupPlan p = Plan(mountinfo, "4:memory:/\n", View(""));
  EXPECT_EQ(p.memory.version, CgroupVersion::kV1);
  EXPECT_EQ(p.cpu.reason, "cpu: no cgroup v1 hierarchy has it and cgroup v2 does not offer it here (no v2 mount)");
  EXPECT_EQ(p.unified_reason.rfind("cgroup.kill: no cgroup v2 hierarchy", 0), 0u);
  // v2 root offering memory only: the others name what it does offer.
  CgroupPlan q = Plan(kPureV2Mountinfo, "0::/\n", View("memory\n"));
  EXPECT_EQ(q.memory.version, CgroupVersion::kV2);
  EXPECT_EQ(q.pids.reason, "pids: no cgroup v1 hierarchy has it and cgroup v2 does not offer it here "
                           "(/sys/fs/cgroup/cgroup.controllers: memory)");
  CgroupPlan r = Plan(kPureV2Mountinfo, "0::/\n", View(""));
  EXPECT_NE(r.cpu.reason.find("cgroup.controllers: empty"), std::string::npos) << r.cpu.reason;
}

TEST(CgroupPlan, ControllerBoundToV1IsNotTakenFromV2) {
  // Hybrid with memory on v1: v2 at the root offering memory must not win (the kernel does not
  // offer a controller on both).
  const char* mountinfo =
      "29 23 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
      "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
  CgroupPlan p = Plan(mountinfo, "4:memory:/m\n0::/\n", View("memory pids\n"));
  EXPECT_EQ(p.memory.version, CgroupVersion::kV1);
  EXPECT_EQ(p.pids.version, CgroupVersion::kV2);
}

TEST(CgroupPlan, CoMountedCpuAndCpuacctShareOneDirectory) {
  const char* mountinfo = "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n";
  CgroupPlan p = Plan(mountinfo, "2:cpu,cpuacct:/c\n", View(""));
  EXPECT_EQ(p.cpu.dir, "/sys/fs/cgroup/cpu,cpuacct/c");
  EXPECT_EQ(p.cpuacct_dir, "/sys/fs/cgroup/cpu,cpuacct/c");
}

TEST(CgroupFiles, KeyedValueMatchesTheWholeKeyOnly) {
  const char* oom_control = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
  EXPECT_EQ(KeyedValue(oom_control, "oom_kill"), 3u);
  EXPECT_EQ(KeyedValue("oom_kill_disable 1\n", "oom_kill"), std::nullopt);
  EXPECT_EQ(KeyedValue("usage_usec 12\nuser_usec 5", "user_usec"), 5u);
  EXPECT_EQ(KeyedValue("max -1\n", "max"), std::nullopt);
  EXPECT_EQ(KeyedValue("max 99999999999999999999\n", "max"), std::nullopt);  // overflows
}

TEST(CgroupFiles, SingleValueRefusesMaxAndJunk) {
  EXPECT_EQ(SingleValue("4096\n"), 4096u);
  EXPECT_EQ(SingleValue("max\n"), std::nullopt);
  EXPECT_EQ(SingleValue(""), std::nullopt);
  EXPECT_EQ(SingleValue("12 34\n"), std::nullopt);
}

}  // namespace
}  // namespace bulkhead
