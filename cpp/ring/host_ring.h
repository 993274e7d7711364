// host_ring.h: the host's side of one worker's shared region: create and seal it, submit requests,
// and read responses as hostile data (validated copies, never re-read).
//
// Any inconsistency in what the worker wrote is reported as kProtocolError with a reason; the
// caller then kills that worker. Nothing here touches JavaScript.
#ifndef BULKHEAD_RING_HOST_RING_H
#define BULKHEAD_RING_HOST_RING_H

#include <stddef.h>
#include <stdint.h>

#include <string>

#include "include/bulkhead_plugin.h"
#include "ring/region.h"
#include "ring/shared_word.h"

namespace bulkhead {

// A validated response-ring message; body bytes are still in the ring until CopyBody.
struct HostMessage {
  uint32_t kind;
  uint32_t call_id;
  uint32_t code;
  uint64_t payload_len;
  uint64_t error_len;
  uint64_t footprint;
};

class HostRing {
 public:
  enum Result { kOk = 0, kEmpty = 1, kFull = 2, kProtocolError = 3, kTimedOut = 4 };

  ~HostRing();
  // Creates the sealed memfd and the eventfd. Returns 0 or -errno.
  int Create(uint64_t max_input, uint64_t max_output);

  int region_fd() const { return region_fd_; }
  int event_fd() const { return event_fd_; }
  const std::string& protocol_error() const { return error_; }

  // Queues one request; kFull when the ring has no room now (retry after responses drain).
  Result Submit(uint32_t call_id, uint32_t fn, const uint8_t* input, uint64_t len,
                uint64_t deadline_ns);

  // Validates the next message without consuming it.
  Result Peek(HostMessage* msg);
  // Copies the message's payload (then error text) out of the ring: payload_len + error_len bytes.
  void CopyBody(const HostMessage& msg, uint8_t* dst) const;
  // Consumes the message; with publish, also tells the worker (and wakes it if it waits for room).
  // A batch consumes with publish = false and ends with PublishHead(): one shared write, not one
  // per message.
  void Consume(const HostMessage& msg, bool publish = true);
  void PublishHead();

  // Spins up to spin_ns for a response to appear; true if one is there.
  bool Spin(uint64_t spin_ns);
  // Blocks the calling thread until a response is there or CLOCK_MONOTONIC passes deadline_ns
  // (0 = no deadline). Spins first, then sleeps on the futex.
  Result Wait(uint64_t deadline_ns, uint64_t spin_ns);
  // Whether the worker should write the eventfd when it publishes (the event loop is listening).
  void SetEventMode(bool on);

  // Drains the eventfd counter.
  void ClearEvent();

  // A copy of the worker's crash report, taken once (hostile: the caller validates every field).
  bh_crash ReadCrash() const;

 private:
  Result Fail(const std::string& why);
  bool ResponsePending();
  void WakeWorker();

  int region_fd_ = -1;
  int event_fd_ = -1;
  uint8_t* base_ = nullptr;
  bh_region_header* h_ = nullptr;
  uint64_t cap_ = 0;
  uint64_t max_input_ = 0;
  uint64_t max_output_ = 0;
  // Private copies: never read back from the region.
  uint64_t req_tail_ = 0;
  uint64_t req_head_seen_ = 0;
  uint64_t resp_head_ = 0;
  bool event_mode_ = false;
  bool broken_ = false;
  std::string error_;
};


}  // namespace bulkhead

#endif
