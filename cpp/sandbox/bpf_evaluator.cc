// bpf_evaluator.cc: see bpf_evaluator.h.
#include "sandbox/bpf_evaluator.h"

#include <string.h>

namespace bulkhead {
namespace {

constexpr uint32_t kScratchWords = 16;  // BPF_MEMWORDS

bool Fault(std::string* error, size_t pc, const char* why) {
  *error = "insn " + std::to_string(pc) + ": " + why;
  return false;
}

// The ALU operation `op` on a and operand b; false for a division by zero or an op seccomp
// refuses (BPF_MOD among them).
bool Alu(uint16_t op, uint32_t a, uint32_t b, uint32_t* out) {
  switch (op) {
    case BPF_ADD: *out = a + b; return true;
    case BPF_SUB: *out = a - b; return true;
    case BPF_MUL: *out = a * b; return true;
    case BPF_DIV: if (b == 0) return false; *out = a / b; return true;
    case BPF_AND: *out = a & b; return true;
    case BPF_OR: *out = a | b; return true;
    case BPF_XOR: *out = a ^ b; return true;
    // The kernel's classic-BPF checker refuses constant shifts of 32 or more.
    case BPF_LSH: if (b >= 32) return false; *out = a << b; return true;
    case BPF_RSH: if (b >= 32) return false; *out = a >> b; return true;
    case BPF_NEG: *out = 0u - a; return true;
    default: return false;
  }
}

}  // namespace

bool EvaluateBpf(const struct sock_filter* program, size_t len, const struct seccomp_data& data,
                 uint32_t* action, std::string* error) {
  if (len == 0 || len > BPF_MAXINSNS) return Fault(error, 0, "program length out of range");
  // As the kernel's checker: the last instruction returns, whatever the paths.
  if (program[len - 1].code != (BPF_RET | BPF_K) && program[len - 1].code != (BPF_RET | BPF_A)) {
    return Fault(error, len - 1, "the last instruction is not a return");
  }
  uint32_t a = 0, x = 0;
  uint32_t mem[kScratchWords] = {};
  bool mem_set[kScratchWords] = {};
  // Jump offsets are unsigned, so pc only grows: the loop ends within len steps.
  for (size_t pc = 0; pc < len; pc++) {
    const struct sock_filter& in = program[pc];
    const uint16_t cls = BPF_CLASS(in.code);
    switch (cls) {
      case BPF_LD:
      case BPF_LDX: {
        // Whole words only (BPF_W is 0, so the code is class | mode); seccomp refuses the rest.
        const uint16_t mode = BPF_MODE(in.code);
        if (in.code != (cls | mode)) return Fault(error, pc, "load size seccomp refuses");
        uint32_t v;
        if (mode == BPF_ABS && cls == BPF_LD) {
          if (in.k % 4 != 0 || in.k > sizeof data - 4) return Fault(error, pc, "load out of range");
          memcpy(&v, reinterpret_cast<const uint8_t*>(&data) + in.k, sizeof v);
        } else if (mode == BPF_IMM) {
          v = in.k;
        } else if (mode == BPF_MEM) {
          if (in.k >= kScratchWords) return Fault(error, pc, "scratch index out of range");
          if (!mem_set[in.k]) return Fault(error, pc, "scratch word read before written");
          v = mem[in.k];
        } else if (mode == BPF_LEN) {
          v = sizeof data;
        } else {
          return Fault(error, pc, "load mode seccomp refuses");
        }
        (cls == BPF_LD ? a : x) = v;
        break;
      }
      case BPF_ST:
      case BPF_STX:
        if (in.code != cls) return Fault(error, pc, "unknown store encoding");
        if (in.k >= kScratchWords) return Fault(error, pc, "scratch index out of range");
        mem[in.k] = cls == BPF_ST ? a : x;
        mem_set[in.k] = true;
        break;
      case BPF_ALU: {
        const uint16_t op = BPF_OP(in.code);
        if (op == BPF_NEG ? in.code != (BPF_ALU | BPF_NEG)
                          : (in.code & ~(BPF_OP(0xff) | BPF_SRC(0xff))) != BPF_ALU) {
          return Fault(error, pc, "unknown ALU encoding");
        }
        if (!Alu(op, a, BPF_SRC(in.code) == BPF_X ? x : in.k, &a)) {
          return Fault(error, pc, "bad ALU operation (unknown, division by zero, shift >= 32)");
        }
        break;
      }
      case BPF_JMP: {
        const uint16_t op = BPF_OP(in.code);
        size_t offset;
        if (op == BPF_JA) {
          if (in.code != (BPF_JMP | BPF_JA)) return Fault(error, pc, "unknown jump encoding");
          if (in.k >= len - pc - 1) return Fault(error, pc, "jump target out of range");
          offset = in.k;
        } else {
          if ((in.code & ~(BPF_OP(0xff) | BPF_SRC(0xff))) != BPF_JMP) {
            return Fault(error, pc, "unknown jump encoding");
          }
          const uint32_t b = BPF_SRC(in.code) == BPF_X ? x : in.k;
          bool taken;
          switch (op) {
            case BPF_JEQ: taken = a == b; break;
            case BPF_JGT: taken = a > b; break;
            case BPF_JGE: taken = a >= b; break;
            case BPF_JSET: taken = (a & b) != 0; break;
            default: return Fault(error, pc, "unknown jump operation");
          }
          // The kernel requires both targets inside the program, taken or not.
          const size_t room = len - pc - 1;
          if (static_cast<size_t>(in.jt) >= room || static_cast<size_t>(in.jf) >= room) {
            return Fault(error, pc, "jump target out of range");
          }
          offset = taken ? in.jt : in.jf;
        }
        pc += offset;
        break;
      }
      case BPF_RET: {
        const uint16_t src = BPF_RVAL(in.code);
        if (in.code != (BPF_RET | src) || (src != BPF_K && src != BPF_A)) {
          return Fault(error, pc, "unknown return encoding");
        }
        *action = src == BPF_K ? in.k : a;
        return true;
      }
      case BPF_MISC:
        if (in.code == (BPF_MISC | BPF_TAX)) {
          x = a;
        } else if (in.code == (BPF_MISC | BPF_TXA)) {
          a = x;
        } else {
          return Fault(error, pc, "unknown misc encoding");
        }
        break;
      default:
        return Fault(error, pc, "unknown instruction class");
    }
  }
  return Fault(error, len, "ran off the end");  // defence only: the last instruction returns
}

}  // namespace bulkhead
