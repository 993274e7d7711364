// cgroup_delegation_test.cc: the leaf move and the controller hand-over, on a real cgroup v2
// hierarchy where this machine has one writable (as root), with whichever controller it offers.
#include "monitor/cgroup_delegation.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "monitor/cgroup_fs.h"
#include "monitor/cgroup_probe.h"

namespace bulkhead {
namespace {

TEST(CgroupDelegation, RootIsOnlyALeafsParentWhenTheLeafIsOurs) {
  EXPECT_EQ(DelegatedRoot("/"), "/");
  EXPECT_EQ(DelegatedRoot("/bulkhead-host"), "/");
  EXPECT_EQ(DelegatedRoot("/a/b/bulkhead-host"), "/a/b");
  EXPECT_EQ(DelegatedRoot("/a/b"), std::nullopt);
  EXPECT_EQ(DelegatedRoot("/a/xbulkhead-host"), std::nullopt);
  EXPECT_EQ(DelegatedRoot("/a/bulkhead-host/b"), std::nullopt);
}

TEST(CgroupDelegation, UnwritableRootSaysSoAndMovesNothing) {
  if (getuid() == 0) GTEST_SKIP() << "root may write any cgroup";
  std::string why;
  const std::optional<std::string> own = OwnUnifiedDir(&why);
  if (!own) GTEST_SKIP() << why;
  const DelegationResult r = DelegateCgroup(*own, {"memory"});
  EXPECT_NE(r.error.find("cannot create"), std::string::npos) << r.error;
  EXPECT_TRUE(r.moved.empty());
  EXPECT_TRUE(r.enabled.empty());
}

TEST(CgroupDelegation, TheRealRootMovesNothing) {
  std::string why;
  const std::optional<std::string> own = OwnUnifiedDir(&why);
  if (!own) GTEST_SKIP() << why;
  if (access((*own + "/cgroup.type").c_str(), F_OK) == 0) GTEST_SKIP() << "this process is not in the hierarchy's root cgroup";
  const DelegationResult r = DelegateCgroup(*own, {});
  if (access(own->c_str(), W_OK) == 0) {
    EXPECT_EQ(r.error, "");
  } else {
    EXPECT_NE(r.error.find("not writable by this user"), std::string::npos) << r.error;
  }
  EXPECT_TRUE(r.moved.empty());
  EXPECT_EQ(access((*own + "/" + kHostLeaf).c_str(), F_OK), -1);  // no leaf made
  EXPECT_FALSE(CgroupPids(*own).empty());  // every process stays where it was
}

// A scratch v2 cgroup holding one child process, standing in for a container's cgroup.
class ScratchCgroup : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    const std::optional<std::string> own = OwnUnifiedDir(&why);
    if (!own) GTEST_SKIP() << why;
    // A controller our cgroup offers, passed down to the scratch cgroup (as the cgroup probe does,
    // this works where ours is the root, exempt from the no-internal-processes rule).
    const std::vector<std::string> offers = Words(ReadCgroupFile(*own + "/cgroup.controllers").value_or(""));
    if (offers.empty() || EnableForChildren(*own, offers[0]) != 0) {
      GTEST_SKIP() << "this process's cgroup v2 cgroup (" << *own << ") offers no controller to its children";
    }
    controller_ = offers[0];
    root_ = *own + "/bulkhead-delegation-test-" + std::to_string(getpid());
    if (int e = MakeCgroupDir(root_); e != 0) GTEST_SKIP() << "cannot create a v2 cgroup here: " << ErrnoName(e);
    child_ = fork();
    ASSERT_GE(child_, 0);
    if (child_ == 0) {
      pause();
      _exit(0);
    }
    ASSERT_EQ(WriteCgroupFile(root_ + "/cgroup.procs", std::to_string(child_)), 0);
  }
  void TearDown() override {
    if (child_ > 0) {
      kill(child_, SIGKILL);  // the test's own child
      waitpid(child_, nullptr, 0);
    }
    if (!root_.empty()) RemoveEmptyCgroupTree(root_, 2);
  }
  std::string root_;
  std::string controller_;  // one our cgroup offers and passes down
  pid_t child_ = 0;
};

TEST_F(ScratchCgroup, ProcessesMoveIntoTheLeafAndItsChildrenGetTheController) {
  // The rule delegation exists for: a cgroup holding a process cannot enable a controller.
  EXPECT_EQ(EnableForChildren(root_, controller_), EBUSY);
  const DelegationResult r = DelegateCgroup(root_, {controller_, "memory"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.moved, std::vector<pid_t>{child_});
  EXPECT_TRUE(CgroupPids(root_).empty());
  EXPECT_EQ(CgroupPids(root_ + "/" + kHostLeaf), std::vector<pid_t>{child_});
  EXPECT_EQ(r.enabled, std::vector<std::string>{controller_});
  const std::vector<std::string> on = Words(ReadCgroupFile(root_ + "/cgroup.subtree_control").value_or(""));
  EXPECT_NE(std::find(on.begin(), on.end(), controller_), on.end());
  // memory is bound to v1 here, or simply not offered: named, with the reason.
  if (std::find(r.enabled.begin(), r.enabled.end(), "memory") == r.enabled.end()) {
    ASSERT_EQ(r.reasons.size(), 1u);
    EXPECT_EQ(r.reasons[0].rfind("memory: ", 0), 0u) << r.reasons[0];
  }
  // A plugin cgroup beside the leaf shows the controller's files.
  ASSERT_EQ(MakeCgroupDir(root_ + "/bulkhead-1"), 0);
  const std::vector<std::string> child_offers = Words(ReadCgroupFile(root_ + "/bulkhead-1/cgroup.controllers").value_or(""));
  EXPECT_NE(std::find(child_offers.begin(), child_offers.end(), controller_), child_offers.end());
  // Again: nothing left to move, the controller stays on.
  const DelegationResult again = DelegateCgroup(root_, {controller_});
  EXPECT_EQ(again.error, "");
  EXPECT_TRUE(again.moved.empty());
  EXPECT_EQ(again.enabled, std::vector<std::string>{controller_});
}

}  // namespace
}  // namespace bulkhead
