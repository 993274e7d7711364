// sandbox_spec_fuzz.cc: DecodeSandboxSpec on any bytes. What it accepts must respect every bound
// and re-encode to exactly the input (the encoding has one form, so nothing was skipped or
// misread).
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "sandbox/sandbox_spec.h"

namespace {

void Put(std::vector<uint8_t>* out, const void* p, size_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  out->insert(out->end(), b, b + n);
}
void U32(std::vector<uint8_t>* out, uint32_t v) { Put(out, &v, sizeof v); }
void U64(std::vector<uint8_t>* out, uint64_t v) { Put(out, &v, sizeof v); }

void Paths(std::vector<uint8_t>* out, const std::vector<std::string>& paths) {
  if (paths.size() > 64) abort();
  U32(out, static_cast<uint32_t>(paths.size()));
  for (const std::string& p : paths) {
    if (p.empty() || p.size() > 4096 || p.find('\0') != std::string::npos) abort();
    U32(out, static_cast<uint32_t>(p.size()));
    Put(out, p.data(), p.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bulkhead::SandboxSpec s;
  if (!bulkhead::DecodeSandboxSpec(data, size, &s)) return 0;
  if (s.threads > bulkhead::kMaxThreadGrant) abort();
  std::vector<uint8_t> again;
  U32(&again, bulkhead::kSandboxSpecMagic);
  U32(&again, bulkhead::kSandboxSpecVersion);
  U64(&again, s.address_space_bytes);
  U64(&again, s.file_size_bytes);
  U32(&again, s.open_files);
  U32(&again, s.min_landlock_abi);
  Paths(&again, s.read_paths);
  U32(&again, static_cast<uint32_t>(s.config.size()));
  Put(&again, s.config.data(), s.config.size());
  U32(&again, s.threads);
  Paths(&again, s.write_paths);
  U64(&again, s.plugin_memory_bytes);
  U32(&again, s.plugin_pids);
  U64(&again, s.worker_memory_bytes);
  U32(&again, s.worker_cpu_quota_percent);
  U32(&again, s.worker_pids);
  if (again.size() != size || memcmp(again.data(), data, size) != 0) abort();
  return 0;
}
