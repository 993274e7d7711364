// host_ring_test.cc: the host side of a ring against a well-behaved worker (the real WorkerRing)
// and against a hostile one that writes whatever it likes into the region.
#include "ring/host_ring.h"

#include <gtest/gtest.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "ring/worker_ring.h"

namespace bulkhead {
namespace {

constexpr uint64_t kMaxIn = 8192;
constexpr uint64_t kMaxOut = 8192;

// The worker's view of the region: a second mapping through which the test writes hostile bytes.
class HostileWorker {
 public:
  explicit HostileWorker(const HostRing& ring) {
    bh_region_header h;
    EXPECT_EQ(pread(ring.region_fd(), &h, sizeof h, 0), static_cast<ssize_t>(sizeof h));
    bytes_ = static_cast<size_t>(BH_REGION_BYTES(h.capacity));
    base_ = static_cast<uint8_t*>(
        mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, ring.region_fd(), 0));
    EXPECT_NE(base_, MAP_FAILED);
  }
  ~HostileWorker() { munmap(base_, bytes_); }
  bh_region_header* h() { return reinterpret_cast<bh_region_header*>(base_); }
  uint64_t cap() { return h()->capacity; }

  // Writes a message at response index `at` (wrapping like the real worker) and returns its end.
  uint64_t Write(uint64_t at, uint32_t kind, uint32_t code, uint64_t payload_len, uint32_t error_len,
                 const std::string& body = "") {
    bh_msg m{};
    m.kind = kind;
    m.call_id = 9;
    m.code = code;
    m.payload_len = payload_len;
    m.error_len = error_len;
    uint8_t* ring = base_ + BH_RESP_RING_OFFSET(cap());
    memcpy(ring + at % cap(), &m, sizeof m);
    for (size_t i = 0; i < body.size(); i++) ring[(at + sizeof m + i) % cap()] = body[i];
    return at + bh_msg_footprint(payload_len, error_len);
  }

 private:
  uint8_t* base_ = nullptr;
  size_t bytes_ = 0;
};

class HostRingTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(ring_.Create(kMaxIn, kMaxOut), 0); }
  HostRing ring_;
};

std::string Body(const HostRing& ring, const HostMessage& m) {
  std::string s(m.payload_len + m.error_len, '\0');
  ring.CopyBody(m, reinterpret_cast<uint8_t*>(&s[0]));
  return s;
}

TEST_F(HostRingTest, RoundTripsWithTheRealWorkerAcrossTheRingsWrap) {
  WorkerRing worker;
  ASSERT_TRUE(worker.Map(ring_.region_fd(), ring_.event_fd()));
  std::string input(3000, 'q');
  // Enough calls that both rings wrap several times.
  for (uint32_t call = 1; call <= 40; call++) {
    input[0] = static_cast<char>('a' + call % 26);
    ASSERT_EQ(ring_.Submit(call, 0, reinterpret_cast<const uint8_t*>(input.data()), input.size(), 0),
              HostRing::kOk);
    WorkerRequest req = worker.Next();
    ASSERT_EQ(req.call_id, call);
    ASSERT_EQ(std::string(reinterpret_cast<const char*>(req.input), req.input_len), input);
    worker.BeginOutput();
    bh_status st;
    uint8_t* out = worker.OutputAlloc(req.input_len, &st);
    ASSERT_NE(out, nullptr);
    memcpy(out, req.input, req.input_len);
    ASSERT_EQ(worker.OutputCommit(req.input_len), BH_OK);
    worker.Consume(req);
    worker.Publish(call, BH_OK, nullptr, 0);
    HostMessage m;
    ASSERT_EQ(ring_.Peek(&m), HostRing::kOk) << ring_.protocol_error();
    EXPECT_EQ(m.kind, static_cast<uint32_t>(BH_MSG_RESPONSE));
    EXPECT_EQ(m.call_id, call);
    EXPECT_EQ(Body(ring_, m), input);
    ring_.Consume(m);
    EXPECT_EQ(ring_.Peek(&m), HostRing::kEmpty);
  }
}

TEST_F(HostRingTest, ReadsAHostileWorkersWrappedMessageIntact) {
  HostileWorker w(ring_);
  // Walk the host's head to 64 bytes before the end with empty responses, then wrap a body.
  uint64_t at = 0;
  HostMessage m;
  while (at + 64 < w.cap()) {
    at = w.Write(at, BH_MSG_RESPONSE, BH_OK, 0, 0);
    w.h()->resp_tail = at;
    ASSERT_EQ(ring_.Peek(&m), HostRing::kOk) << ring_.protocol_error();
    ring_.Consume(m);
  }
  const std::string body = "wrapped body bytes";
  w.h()->resp_tail = w.Write(at, BH_MSG_RESPONSE, BH_OK, body.size(), 0, body);
  ASSERT_EQ(ring_.Peek(&m), HostRing::kOk) << ring_.protocol_error();
  EXPECT_EQ(Body(ring_, m), body);
}

struct Forgery {
  const char* hazard;
  uint32_t kind;
  uint32_t code;
  uint64_t payload_len;
  uint32_t error_len;
  int64_t tail_delta;  // published tail relative to the message's true end
  const char* reason;
};

class HostRingForgery : public ::testing::TestWithParam<Forgery> {};

TEST_P(HostRingForgery, IsAProtocolErrorAndTheRingStaysBroken) {
  const Forgery& f = GetParam();
  HostRing ring;
  ASSERT_EQ(ring.Create(kMaxIn, kMaxOut), 0);
  HostileWorker w(ring);
  uint64_t end = w.Write(0, f.kind, f.code, f.payload_len, f.error_len);
  w.h()->resp_tail = end + static_cast<uint64_t>(f.tail_delta);
  HostMessage m;
  ASSERT_EQ(ring.Peek(&m), HostRing::kProtocolError) << f.hazard;
  EXPECT_EQ(ring.protocol_error(), f.reason) << f.hazard;
  // Once broken, nothing more is read or written, whatever the worker does next.
  w.Write(0, BH_MSG_RESPONSE, BH_OK, 0, 0);
  w.h()->resp_tail = 64;
  EXPECT_EQ(ring.Peek(&m), HostRing::kProtocolError);
  EXPECT_EQ(ring.Submit(1, 0, nullptr, 0, 0), HostRing::kProtocolError);
}

constexpr uint64_t kHuge = 1ull << 62;

INSTANTIATE_TEST_SUITE_P(
    Hazards, HostRingForgery,
    ::testing::Values(
        Forgery{"a tail more than a ring ahead", BH_MSG_RESPONSE, BH_OK, 0, 0, 1 << 20, "response ring tail out of range"},
        Forgery{"a tail behind the head", BH_MSG_RESPONSE, BH_OK, 0, 0, -128, "response ring tail out of range"},
        Forgery{"a tail inside a message", BH_MSG_RESPONSE, BH_OK, 0, 0, -32, "partial response message"},
        Forgery{"an unknown kind", 0x41414141u, BH_OK, 0, 0, 0, "unknown message kind"},
        Forgery{"a request kind in the response ring", BH_MSG_REQUEST, BH_OK, 0, 0, 0, "unknown message kind"},
        Forgery{"success with an error text", BH_MSG_RESPONSE, BH_OK, 0, 8, 0, "successful response with an error text"},
        Forgery{"failure with a payload", BH_MSG_RESPONSE, 2, 8, 0, 0, "failed response with a payload"},
        Forgery{"a payload over the output limit", BH_MSG_RESPONSE, BH_OK, kMaxOut + 1, 0, 0, "response payload larger than the output limit"},
        Forgery{"a payload length that overflows the footprint", BH_MSG_RESPONSE, BH_OK, ~0ull - 8, 0, 0, "response payload larger than the output limit"},
        Forgery{"an error text over the limit", BH_MSG_RESPONSE, 2, 0, BH_MAX_ERROR_BYTES + 1, 0, "error text longer than allowed"},
        Forgery{"a log level out of range", BH_MSG_LOG, BH_LOG_ERROR + 1, 4, 0, 0, "malformed log message"},
        Forgery{"a log line over the limit", BH_MSG_LOG, 0, BH_MAX_LOG_BYTES + 1, 0, 0, "malformed log message"},
        Forgery{"a body past the published tail", BH_MSG_RESPONSE, BH_OK, 4096, 0, -4096, "message extends past the published tail"},
        Forgery{"a huge payload under a plausible tail", BH_MSG_RESPONSE, BH_OK, kHuge, 0, -static_cast<int64_t>(kHuge), "response payload larger than the output limit"}));

TEST_F(HostRingTest, RefusesARequestHeadOutsideWhatWasProduced) {
  HostileWorker w(ring_);
  uint8_t in[16] = {};
  ASSERT_EQ(ring_.Submit(1, 0, in, sizeof in, 0), HostRing::kOk);
  w.h()->req_head = 1 << 20;  // consumed more than was ever produced
  EXPECT_EQ(ring_.Submit(2, 0, in, sizeof in, 0), HostRing::kProtocolError);
  EXPECT_EQ(ring_.protocol_error(), "request ring head out of range");
}

TEST_F(HostRingTest, RefusesARequestHeadThatMovesBackwards) {
  HostileWorker w(ring_);
  uint8_t in[16] = {};
  ASSERT_EQ(ring_.Submit(1, 0, in, sizeof in, 0), HostRing::kOk);
  w.h()->req_head = 128;
  ASSERT_EQ(ring_.Submit(2, 0, in, sizeof in, 0), HostRing::kOk);
  w.h()->req_head = 0;
  EXPECT_EQ(ring_.Submit(3, 0, in, sizeof in, 0), HostRing::kProtocolError);
}

TEST_F(HostRingTest, AFullRequestRingIsFullNotAnError) {
  std::vector<uint8_t> in(kMaxIn);
  int ok = 0;
  HostRing::Result r;
  while ((r = ring_.Submit(1, 0, in.data(), in.size(), 0)) == HostRing::kOk) ok++;
  EXPECT_EQ(r, HostRing::kFull);
  EXPECT_GE(ok, 1);
  EXPECT_EQ(ring_.Submit(1, 0, in.data(), kMaxIn + 1, 0), HostRing::kProtocolError);
}

TEST_F(HostRingTest, ReadsTheCrashSlotOnceAsACopy) {
  HostileWorker w(ring_);
  w.h()->crash.kind = BH_CRASH_MAGIC;
  w.h()->crash.frame_count = 3;
  bh_crash c = ring_.ReadCrash();
  w.h()->crash.frame_count = 999;  // a later write does not reach the copy
  EXPECT_EQ(c.kind, BH_CRASH_MAGIC);
  EXPECT_EQ(c.frame_count, 3u);
}

}  // namespace
}  // namespace bulkhead
