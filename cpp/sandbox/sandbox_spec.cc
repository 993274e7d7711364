// sandbox_spec.cc: bounds-checked decoding of the load request's sandbox spec.
#include "sandbox/sandbox_spec.h"

#include <string.h>

namespace bulkhead {
namespace {

class Reader {
 public:
  Reader(const uint8_t* p, size_t n) : p_(p), n_(n) {}
  bool U32(uint32_t* v) { return Raw(v, sizeof *v); }
  bool U64(uint64_t* v) { return Raw(v, sizeof *v); }
  bool Bytes(size_t len, const uint8_t** out) {
    if (len > n_ - off_) return false;
    *out = p_ + off_;
    off_ += len;
    return true;
  }
  bool AtEnd() const { return off_ == n_; }

 private:
  bool Raw(void* v, size_t len) {
    const uint8_t* b;
    if (!Bytes(len, &b)) return false;
    memcpy(v, b, len);
    return true;
  }
  const uint8_t* p_;
  size_t n_;
  size_t off_ = 0;
};

constexpr uint32_t kMaxPaths = 64;
constexpr uint32_t kMaxPathBytes = 4096;

bool ReadPaths(Reader* r, std::vector<std::string>* out) {
  uint32_t npaths;
  if (!r->U32(&npaths) || npaths > kMaxPaths) return false;
  out->clear();
  for (uint32_t i = 0; i < npaths; i++) {
    uint32_t plen;
    const uint8_t* p;
    if (!r->U32(&plen) || plen == 0 || plen > kMaxPathBytes || !r->Bytes(plen, &p)) return false;
    if (memchr(p, 0, plen) != nullptr) return false;
    out->emplace_back(reinterpret_cast<const char*>(p), plen);
  }
  return true;
}

}  // namespace

bool DecodeSandboxSpec(const uint8_t* data, size_t len, SandboxSpec* out) {
  Reader r(data, len);
  uint32_t magic, version, config_len;
  if (!r.U32(&magic) || magic != kSandboxSpecMagic) return false;
  if (!r.U32(&version) || version != kSandboxSpecVersion) return false;
  if (!r.U64(&out->address_space_bytes) || !r.U64(&out->file_size_bytes)) return false;
  if (!r.U32(&out->open_files) || !r.U32(&out->min_landlock_abi)) return false;
  if (!ReadPaths(&r, &out->read_paths)) return false;
  const uint8_t* cfg;
  if (!r.U32(&config_len) || !r.Bytes(config_len, &cfg)) return false;
  out->config.assign(cfg, cfg + config_len);
  if (!r.U32(&out->threads) || out->threads > kMaxThreadGrant) return false;
  if (!ReadPaths(&r, &out->write_paths)) return false;
  if (!r.U64(&out->plugin_memory_bytes) || !r.U32(&out->plugin_pids)) return false;
  if (!r.U64(&out->worker_memory_bytes) || !r.U32(&out->worker_cpu_quota_percent) ||
      !r.U32(&out->worker_pids)) {
    return false;
  }
  return r.AtEnd();
}

uint64_t FileSizeLimit(const SandboxSpec& spec) {
  if (spec.file_size_bytes == 0 && !spec.write_paths.empty()) return kDefaultWriteFileSizeBytes;
  return spec.file_size_bytes;
}

}  // namespace bulkhead
