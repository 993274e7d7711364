// wire.h: control-channel messages between host, zygote and templates (SOCK_SEQPACKET + fds).
//
// Every message is one datagram: a fixed WireHeader, then `payload_len` bytes, with up to
// kMaxWireFds descriptors attached (SCM_RIGHTS). Receivers treat messages from a less trusted
// side (templates, which run plugin code) as hostile: sizes are checked, surplus descriptors are
// closed, and a malformed message is dropped.
#ifndef BULKHEAD_COMMON_WIRE_H
#define BULKHEAD_COMMON_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

namespace bulkhead {

constexpr size_t kMaxWireFds = 4;
constexpr size_t kMaxWirePayload = 60 * 1024;  // fits the default SEQPACKET send buffer

enum class WireType : uint32_t {
  // host -> zygote
  kLoad = 1,      // id=plugin, b=activation deadline ms; fds=[plugin memfd]; payload=LoadSpec
  kSpawn = 2,     // id=plugin, a=worker, b=deadline ms; fds=[region memfd, eventfd]
  kUnload = 3,    // id=plugin: kill the template and every process it started
  kKillWorker = 4,  // id=plugin, b=pid: kill that worker of the plugin (the host could not take its
                    // pidfd, so cannot kill it itself)
  // zygote -> host (and template -> zygote, re-stamped by the zygote)
  kLoaded = 10,     // id=plugin, a=template pid; payload=name\0version\0fn\0fn\0...
  kLoadError = 11,  // id=plugin, a=LoadErrorKind; payload=message
  kSpawned = 12,    // id=plugin, a=worker, b=its pid (the monitor checked it); fds=[pidfd]
  kSpawnError = 13, // id=plugin, a=worker, b=errno; payload=reason (may be empty)
  kExited = 14,     // a=pid, b=wait status, c=plugin id or 0; payload=u64 OOM kills its cgroup counted
  kViolation = 15,  // id=plugin, a=pid, b=syscall nr, c=audit arch; payload=ViolationArgs.
                    // Zygote -> host only: the monitor saw it; the process is being killed.
  kReady = 16,      // zygote is up; a=zygote pid, b=1 if plugin processes get a pid namespace of its own
  kListener = 17,   // template -> zygote only, first message: fds=[seccomp notification listener]
  kProtocolError = 18,  // zygote -> host: id=plugin, a=template pid; payload=reason. The template
                        // broke the control protocol and was killed with everything of its plugin.
  kGo = 19,         // zygote -> template only, first message: it is in its cgroup, it may start
};

// The payload of kViolation: the arguments and instruction pointer as the kernel saw them.
struct ViolationArgs {
  uint64_t args[6];
  uint64_t ip;
};
static_assert(sizeof(ViolationArgs) == 56, "violation payload is 56 bytes");

enum class LoadErrorKind : uint32_t {
  kNotLoadable = 1,  // dlopen failed (not an ELF shared object, missing dependency, ...)
  kNoEntry = 2,      // entry symbol missing
  kBadAbi = 3,       // entry returned a table with a wrong version/size or bad contents
  kInitFailed = 4,   // init returned non-OK
  kSandbox = 5,      // the load-phase sandbox could not be applied
  kTimeout = 6,      // the monitor's activation deadline passed; everything of the plugin was killed
};

struct WireHeader {
  uint32_t type;
  uint32_t id;
  uint32_t a;
  uint32_t b;
  uint64_t c;
  uint32_t payload_len;
  uint32_t reserved;
};
static_assert(sizeof(WireHeader) == 32, "wire header is 32 bytes");

struct WireMessage {
  WireHeader header{};
  std::vector<uint8_t> payload;
  std::vector<int> fds;  // owned by the receiver
  // A well-formed message whose descriptors the receiver had no room for (MSG_CTRUNC alone): it is
  // still -EBADMSG, but the header is filled in so that the receiver can undo what it announced.
  bool fds_lost = false;
};

// Sends one message; returns 0 or -errno. Never raises SIGPIPE.
int WireSend(int sock, WireType type, uint32_t id, uint32_t a, uint32_t b, uint64_t c,
             const void* payload, size_t payload_len, const int* fds, size_t nfds);

// Receives one message. Returns 1 on a message, 0 on EOF, -EAGAIN when nothing is queued on a
// non-blocking socket, -EBADMSG for a malformed message (its fds are closed; see fds_lost), or -errno.
int WireRecv(int sock, WireMessage* out);

// The validation half of WireRecv, without a socket: `data` and `len` are the datagram as
// recvmsg returned it, `msg_flags` its flags, `fds` every descriptor that came with it. Takes the
// descriptors: they end up in out->fds on success and are closed otherwise. Returns 1 on a
// message, 0 on EOF or -EBADMSG, as WireRecv does.
int WireParse(const uint8_t* data, size_t len, int msg_flags, std::vector<int> fds,
              WireMessage* out);

// Closes every fd in the message and clears the list.
void WireCloseFds(WireMessage* msg);

}  // namespace bulkhead

#endif  // BULKHEAD_COMMON_WIRE_H
