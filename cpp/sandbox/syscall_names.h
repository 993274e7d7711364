// syscall_names.h: names for syscall numbers and audit architectures, for violation reports.
#ifndef BULKHEAD_SANDBOX_SYSCALL_NAMES_H
#define BULKHEAD_SANDBOX_SYSCALL_NAMES_H

#include <stdint.h>

#include <string>

namespace bulkhead {

// "openat", "x32:2", "i386:5", or "syscall_N" for numbers the table does not know.
std::string SyscallName(uint32_t audit_arch, long nr);
// "x86_64", "i386", "aarch64", "arm" or "unknown".
const char* ArchName(uint32_t audit_arch);

}  // namespace bulkhead

#endif
