// worker_ring.h: the worker's side of the shared region: take requests, build and publish
// responses, and wake the host.
//
// The worker trusts the host's fields (the host is the more privileged side) and owns its own.
// One request is served at a time. Output is built in the response ring when it fits there
// contiguously (zero copy) and in private scratch memory otherwise, copied in on publish.
#ifndef BULKHEAD_RING_WORKER_RING_H
#define BULKHEAD_RING_WORKER_RING_H

#include <stddef.h>
#include <stdint.h>

#include <memory>
#include <vector>

#include "include/bulkhead_plugin.h"
#include "ring/region.h"

namespace bulkhead {

// A private growable buffer that never zero-fills (unlike std::vector) and is kept between calls
// up to a size, so large payloads do not pay for fresh pages every time.
class Scratch {
 public:
  uint8_t* data() { return p_.get(); }
  size_t size() const { return size_; }
  // Resizes to n bytes, keeping the first min(size(), n).
  uint8_t* Resize(size_t n);
  void Clear() { size_ = 0; }
  // Frees the memory if more than `keep` bytes are held.
  void Trim(size_t keep);

 private:
  std::unique_ptr<uint8_t[]> p_;
  size_t size_ = 0;
  size_t cap_ = 0;
};

struct WorkerRequest {
  uint32_t call_id;
  uint32_t fn;
  uint64_t deadline_ns;
  const uint8_t* input;
  uint64_t input_len;
  uint64_t footprint;  // bytes to consume once served
};

class WorkerRing {
 public:
  // Maps the region; false if the geometry is unusable.
  bool Map(int region_fd, int event_fd);
  bh_region_header* header() const { return h_; }
  uint64_t max_output() const { return max_output_; }

  // Blocks (spin, then futex) until a request is queued.
  WorkerRequest Next();
  // Releases the request's ring space.
  void Consume(const WorkerRequest& req);

  // Output for the current call (see bh_host.output_alloc / output_commit).
  void BeginOutput();
  uint8_t* OutputAlloc(size_t len, bh_status* status);
  bh_status OutputCommit(size_t len);

  // Queues a log line for the current call; published before the response.
  void Log(uint32_t call_id, uint32_t level, const char* msg, size_t len);

  // Publishes the response: payload = committed output if code == BH_OK, else `error`.
  void Publish(uint32_t call_id, uint32_t code, const char* error, size_t error_len);

 private:
  uint8_t* RespAt(uint64_t index) const { return resp_ + index % cap_; }
  // Sleeps until the host produced a request or consumed responses since the snapshot.
  void WaitForHost(uint64_t seen_req_tail, uint64_t seen_resp_head);
  void WaitForRespSpace(uint64_t bytes);
  void WriteResp(uint64_t index, const void* src, uint64_t len);
  void PublishMessage(const bh_msg& m, const void* body, uint64_t body_len);
  void NotifyHost();

  bh_region_header* h_ = nullptr;
  uint8_t* req_ = nullptr;
  uint8_t* resp_ = nullptr;
  uint64_t cap_ = 0;
  uint64_t max_output_ = 0;
  int event_fd_ = -1;
  uint64_t resp_tail_ = 0;  // private copy of what we published
  uint64_t req_head_ = 0;
  Scratch input_scratch_;

  // Current output: in the ring at resp_tail_ + header, or in scratch.
  bool out_in_ring_ = false;
  uint64_t out_alloc_ = 0;
  uint64_t out_len_ = 0;
  bool out_committed_ = false;
  Scratch out_scratch_;

  struct PendingLog {
    uint32_t call_id;
    uint32_t level;
    std::vector<uint8_t> text;
  };
  std::vector<PendingLog> logs_;
  uint64_t log_bytes_ = 0;
};

}  // namespace bulkhead

#endif
