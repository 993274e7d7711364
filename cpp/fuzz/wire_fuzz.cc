// wire_fuzz.cc: WireParse on any datagram, flags and descriptor count a template could send.
// Input: byte 0 = msg_flags bits (MSG_TRUNC, MSG_CTRUNC), byte 1 = descriptor count, then the
// datagram. Every descriptor must end up either in the message or closed.
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "common/wire.h"

using bulkhead::WireMessage;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const int flags = ((data[0] & 1) ? MSG_TRUNC : 0) | ((data[0] & 2) ? MSG_CTRUNC : 0);
  const size_t nfds = data[1] % 8;
  std::vector<int> fds;
  for (size_t i = 0; i < nfds; i++) fds.push_back(open("/dev/null", O_RDONLY | O_CLOEXEC));
  WireMessage m;
  const int rc = bulkhead::WireParse(data + 2, size - 2, flags, fds, &m);
  if (rc == 1) {
    if (m.fds != fds || m.payload.size() != m.header.payload_len ||
        m.payload.size() + sizeof(bulkhead::WireHeader) != size - 2 ||
        (!m.payload.empty() &&
         memcmp(m.payload.data(), data + 2 + sizeof(bulkhead::WireHeader), m.payload.size()) != 0)) {
      abort();
    }
    bulkhead::WireCloseFds(&m);
  } else if (rc == 0) {
    if (size != 2 || nfds != 0) abort();  // EOF only for an empty datagram without fds
  } else if (rc != -EBADMSG || !m.fds.empty()) {
    abort();
  }
  for (int fd : fds) {
    if (fcntl(fd, F_GETFD) != -1) abort();  // leaked
  }
  return 0;
}
