// sandbox_spec.h: what the host asks of a plugin's sandbox, as sent with a load request.
//
// Encoded by lib/policy.ts (little-endian): u32 magic "BHLS", u32 version, u64 address-space
// limit, u64 file-size limit, u32 open-file limit, u32 minimum Landlock ABI (0 = best effort),
// u32 read-path count, then per path u32 length + bytes, then u32 config length + bytes; since
// version 2: u32 thread grant, u32 write-path count, then per path u32 length + bytes; since
// version 3: the cgroup limits for the whole plugin (u64 memory bytes, u32 pids) and for each
// worker (u64 memory bytes, u32 cpu quota percent, u32 pids), 0 meaning not asked.
#ifndef BULKHEAD_SANDBOX_SANDBOX_SPEC_H
#define BULKHEAD_SANDBOX_SANDBOX_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

namespace bulkhead {

constexpr uint32_t kSandboxSpecMagic = 0x534c4842u;  // "BHLS"
constexpr uint32_t kSandboxSpecVersion = 3;
constexpr uint32_t kMaxThreadGrant = 256;
// RLIMIT_FSIZE when directories are writable and the caller set no limit: never unbounded.
constexpr uint64_t kDefaultWriteFileSizeBytes = 64ull << 20;

struct SandboxSpec {
  uint64_t address_space_bytes = 0;  // RLIMIT_AS, 0 = leave as is
  uint64_t file_size_bytes = 0;      // RLIMIT_FSIZE, 0 = none set (see FileSizeLimit)
  uint32_t open_files = 64;          // RLIMIT_NOFILE
  uint32_t min_landlock_abi = 0;
  std::vector<std::string> read_paths;
  std::vector<uint8_t> config;
  uint32_t threads = 0;              // 0: no threads; N: threads may be created (a cgroup bounds N)
  std::vector<std::string> write_paths;  // read + write beneath these
  // Cgroup limits the monitor applies; 0: not asked.
  uint64_t plugin_memory_bytes = 0;
  uint32_t plugin_pids = 0;
  uint64_t worker_memory_bytes = 0;
  uint32_t worker_cpu_quota_percent = 0;
  uint32_t worker_pids = 0;
};

// The RLIMIT_FSIZE to apply, 0 for none.
uint64_t FileSizeLimit(const SandboxSpec& spec);

// Returns false on any malformed or oversized field.
bool DecodeSandboxSpec(const uint8_t* data, size_t len, SandboxSpec* out);

}  // namespace bulkhead

#endif
