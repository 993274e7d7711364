// host_ring_fuzz.cc: the host side of a ring driven against a worker whose every write into the
// shared region is the fuzz input. The input is a script: each step's first byte picks a worker
// write (arbitrary bytes anywhere in the region, a message header at the response head, a tail,
// a request head) or a host operation (submit, peek + copy + consume, read the crash slot).
// The host must never read or copy outside what it validated, and what it accepts must be
// within the limits it was created with.
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>

#include <vector>

#include "ring/crash_report.h"
#include "ring/host_ring.h"

namespace {

class Script {
 public:
  Script(const uint8_t* p, size_t n) : p_(p), n_(n) {}
  bool Done() const { return off_ >= n_; }
  template <typename T>
  T Take() {
    T v{};
    size_t k = std::min(sizeof v, n_ - off_);
    memcpy(&v, p_ + off_, k);
    off_ += k;
    return v;
  }

 private:
  const uint8_t* p_;
  size_t n_;
  size_t off_ = 0;
};

constexpr uint64_t kMaxIn = 4096;
constexpr uint64_t kMaxOut = 8192;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bulkhead::HostRing ring;
  if (ring.Create(kMaxIn, kMaxOut) != 0) abort();
  bh_region_header probe;
  if (pread(ring.region_fd(), &probe, sizeof probe, 0) != sizeof probe) abort();
  const uint64_t cap = probe.capacity;
  const size_t bytes = BH_REGION_BYTES(cap);
  auto* base = static_cast<uint8_t*>(
      mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, ring.region_fd(), 0));
  if (base == MAP_FAILED) abort();
  auto* h = reinterpret_cast<bh_region_header*>(base);
  uint8_t* resp = base + BH_RESP_RING_OFFSET(cap);
  uint64_t head = 0;  // the host's response head, as it consumes
  std::vector<uint8_t> input(kMaxIn + 1, 0x5a);

  Script s(data, size);
  for (int steps = 0; !s.Done() && steps < 64; steps++) {
    switch (s.Take<uint8_t>() % 8) {
      case 0: {  // arbitrary bytes anywhere in the region, host fields included
        uint64_t at = s.Take<uint32_t>() % (bytes - 8);
        uint64_t v = s.Take<uint64_t>();
        memcpy(base + at, &v, sizeof v);
        break;
      }
      case 1: {  // a message header at the response head (plus a chosen skew)
        bh_msg m{};
        m.kind = s.Take<uint8_t>() % 2 ? BH_MSG_RESPONSE : BH_MSG_LOG;
        m.code = s.Take<uint8_t>() % 4;
        m.payload_len = s.Take<uint16_t>();
        m.error_len = s.Take<uint16_t>() % 2048;
        uint64_t at = (head + 64 * (s.Take<uint8_t>() % 4)) % cap;
        memcpy(resp + at, &m, sizeof m);
        break;
      }
      case 2:  // a plausible tail: a few messages' worth ahead of the head
        h->resp_tail = head + 64 * static_cast<uint64_t>(s.Take<uint16_t>() % 512);
        break;
      case 3:
        h->resp_tail = s.Take<uint64_t>();
        break;
      case 4:
        h->req_head = s.Take<uint64_t>();
        break;
      case 5:
        ring.Submit(1, 0, input.data(), s.Take<uint16_t>() % (kMaxIn + 2), 0);
        break;
      case 6: {
        bulkhead::HostMessage m;
        if (ring.Peek(&m) != bulkhead::HostRing::kOk) break;
        const uint64_t body = m.payload_len + m.error_len;
        if (m.footprint < BH_MSG_HEADER_BYTES + body || m.footprint > cap ||
            m.footprint % BH_MSG_ALIGN != 0) {
          abort();
        }
        if (m.kind == BH_MSG_RESPONSE && m.payload_len > kMaxOut) abort();
        if (m.kind == BH_MSG_RESPONSE && m.error_len > BH_MAX_ERROR_BYTES) abort();
        if (m.kind == BH_MSG_LOG && m.payload_len > BH_MAX_LOG_BYTES) abort();
        std::vector<uint8_t> out(body);  // exactly sized: ASAN catches an overrun
        ring.CopyBody(m, out.data());
        ring.Consume(m, s.Take<uint8_t>() % 2 == 0);
        head += m.footprint;
        break;
      }
      case 7: {
        bulkhead::CrashReport r;
        bulkhead::ValidateCrashReport(ring.ReadCrash(), &r);
        break;
      }
    }
  }
  munmap(base, bytes);
  return 0;
}
