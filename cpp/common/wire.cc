// wire.cc: SOCK_SEQPACKET framing with SCM_RIGHTS, hardened against hostile senders.
#include "common/wire.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <utility>

namespace bulkhead {

int WireSend(int sock, WireType type, uint32_t id, uint32_t a, uint32_t b, uint64_t c,
             const void* payload, size_t payload_len, const int* fds, size_t nfds) {
  if (payload_len > kMaxWirePayload || nfds > kMaxWireFds) return -EMSGSIZE;
  WireHeader h{};
  h.type = static_cast<uint32_t>(type);
  h.id = id;
  h.a = a;
  h.b = b;
  h.c = c;
  h.payload_len = static_cast<uint32_t>(payload_len);
  struct iovec iov[2] = {{&h, sizeof h}, {const_cast<void*>(payload), payload_len}};
  struct msghdr msg {};
  msg.msg_iov = iov;
  msg.msg_iovlen = payload_len ? 2 : 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxWireFds)];
  if (nfds > 0) {
    memset(control, 0, sizeof control);
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
  }
  for (;;) {
    ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n >= 0) return n == static_cast<ssize_t>(sizeof h + payload_len) ? 0 : -EMSGSIZE;
    if (errno != EINTR) return -errno;
  }
}

void WireCloseFds(WireMessage* msg) {
  for (int fd : msg->fds) close(fd);
  msg->fds.clear();
}

int WireParse(const uint8_t* data, size_t len, int msg_flags, std::vector<int> fds,
              WireMessage* out) {
  out->fds = std::move(fds);
  out->payload.clear();
  out->fds_lost = false;
  if (len == 0 && out->fds.empty()) return 0;  // EOF (a zero-length datagram is not ours)
  if (len >= sizeof(WireHeader)) memcpy(&out->header, data, sizeof(WireHeader));
  bool bad = (msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || len < sizeof(WireHeader) ||
             out->header.payload_len != len - sizeof(WireHeader) ||
             out->fds.size() > kMaxWireFds;
  if (bad) {
    WireCloseFds(out);
    // The framing is whole and only descriptors are missing: the kernel ran out of room for them
    // here (or the sender sent more than any message carries).
    out->fds_lost = (msg_flags & (MSG_TRUNC | MSG_CTRUNC)) == MSG_CTRUNC && len >= sizeof(WireHeader) &&
                    out->header.payload_len == len - sizeof(WireHeader);
    return -EBADMSG;
  }
  out->payload.assign(data + sizeof(WireHeader), data + len);
  return 1;
}

int WireRecv(int sock, WireMessage* out) {
  std::vector<uint8_t> buf(sizeof(WireHeader) + kMaxWirePayload);
  struct iovec iov = {buf.data(), buf.size()};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxWireFds) + 64];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    out->fds.clear();
    return errno == EWOULDBLOCK ? -EAGAIN : -errno;
  }
  // Collect every descriptor first so that none leaks whatever else is wrong.
  std::vector<int> fds;
  for (struct cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm != nullptr; cm = CMSG_NXTHDR(&msg, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
    if (cm->cmsg_len < CMSG_LEN(0)) continue;
    size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
      fds.push_back(fd);
    }
  }
  return WireParse(buf.data(), static_cast<size_t>(n), msg.msg_flags, std::move(fds), out);
}

}  // namespace bulkhead
