// bpf_program.h: compiles a seccomp policy (rules per syscall, argument conditions) to classic BPF.
//
// The compiled program checks the audit architecture first (a foreign arch gets the default
// action), kills on the runtime's own "die" sentinel, gives any x86-64 x32 number the default
// action, then tests each rule's syscall number in turn; a syscall with no rule gets the default
// action too. Argument conditions compare all 64 bits
// (upper and lower words separately), so garbage in the upper half of an int argument never
// matches an allowance (REDTEAM #5).
#ifndef BULKHEAD_SANDBOX_BPF_PROGRAM_H
#define BULKHEAD_SANDBOX_BPF_PROGRAM_H

#include <linux/filter.h>
#include <stdint.h>

#include <vector>

namespace bulkhead {

// The stat emulation's SIGSYS handler ends the process through this number when the SIGSYS was not
// a seccomp trap (a plugin's own raise(SIGSYS) is a crash); every filter kills it.
// It has the x32 bit set on x86-64 and is far beyond any real syscall on aarch64.
constexpr uint32_t kDieSyscall = 0x7ffffff0u;

// (args[arg] & mask) == value, on the full 64-bit argument.
struct ArgCond {
  int arg;
  uint64_t mask;
  uint64_t value;
};

// If every condition holds (an empty list always holds), return `action`.
struct Branch {
  std::vector<ArgCond> all;
  uint32_t action;
};

struct SyscallRule {
  int nr;
  std::vector<Branch> branches;  // tried in order
  uint32_t otherwise;            // when no branch matched
};

// Returns false (and an empty program) if a rule is too large to encode.
bool CompileBpf(uint32_t audit_arch, const std::vector<SyscallRule>& rules, uint32_t default_action,
                std::vector<struct sock_filter>* out);

}  // namespace bulkhead

#endif
