// wire_test.cc: malformed control messages are dropped without leaking a descriptor, and good
// ones survive the trip through a real SEQPACKET socket.
#include "common/wire.h"

#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace bulkhead {
namespace {

bool IsOpen(int fd) { return fcntl(fd, F_GETFD) != -1; }

std::vector<int> OpenFds(size_t n) {
  std::vector<int> fds;
  for (size_t i = 0; i < n; i++) fds.push_back(open("/dev/null", O_RDONLY | O_CLOEXEC));
  return fds;
}

std::vector<uint8_t> Datagram(uint32_t type, const std::string& payload, uint32_t claimed_len) {
  WireHeader h{};
  h.type = type;
  h.id = 7;
  h.payload_len = claimed_len;
  std::vector<uint8_t> d(sizeof h + payload.size());
  memcpy(d.data(), &h, sizeof h);
  memcpy(d.data() + sizeof h, payload.data(), payload.size());
  return d;
}

TEST(WireParse, AcceptsAHeaderWithItsExactPayloadAndKeepsTheFds) {
  auto d = Datagram(12, "hello", 5);
  std::vector<int> fds = OpenFds(2);
  WireMessage m;
  ASSERT_EQ(WireParse(d.data(), d.size(), 0, fds, &m), 1);
  EXPECT_EQ(m.header.type, 12u);
  EXPECT_EQ(m.header.id, 7u);
  EXPECT_EQ(std::string(m.payload.begin(), m.payload.end()), "hello");
  EXPECT_EQ(m.fds, fds);
  for (int fd : fds) EXPECT_TRUE(IsOpen(fd));
  WireCloseFds(&m);
  for (int fd : fds) EXPECT_FALSE(IsOpen(fd));
}

TEST(WireParse, AnEmptyDatagramWithoutFdsIsEof) {
  WireMessage m;
  EXPECT_EQ(WireParse(nullptr, 0, 0, {}, &m), 0);
}

struct Bad {
  const char* hazard;
  size_t header_bytes_kept;  // datagram truncated to this many bytes of header+payload
  uint32_t claimed_len;
  int flags;
  size_t nfds;
};

class WireParseBad : public ::testing::TestWithParam<Bad> {};

TEST_P(WireParseBad, DropsTheMessageAndClosesEveryFd) {
  const Bad& b = GetParam();
  auto d = Datagram(12, "payload!", b.claimed_len);
  d.resize(std::min(d.size(), b.header_bytes_kept));
  std::vector<int> fds = OpenFds(b.nfds);
  WireMessage m;
  EXPECT_EQ(WireParse(d.data(), d.size(), b.flags, fds, &m), -EBADMSG) << b.hazard;
  EXPECT_TRUE(m.fds.empty());
  EXPECT_TRUE(m.payload.empty());
  for (int fd : fds) EXPECT_FALSE(IsOpen(fd)) << b.hazard << ": fd " << fd << " leaked";
  // Only lost descriptors on whole framing say "descriptors lost": nothing else is believed.
  EXPECT_EQ(m.fds_lost, b.flags == MSG_CTRUNC && b.header_bytes_kept >= sizeof(WireHeader) &&
                            b.claimed_len == b.header_bytes_kept - sizeof(WireHeader))
      << b.hazard;
}

INSTANTIATE_TEST_SUITE_P(
    Hazards, WireParseBad,
    ::testing::Values(Bad{"fds on an empty datagram", 0, 8, 0, 2},
                      Bad{"a header cut short", 31, 8, 0, 1},
                      Bad{"a payload shorter than claimed", 40, 9, 0, 1},
                      Bad{"a payload longer than claimed", 40, 7, 0, 1},
                      Bad{"a claimed length that wraps", 40, 0xffffffffu, 0, 1},
                      Bad{"a truncated datagram", 40, 8, MSG_TRUNC, 1},
                      Bad{"truncated descriptors", 40, 8, MSG_CTRUNC, 4},
                      Bad{"truncated descriptors and datagram", 40, 8, MSG_CTRUNC | MSG_TRUNC, 1},
                      Bad{"truncated descriptors on a bad length", 40, 9, MSG_CTRUNC, 1},
                      Bad{"more descriptors than the protocol allows", 40, 8, 0, kMaxWireFds + 1}));

TEST(WireRecv, RoundTripsAMessageWithADescriptorOverSeqpacket) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  int pipefd[2];
  ASSERT_EQ(pipe2(pipefd, O_CLOEXEC), 0);
  ASSERT_EQ(WireSend(sv[0], WireType::kSpawned, 3, 4, 5, 6, "abc", 3, &pipefd[1], 1), 0);
  WireMessage m;
  ASSERT_EQ(WireRecv(sv[1], &m), 1);
  EXPECT_EQ(m.header.type, static_cast<uint32_t>(WireType::kSpawned));
  EXPECT_EQ(m.header.c, 6u);
  EXPECT_EQ(std::string(m.payload.begin(), m.payload.end()), "abc");
  ASSERT_EQ(m.fds.size(), 1u);
  ASSERT_EQ(write(m.fds[0], "x", 1), 1);  // the received fd is the pipe's write end
  char c = 0;
  ASSERT_EQ(read(pipefd[0], &c, 1), 1);
  EXPECT_EQ(c, 'x');
  EXPECT_EQ(WireRecv(sv[1], &m), -EAGAIN);
  WireCloseFds(&m);
  close(sv[0]);
  EXPECT_EQ(WireRecv(sv[1], &m), 0);
  close(sv[1]);
  close(pipefd[0]);
  close(pipefd[1]);
}

TEST(WireRecv, DropsARawDatagramShorterThanAHeader) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  ASSERT_EQ(send(sv[0], "short", 5, 0), 5);
  WireMessage m;
  EXPECT_EQ(WireRecv(sv[1], &m), -EBADMSG);
  close(sv[0]);
  close(sv[1]);
}

TEST(WireSend, RefusesAnOversizedPayloadOrTooManyFds) {
  std::vector<uint8_t> big(kMaxWirePayload + 1);
  int fds[kMaxWireFds + 1] = {};
  EXPECT_EQ(WireSend(-1, WireType::kLoad, 0, 0, 0, 0, big.data(), big.size(), nullptr, 0), -EMSGSIZE);
  EXPECT_EQ(WireSend(-1, WireType::kLoad, 0, 0, 0, 0, nullptr, 0, fds, kMaxWireFds + 1), -EMSGSIZE);
}

// The receiver's descriptor table is full when a message with a descriptor arrives: the kernel
// drops the descriptor, and the receiver still learns which message it was.
TEST(WireRecv, AMessageWhoseDescriptorFindsNoRoomKeepsItsHeader) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  int pipefd[2];
  ASSERT_EQ(pipe2(pipefd, O_CLOEXEC), 0);
  ASSERT_EQ(WireSend(sv[0], WireType::kSpawned, 3, 4, 5, 6, nullptr, 0, &pipefd[1], 1), 0);
  struct rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  struct rlimit low = saved;
  low.rlim_cur = 256;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> filler;
  for (int i = 0; i < 4096; i++) {
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) break;
    filler.push_back(fd);
  }
  ASSERT_EQ(errno, EMFILE);
  WireMessage m;
  const int rc = WireRecv(sv[1], &m);
  for (int fd : filler) close(fd);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_EQ(rc, -EBADMSG);
  EXPECT_TRUE(m.fds_lost);
  EXPECT_TRUE(m.fds.empty());
  EXPECT_EQ(m.header.type, static_cast<uint32_t>(WireType::kSpawned));
  EXPECT_EQ(m.header.a, 4u);
  EXPECT_EQ(m.header.b, 5u);
  close(sv[0]);
  close(sv[1]);
  close(pipefd[0]);
  close(pipefd[1]);
}

}  // namespace
}  // namespace bulkhead
