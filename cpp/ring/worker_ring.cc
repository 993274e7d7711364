// worker_ring.cc: see worker_ring.h. Wake-up protocol: both sides spin briefly, then sleep on a
// futex word in the region; the sleeper announces itself in a flag that the producer reads after
// publishing (seq_cst on both sides, so one of them always sees the other).
#include "ring/worker_ring.h"

#include "ring/shared_word.h"

#include <errno.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

namespace bulkhead {
namespace {

constexpr uint64_t kSpinNs = 50 * 1000;
constexpr size_t kMaxLogsPerCall = 64;
constexpr uint64_t kMaxLogBytesPerCall = 64 * 1024;
constexpr size_t kKeepScratchBytes = 8u << 20;

void FutexWait(uint32_t* word, uint32_t expected) {
  syscall(__NR_futex, word, FUTEX_WAIT, expected, nullptr, nullptr, 0);
}
void FutexWake(uint32_t* word) { syscall(__NR_futex, word, FUTEX_WAKE, 1, nullptr, nullptr, 0); }

}  // namespace

uint8_t* Scratch::Resize(size_t n) {
  if (n > cap_) {
    const size_t cap = n > 2 * cap_ ? n : 2 * cap_;
    std::unique_ptr<uint8_t[]> p(new uint8_t[cap]);  // default-initialised: no zero fill
    if (size_ > 0) memcpy(p.get(), p_.get(), size_ < n ? size_ : n);
    p_ = std::move(p);
    cap_ = cap;
  }
  size_ = n;
  return p_.get();
}

void Scratch::Trim(size_t keep) {
  if (cap_ <= keep) return;
  p_.reset();
  cap_ = 0;
  size_ = 0;
}

bool WorkerRing::Map(int region_fd, int event_fd) {
  bh_region_header probe;
  if (pread(region_fd, &probe, sizeof probe, 0) != static_cast<ssize_t>(sizeof probe)) return false;
  if (probe.magic != BH_REGION_MAGIC || probe.version != BH_REGION_VERSION) return false;
  if (probe.capacity == 0 || probe.capacity % BH_MSG_ALIGN != 0) return false;
  void* base = mmap(nullptr, BH_REGION_BYTES(probe.capacity), PROT_READ | PROT_WRITE, MAP_SHARED,
                    region_fd, 0);
  if (base == MAP_FAILED) return false;
  h_ = static_cast<bh_region_header*>(base);
  cap_ = probe.capacity;
  max_output_ = probe.max_output;
  req_ = static_cast<uint8_t*>(base) + BH_REQ_RING_OFFSET;
  resp_ = static_cast<uint8_t*>(base) + BH_RESP_RING_OFFSET(cap_);
  event_fd_ = event_fd;
  req_head_ = Load(&h_->req_head);
  resp_tail_ = Load(&h_->resp_tail);
  return true;
}

void WorkerRing::WaitForHost(uint64_t seen_req_tail, uint64_t seen_resp_head) {
  // The caller's snapshot, not a fresh one: a request published since its check must not be
  // mistaken for "nothing new" (that would sleep through the host's one wake-up).
  auto changed = [&] {
    return Load(&h_->req_tail) != seen_req_tail || Load(&h_->resp_head) != seen_resp_head;
  };
  const uint64_t start = MonotonicNs();
  for (uint32_t i = 1;; i++) {
    if (changed()) return;
    CpuRelax();
    if ((i & 63) == 0 && MonotonicNs() - start > kSpinNs) break;
  }
  Store(&h_->worker_sleeping, 1u);  // announce first, then read the futex word and re-check
  const uint32_t seq = Load(&h_->req_futex);
  if (!changed()) FutexWait(&h_->req_futex, seq);
  Store(&h_->worker_sleeping, 0u);
}

WorkerRequest WorkerRing::Next() {
  for (;;) {
    const uint64_t tail = Load(&h_->req_tail);
    if (tail != req_head_) break;
    WaitForHost(tail, Load(&h_->resp_head));
  }
  const uint64_t pos = req_head_ % cap_;
  bh_msg m;
  const uint64_t first = std::min<uint64_t>(sizeof m, cap_ - pos);
  memcpy(&m, req_ + pos, first);
  if (first < sizeof m) memcpy(reinterpret_cast<uint8_t*>(&m) + first, req_, sizeof m - first);
  WorkerRequest r{};
  r.call_id = m.call_id;
  r.fn = m.code;
  r.deadline_ns = m.deadline_ns;
  r.input_len = m.payload_len;
  r.footprint = bh_msg_footprint(m.payload_len, 0);
  const uint64_t body = (req_head_ + sizeof m) % cap_;
  if (body + m.payload_len <= cap_) {
    r.input = req_ + body;  // contiguous: read in place
  } else {
    const uint64_t part = cap_ - body;
    uint8_t* in = input_scratch_.Resize(m.payload_len);
    memcpy(in, req_ + body, part);
    memcpy(in + part, req_, m.payload_len - part);
    r.input = in;
  }
  return r;
}

void WorkerRing::Consume(const WorkerRequest& req) {
  req_head_ += req.footprint;
  Store(&h_->req_head, req_head_);
  input_scratch_.Trim(kKeepScratchBytes);
}

void WorkerRing::WaitForRespSpace(uint64_t bytes) {
  for (;;) {
    const uint64_t tail = Load(&h_->req_tail);
    const uint64_t head = Load(&h_->resp_head);
    if (cap_ - (resp_tail_ - head) >= bytes) return;
    WaitForHost(tail, head);
  }
}

void WorkerRing::BeginOutput() {
  out_in_ring_ = false;
  out_alloc_ = 0;
  out_len_ = 0;
  out_committed_ = false;
  out_scratch_.Clear();
}

uint8_t* WorkerRing::OutputAlloc(size_t len, bh_status* status) {
  if (len > max_output_) {
    if (status) *status = BH_ERR_OUTPUT_TOO_LARGE;
    return nullptr;
  }
  if (status) *status = BH_OK;
  out_committed_ = false;
  const uint64_t pos = resp_tail_ % cap_;
  const bool fits_contiguously = pos + sizeof(bh_msg) + len <= cap_;
  if (fits_contiguously && (out_alloc_ == 0 || out_in_ring_)) {
    WaitForRespSpace(bh_msg_footprint(len, 0));
    out_in_ring_ = true;
    out_alloc_ = len;
    return resp_ + pos + sizeof(bh_msg);
  }
  if (out_in_ring_) {  // outgrew the ring's contiguous room: keep the bytes, move to scratch
    memcpy(out_scratch_.Resize(out_alloc_), resp_ + pos + sizeof(bh_msg), out_alloc_);
    out_in_ring_ = false;
  }
  out_alloc_ = len;
  return out_scratch_.Resize(len);  // keeps the first min(old, len) bytes
}

bh_status WorkerRing::OutputCommit(size_t len) {
  if (len > out_alloc_) return BH_ERR_INVALID_INPUT;
  out_len_ = len;
  out_committed_ = true;
  return BH_OK;
}

void WorkerRing::Log(uint32_t call_id, uint32_t level, const char* msg, size_t len) {
  len = std::min<size_t>(len, BH_MAX_LOG_BYTES);
  if (logs_.size() >= kMaxLogsPerCall || log_bytes_ + len > kMaxLogBytesPerCall) return;
  logs_.push_back({call_id, level, std::vector<uint8_t>(msg, msg + len)});
  log_bytes_ += len;
}

void WorkerRing::WriteResp(uint64_t index, const void* src, uint64_t len) {
  const uint64_t pos = index % cap_;
  const uint64_t first = std::min<uint64_t>(len, cap_ - pos);
  memcpy(resp_ + pos, src, first);
  if (first < len) memcpy(resp_, static_cast<const uint8_t*>(src) + first, len - first);
}

void WorkerRing::NotifyHost() {
  const uint32_t mode = Load(&h_->host_waiting);  // read after publishing (see HostRing::Wait)
  if (mode == BH_HOST_FUTEX) {
    __atomic_fetch_add(&h_->resp_futex, 1u, __ATOMIC_SEQ_CST);
    FutexWake(&h_->resp_futex);
  } else if (mode == BH_HOST_EVENTFD) {
    const uint64_t one = 1;
    ssize_t n = write(event_fd_, &one, sizeof one);
    (void)n;  // EAGAIN means the counter is already non-zero: the host is being woken anyway
  }
}

void WorkerRing::PublishMessage(const bh_msg& m, const void* body, uint64_t body_len) {
  const uint64_t footprint = bh_msg_footprint(body_len, 0);
  WaitForRespSpace(footprint);
  WriteResp(resp_tail_, &m, sizeof m);
  if (body_len) WriteResp(resp_tail_ + sizeof m, body, body_len);
  resp_tail_ += footprint;
  Store(&h_->resp_tail, resp_tail_);
}

void WorkerRing::Publish(uint32_t call_id, uint32_t code, const char* error, size_t error_len) {
  bh_msg m{};
  m.kind = BH_MSG_RESPONSE;
  m.call_id = call_id;
  m.code = code;
  if (code != BH_OK) {
    error_len = std::min<size_t>(error_len, BH_MAX_ERROR_BYTES);
    m.error_len = static_cast<uint32_t>(error_len);
    PublishMessage(m, error, error_len);
  } else {
    const uint64_t len = out_committed_ ? out_len_ : out_alloc_;
    m.payload_len = len;
    if (out_in_ring_) {  // bytes are already in place after the header slot
      WaitForRespSpace(bh_msg_footprint(len, 0));
      WriteResp(resp_tail_, &m, sizeof m);
      resp_tail_ += bh_msg_footprint(len, 0);
      Store(&h_->resp_tail, resp_tail_);
    } else {
      PublishMessage(m, out_scratch_.data(), len);
    }
  }
  out_scratch_.Trim(kKeepScratchBytes);
  NotifyHost();
  // Logs follow the response: output may already sit in the ring where they would have gone.
  if (logs_.empty()) return;
  for (const PendingLog& l : logs_) {
    bh_msg m{};
    m.kind = BH_MSG_LOG;
    m.call_id = l.call_id;
    m.code = l.level;
    m.payload_len = l.text.size();
    PublishMessage(m, l.text.data(), l.text.size());
  }
  logs_.clear();
  log_bytes_ = 0;
  NotifyHost();
}

}  // namespace bulkhead
