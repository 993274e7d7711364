// bpf_evaluator_test.cc: the evaluator runs what seccomp runs and refuses what seccomp would refuse.
#include "sandbox/bpf_evaluator.h"

#include <gtest/gtest.h>
#include <linux/audit.h>
#include <stddef.h>

#include <vector>

namespace bulkhead {
namespace {

constexpr uint32_t kNrOff = offsetof(struct seccomp_data, nr);

struct Outcome {
  bool ok;
  uint32_t action;
  std::string error;
};

Outcome Eval(const std::vector<sock_filter>& p, const seccomp_data& d = {}) {
  Outcome r{false, 0, ""};
  r.ok = EvaluateBpf(p.data(), p.size(), d, &r.action, &r.error);
  return r;
}

seccomp_data Nr(int nr) {
  seccomp_data d{};
  d.nr = nr;
  return d;
}

TEST(BpfEvaluator, FollowsTakenAndNotTakenBranches) {
  std::vector<sock_filter> p = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kNrOff),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 39, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1),
  };
  EXPECT_EQ(Eval(p, Nr(39)).action, SECCOMP_RET_ALLOW);
  EXPECT_EQ(Eval(p, Nr(40)).action, SECCOMP_RET_ERRNO | 1u);
}

TEST(BpfEvaluator, ComparesArgumentWordsAndAluResults) {
  seccomp_data d{};
  d.args[1] = 0x0000000500000003ull;
  std::vector<sock_filter> p = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args) + 12),  // args[1] hi
      BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x4),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x4, 0, 1),
      BPF_STMT(BPF_RET | BPF_A, 0),
      BPF_STMT(BPF_RET | BPF_K, 0),
  };
  Outcome r = Eval(p, d);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.action, 4u);
}

TEST(BpfEvaluator, RejectsAJumpPastTheEnd) {
  std::vector<sock_filter> p = {
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 5),  // not taken for nr 0, still out of range
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  Outcome r = Eval(p);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("jump target out of range"), std::string::npos) << r.error;
  EXPECT_FALSE(Eval({BPF_STMT(BPF_JMP | BPF_JA, 1), BPF_STMT(BPF_RET | BPF_K, 0)}).ok);
}

TEST(BpfEvaluator, RejectsALoadBeyondSeccompData) {
  Outcome r = Eval({BPF_STMT(BPF_LD | BPF_W | BPF_ABS, sizeof(seccomp_data)),
                BPF_STMT(BPF_RET | BPF_K, 0)});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("load out of range"), std::string::npos) << r.error;
  EXPECT_FALSE(Eval({BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0xfffffffc), BPF_STMT(BPF_RET | BPF_K, 0)}).ok);
}

TEST(BpfEvaluator, RejectsAnUnalignedOrPartialWordLoad) {
  EXPECT_FALSE(Eval({BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 2), BPF_STMT(BPF_RET | BPF_K, 0)}).ok);
  EXPECT_FALSE(Eval({BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0), BPF_STMT(BPF_RET | BPF_K, 0)}).ok);
  EXPECT_FALSE(Eval({BPF_STMT(BPF_LD | BPF_W | BPF_IND, 0), BPF_STMT(BPF_RET | BPF_K, 0)}).ok);
}

TEST(BpfEvaluator, RejectsAProgramWhoseLastInstructionDoesNotReturn) {
  Outcome r = Eval({BPF_STMT(BPF_RET | BPF_K, 0), BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kNrOff)});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("not a return"), std::string::npos) << r.error;
}

TEST(BpfEvaluator, RejectsEmptyAndOversizedPrograms) {
  EXPECT_FALSE(Eval({}).ok);
  std::vector<sock_filter> big(BPF_MAXINSNS + 1, BPF_STMT(BPF_RET | BPF_K, 0));
  EXPECT_FALSE(Eval(big).ok);
}

TEST(BpfEvaluator, RejectsDivisionByZeroAndUnknownOpcodes) {
  EXPECT_FALSE(Eval({BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0), BPF_STMT(BPF_RET | BPF_K, 0)}).ok);
  EXPECT_FALSE(Eval({BPF_STMT(BPF_ALU | BPF_LSH | BPF_K, 32), BPF_STMT(BPF_RET | BPF_K, 0)}).ok);
  EXPECT_FALSE(Eval({BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, 3), BPF_STMT(BPF_RET | BPF_K, 0)}).ok);
  EXPECT_FALSE(Eval({BPF_STMT(BPF_ALU | 0xf0, 0), BPF_STMT(BPF_RET | BPF_K, 0)}).ok);
  EXPECT_FALSE(Eval({BPF_STMT(BPF_JMP | 0x50, 0), BPF_STMT(BPF_RET | BPF_K, 0)}).ok);
  EXPECT_FALSE(Eval({BPF_STMT(BPF_RET | BPF_X, 0)}).ok);
}

TEST(BpfEvaluator, RejectsReadingAnUnwrittenScratchWord) {
  EXPECT_FALSE(Eval({BPF_STMT(BPF_LD | BPF_MEM, 3), BPF_STMT(BPF_RET | BPF_A, 0)}).ok);
  EXPECT_FALSE(Eval({BPF_STMT(BPF_ST, 16), BPF_STMT(BPF_RET | BPF_K, 0)}).ok);
  Outcome r = Eval({BPF_STMT(BPF_LD | BPF_IMM, 7), BPF_STMT(BPF_ST, 3), BPF_STMT(BPF_LDX | BPF_MEM, 3),
                BPF_STMT(BPF_MISC | BPF_TXA, 0), BPF_STMT(BPF_RET | BPF_A, 0)});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.action, 7u);
}

}  // namespace
}  // namespace bulkhead
