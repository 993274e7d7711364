// bpf_program.cc: a small, linear seccomp-BPF compiler (see bpf_program.h).
#include "sandbox/bpf_program.h"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stddef.h>

namespace bulkhead {
namespace {

constexpr uint32_t kArgLo(int i) { return offsetof(struct seccomp_data, args) + 8 * i; }
constexpr uint32_t kArgHi(int i) { return kArgLo(i) + 4; }
constexpr uint8_t kFailMarker = 0xff;

struct sock_filter Stmt(uint16_t code, uint32_t k) { return BPF_STMT(code, k); }
struct sock_filter Jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
  return BPF_JUMP(code, k, jt, jf);
}

// Appends `(word & mask) == value`, jumping to the branch's failure target otherwise.
void EmitWordCheck(uint32_t offset, uint32_t mask, uint32_t value, std::vector<sock_filter>* b) {
  if (mask == 0) return;
  b->push_back(Stmt(BPF_LD | BPF_W | BPF_ABS, offset));
  if (mask != 0xffffffffu) b->push_back(Stmt(BPF_ALU | BPF_AND | BPF_K, mask));
  b->push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, value & mask, 0, kFailMarker));
}

}  // namespace

bool CompileBpf(uint32_t audit_arch, const std::vector<SyscallRule>& rules, uint32_t default_action,
                std::vector<struct sock_filter>* out) {
  std::vector<sock_filter>& p = *out;
  p.clear();
  p.push_back(Stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
  p.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, audit_arch, 1, 0));
  p.push_back(Stmt(BPF_RET | BPF_K, default_action));
  p.push_back(Stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
  p.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, kDieSyscall, 0, 1));
  p.push_back(Stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
  if (audit_arch == AUDIT_ARCH_X86_64) {
    // x32 numbers carry AUDIT_ARCH_X86_64, so the arch check alone lets them through.
    p.push_back(Jump(BPF_JMP | BPF_JSET | BPF_K, 0x40000000u, 0, 1));
    p.push_back(Stmt(BPF_RET | BPF_K, default_action));
  }
  for (const SyscallRule& rule : rules) {
    std::vector<sock_filter> body;
    for (const Branch& br : rule.branches) {
      std::vector<sock_filter> b;
      for (const ArgCond& c : br.all) {
        EmitWordCheck(kArgHi(c.arg), static_cast<uint32_t>(c.mask >> 32),
                      static_cast<uint32_t>(c.value >> 32), &b);
        EmitWordCheck(kArgLo(c.arg), static_cast<uint32_t>(c.mask),
                      static_cast<uint32_t>(c.value), &b);
      }
      b.push_back(Stmt(BPF_RET | BPF_K, br.action));
      if (b.size() > 255) return false;
      for (size_t i = 0; i < b.size(); i++) {
        if (BPF_CLASS(b[i].code) == BPF_JMP && b[i].jf == kFailMarker) {
          b[i].jf = static_cast<uint8_t>(b.size() - (i + 1));  // the next branch starts there
        }
      }
      body.insert(body.end(), b.begin(), b.end());
    }
    body.push_back(Stmt(BPF_RET | BPF_K, rule.otherwise));
    if (body.size() > 255) return false;
    // Every path through a body ends in a return, so the accumulator still holds nr for the next
    // rule's test.
    p.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(rule.nr), 0,
                     static_cast<uint8_t>(body.size())));
    p.insert(p.end(), body.begin(), body.end());
  }
  p.push_back(Stmt(BPF_RET | BPF_K, default_action));
  return p.size() <= BPF_MAXINSNS;
}

}  // namespace bulkhead
