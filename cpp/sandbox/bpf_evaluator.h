// bpf_evaluator.h: a small, strict interpreter of classic seccomp BPF, so tests can ask a compiled
// policy what it does with a given syscall without installing it.
//
// As strict as the kernel's checker, and stricter where that catches compiler bugs: a jump or
// load out of range, an unaligned or out-of-bounds seccomp_data load, a last instruction that is
// not a return, an instruction seccomp would refuse, a scratch word read before it is written or
// a division by zero are all errors, never a guessed action.
#ifndef BULKHEAD_SANDBOX_BPF_EVALUATOR_H
#define BULKHEAD_SANDBOX_BPF_EVALUATOR_H

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>

#include <string>

namespace bulkhead {

// Runs `program` on `data`. Returns true and sets *action (the full SECCOMP_RET_* value, data
// bits included), or false and sets *error to the first fault.
bool EvaluateBpf(const struct sock_filter* program, size_t len, const struct seccomp_data& data,
                 uint32_t* action, std::string* error);

}  // namespace bulkhead

#endif
