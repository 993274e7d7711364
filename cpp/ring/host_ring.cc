// host_ring.cc: see host_ring.h and the threat model in region.h.
#include "ring/host_ring.h"

#include "ring/shared_word.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

namespace bulkhead {
namespace {

static_assert(sizeof(bh_msg) == BH_MSG_HEADER_BYTES, "message header size");
static_assert(offsetof(bh_region_header, req_head) % 64 == 0, "req_head on its own line");
static_assert(offsetof(bh_region_header, resp_tail) % 64 == 0, "resp_tail on its own line");
static_assert(offsetof(bh_region_header, resp_head) % 64 == 0, "resp_head on its own line");
static_assert(sizeof(bh_region_header) <= BH_REGION_HEADER_BYTES, "header fits its page");
static_assert(offsetof(bh_region_header, retired) == 448, "the header only ever grows at its end");
static_assert(sizeof(bh_crash_frame) == 88, "crash frame layout");

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

uint64_t RoundUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

}  // namespace

HostRing::~HostRing() {
  if (base_ != nullptr) munmap(base_, BH_REGION_BYTES(cap_));
  if (region_fd_ >= 0) close(region_fd_);
  if (event_fd_ >= 0) close(event_fd_);
}

int HostRing::Create(uint64_t max_input, uint64_t max_output) {
  max_input_ = max_input;
  max_output_ = max_output;
  // Any single message fits, whatever the position: the largest body plus its header.
  const uint64_t largest = std::max<uint64_t>({max_input, max_output, BH_MAX_ERROR_BYTES});
  cap_ = RoundUp(largest + BH_MSG_HEADER_BYTES, 4096);
  const uint64_t bytes = BH_REGION_BYTES(cap_);
  region_fd_ = static_cast<int>(
      syscall(__NR_memfd_create, "bulkhead-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL));
  if (region_fd_ < 0 && errno == EINVAL) {  // kernels before 6.3
    region_fd_ = static_cast<int>(syscall(__NR_memfd_create, "bulkhead-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  }
  if (region_fd_ < 0) return -errno;
  if (ftruncate(region_fd_, static_cast<off_t>(bytes)) != 0) return -errno;
  void* base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, region_fd_, 0);
  if (base == MAP_FAILED) return -errno;
  base_ = static_cast<uint8_t*>(base);
  h_ = reinterpret_cast<bh_region_header*>(base_);
  h_->magic = BH_REGION_MAGIC;
  h_->version = BH_REGION_VERSION;
  h_->capacity = cap_;
  h_->max_input = max_input;
  h_->max_output = max_output;
  h_->host_waiting = BH_HOST_EVENTFD;  // the event loop listens unless a sync call waits
  event_mode_ = true;
  // The worker can then neither shrink the region under our mapping (SIGBUS in Node) nor grow it.
  if (fcntl(region_fd_, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) return -errno;
  event_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event_fd_ < 0) return -errno;
  return 0;
}

HostRing::Result HostRing::Fail(const std::string& why) {
  broken_ = true;
  error_ = why;
  return kProtocolError;
}

// Only a worker that announced it may sleep needs the futex bumped and woken: it announces first
// and re-checks the ring after, we publish first and read the announcement after (seq_cst on both
// sides), so one of us always sees the other. A hot round trip then touches no futex word at all.
void HostRing::WakeWorker() {
  if (Load(&h_->worker_sleeping) != 0) {
    __atomic_fetch_add(&h_->req_futex, 1u, __ATOMIC_SEQ_CST);
    syscall(__NR_futex, &h_->req_futex, FUTEX_WAKE, 1, nullptr, nullptr, 0);
  }
}

HostRing::Result HostRing::Submit(uint32_t call_id, uint32_t fn, const uint8_t* input, uint64_t len,
                                  uint64_t deadline_ns) {
  if (broken_) return kProtocolError;
  if (len > max_input_) return Fail("request larger than the ring allows");
  const uint64_t head = Load(&h_->req_head);  // hostile: must lie in [seen, tail]
  if (head < req_head_seen_ || head > req_tail_) return Fail("request ring head out of range");
  req_head_seen_ = head;
  const uint64_t footprint = bh_msg_footprint(len, 0);
  if (cap_ - (req_tail_ - head) < footprint) return kFull;
  bh_msg m{};
  m.kind = BH_MSG_REQUEST;
  m.call_id = call_id;
  m.code = fn;
  m.payload_len = len;
  m.deadline_ns = deadline_ns;
  uint8_t* ring = base_ + BH_REQ_RING_OFFSET;
  const uint64_t pos = req_tail_ % cap_;
  memcpy(ring + pos, &m, sizeof m);  // headers never wrap: positions and cap are 64-aligned
  const uint64_t body = (pos + sizeof m) % cap_;
  const uint64_t first = std::min<uint64_t>(len, cap_ - body);
  if (first) memcpy(ring + body, input, first);
  if (first < len) memcpy(ring, input + first, len - first);
  req_tail_ += footprint;
  Store(&h_->req_tail, req_tail_);
  WakeWorker();
  return kOk;
}

HostRing::Result HostRing::Peek(HostMessage* out) {
  if (broken_) return kProtocolError;
  const uint64_t tail = Load(&h_->resp_tail);  // hostile
  if (tail == resp_head_) return kEmpty;
  if (tail < resp_head_ || tail - resp_head_ > cap_) return Fail("response ring tail out of range");
  const uint64_t avail = tail - resp_head_;
  if (avail < sizeof(bh_msg) || avail % BH_MSG_ALIGN != 0) return Fail("partial response message");
  bh_msg m;
  memcpy(&m, base_ + BH_RESP_RING_OFFSET(cap_) + resp_head_ % cap_, sizeof m);  // copy, then check
  HostMessage& o = *out;
  o.kind = m.kind;
  o.call_id = m.call_id;
  o.code = m.code;
  o.payload_len = m.payload_len;
  o.error_len = m.error_len;
  if (m.kind == BH_MSG_RESPONSE) {
    if (m.code == BH_OK && m.error_len != 0) return Fail("successful response with an error text");
    if (m.code != BH_OK && m.payload_len != 0) return Fail("failed response with a payload");
    if (m.payload_len > max_output_) return Fail("response payload larger than the output limit");
    if (m.error_len > BH_MAX_ERROR_BYTES) return Fail("error text longer than allowed");
  } else if (m.kind == BH_MSG_LOG) {
    if (m.code > BH_LOG_ERROR || m.error_len != 0 || m.payload_len > BH_MAX_LOG_BYTES) {
      return Fail("malformed log message");
    }
  } else {
    return Fail("unknown message kind");
  }
  o.footprint = bh_msg_footprint(o.payload_len, o.error_len);  // bounded above: no overflow
  if (o.footprint > avail) return Fail("message extends past the published tail");
  return kOk;
}

void HostRing::CopyBody(const HostMessage& msg, uint8_t* dst) const {
  const uint8_t* ring = base_ + BH_RESP_RING_OFFSET(cap_);
  const uint64_t len = msg.payload_len + msg.error_len;
  const uint64_t body = (resp_head_ + sizeof(bh_msg)) % cap_;
  const uint64_t first = std::min<uint64_t>(len, cap_ - body);
  if (first) memcpy(dst, ring + body, first);
  if (first < len) memcpy(dst + first, ring, len - first);
}

void HostRing::Consume(const HostMessage& msg, bool publish) {
  resp_head_ += msg.footprint;
  if (publish) PublishHead();
}

void HostRing::PublishHead() {
  Store(&h_->resp_head, resp_head_);
  WakeWorker();
}

bool HostRing::ResponsePending() { return Load(&h_->resp_tail) != resp_head_; }

bool HostRing::Spin(uint64_t spin_ns) {
  if (ResponsePending()) return true;
  if (spin_ns == 0) return false;
  // While we spin the worker need not write the eventfd (a syscall, and a wake-up of the event
  // loop for nothing). Restoring the mode and then re-checking closes the race with a publish.
  Store(&h_->host_waiting, static_cast<uint32_t>(BH_HOST_SPINNING));
  const uint64_t until = MonotonicNs() + spin_ns;
  bool got = false;
  for (uint32_t i = 1;; i++) {
    if (ResponsePending()) {
      got = true;
      break;
    }
    CpuRelax();
    if ((i & 63) == 0 && MonotonicNs() > until) break;
  }
  SetEventMode(event_mode_);
  return got || ResponsePending();
}

HostRing::Result HostRing::Wait(uint64_t deadline_ns, uint64_t spin_ns) {
  if (Spin(spin_ns)) return kOk;
  for (;;) {
    Store(&h_->host_waiting, static_cast<uint32_t>(BH_HOST_FUTEX));
    uint32_t seq = Load(&h_->resp_futex);
    if (ResponsePending()) break;
    struct timespec ts, *tsp = nullptr;
    if (deadline_ns != 0) {
      uint64_t now = MonotonicNs();
      if (now >= deadline_ns) {
        SetEventMode(event_mode_);
        return kTimedOut;
      }
      uint64_t left = deadline_ns - now;
      ts.tv_sec = static_cast<time_t>(left / 1000000000ull);
      ts.tv_nsec = static_cast<long>(left % 1000000000ull);
      tsp = &ts;
    }
    // A hostile worker may wake us spuriously; the loop re-checks and the deadline bounds it.
    syscall(__NR_futex, &h_->resp_futex, FUTEX_WAIT, seq, tsp, nullptr, 0);
    if (ResponsePending()) break;
  }
  SetEventMode(event_mode_);
  return kOk;
}

void HostRing::SetEventMode(bool on) {
  event_mode_ = on;
  Store(&h_->host_waiting, static_cast<uint32_t>(on ? BH_HOST_EVENTFD : BH_HOST_SPINNING));
}

bh_crash HostRing::ReadCrash() const {
  bh_crash c;
  memcpy(&c, &h_->crash, sizeof c);
  return c;
}

void HostRing::ClearEvent() {
  uint64_t v;
  while (read(event_fd_, &v, sizeof v) == sizeof v) {
  }
}

}  // namespace bulkhead
