// process_facts_test.cc: the /proc parsers the monitor believes, on hostile-looking texts.
#include "zygote/process_facts.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bulkhead {
namespace {

TEST(ProcessFacts, StatusGivesTheOuterAndInnermostThreadGroup) {
  ProcessIds ids;
  ASSERT_TRUE(ParseStatusIds("Name:\tx\nTgid:\t1234\nNgid:\t0\nPid:\t1240\nPPid:\t99\nNStgid:\t1234\t5\n", &ids));
  EXPECT_EQ(ids.tgid, 1234);
  EXPECT_EQ(ids.ns_tgid, 5);
  EXPECT_EQ(ids.ppid, 99);
  ASSERT_TRUE(ParseStatusIds("Tgid:\t42\nPPid:\t1\n", &ids));  // no namespaces line: one namespace
  EXPECT_EQ(ids.ns_tgid, 42);
}

TEST(ProcessFacts, StatusWithoutItsFieldsIsRefused) {
  ProcessIds ids;
  EXPECT_FALSE(ParseStatusIds("Name:\tTgid:\t5\n", &ids));
  EXPECT_FALSE(ParseStatusIds("Tgid:\t-3\nPPid:\t1\n", &ids));
  EXPECT_FALSE(ParseStatusIds("", &ids));
}

TEST(ProcessFacts, StatPgrpSurvivesACommandNameWithParenthesesAndSpaces) {
  pid_t pgrp = 0;
  ASSERT_TRUE(ParseStatPgrp("77 (evil) 1 2 (x) S 10 77 77 0", &pgrp));
  EXPECT_EQ(pgrp, 77);
  EXPECT_FALSE(ParseStatPgrp("77 (noclose S 1 2", &pgrp));
  EXPECT_FALSE(ParseStatPgrp("77 (x) S 1 0 0", &pgrp));
}

TEST(ProcessFacts, OwnProcessIsReadBack) {
  ProcessIds ids;
  ASSERT_TRUE(ReadProcessIds(getpid(), &ids));
  EXPECT_EQ(ids.tgid, getpid());
  EXPECT_EQ(ids.ppid, getppid());
  EXPECT_EQ(ids.pgrp, getpgrp());
}

TEST(ProcessFacts, ThreadsAreListed) {
  // gtest runs its tests on the main thread alone.
  EXPECT_EQ(ThreadIds(getpid()), std::vector<pid_t>{getpid()});
  EXPECT_TRUE(ThreadIds(0x3fffffff).empty());
}

TEST(ProcessFacts, NotAPidfdIsNoPid) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  EXPECT_EQ(PidOfPidfd(p[0]), -1);
  EXPECT_FALSE(IsSeccompListener(p[0]));
  close(p[0]);
  close(p[1]);
}

TEST(ProcessFacts, ExitedIsSeenBeforeTheReapAndNotBefore) {
  int gate[2];
  ASSERT_EQ(pipe(gate), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    char c;
    close(gate[1]);
    (void)!read(gate[0], &c, 1);  // until the test closes its end
    _exit(0);
  }
  close(gate[0]);
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, child, 0));
  ASSERT_GE(pidfd, 0);
  EXPECT_FALSE(ProcessExited(pidfd));
  close(gate[1]);
  siginfo_t si = {};
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(child), &si, WEXITED | WNOWAIT), 0);  // a zombie now
  EXPECT_TRUE(ProcessExited(pidfd));
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  EXPECT_TRUE(ProcessExited(pidfd));
  close(pidfd);
  EXPECT_TRUE(ProcessExited(pidfd));  // no descriptor: no telling
}

}  // namespace
}  // namespace bulkhead
