// zygote_main.cc: the helper the addon execs: forks one template per plugin and relays between the
// host and the templates; reaps every plugin process (workers are its children via CLONE_PARENT)
// and reports true wait statuses.
//
// Single-threaded, started with an empty environment and only its control socket (fd 3). It runs
// no plugin code itself. Messages from templates are hostile: it re-stamps their identity from its
// own table, accepts only what the template's state allows, and closes surplus descriptors. When
// the host goes away (EOF on fd 3, or the parent-death signal) it kills every plugin process group.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "common/wire.h"
#include "sandbox/sandbox_spec.h"
#include "zygote/plugin_process.h"

namespace bulkhead {
namespace {

constexpr int kHostFd = 3;

struct Template {
  uint32_t plugin_id;
  pid_t pid;
  int sock;
  bool loading = true;
  uint32_t pending_spawns = 0;
};

std::map<uint32_t, Template> g_templates;  // by plugin id
std::map<pid_t, uint32_t> g_template_pids;

void SendHost(WireType type, uint32_t id, uint32_t a, uint32_t b, uint64_t c,
              const std::vector<uint8_t>& payload = {}, const int* fds = nullptr, size_t nfds = 0) {
  if (WireSend(kHostFd, type, id, a, b, c, payload.data(), payload.size(), fds, nfds) == -EPIPE) {
    _exit(0);
  }
}

void LoadError(uint32_t plugin_id, LoadErrorKind kind, const std::string& msg) {
  SendHost(WireType::kLoadError, plugin_id, static_cast<uint32_t>(kind), 0, 0,
           std::vector<uint8_t>(msg.begin(), msg.end()));
}

void KillTemplate(Template& t) {
  kill(-t.pid, SIGKILL);  // the template and every worker it forked share its process group
  kill(t.pid, SIGKILL);
  if (t.sock >= 0) close(t.sock);
  t.sock = -1;
}

[[noreturn]] void Shutdown() {
  for (auto& [id, t] : g_templates) KillTemplate(t);
  _exit(0);
}

void HandleLoad(WireMessage& msg) {
  const uint32_t id = msg.header.id;
  if (msg.fds.size() != 1 || g_templates.count(id) != 0) {
    LoadError(id, LoadErrorKind::kSandbox, "malformed load request");
    return;
  }
  SandboxSpec spec;
  if (!DecodeSandboxSpec(msg.payload.data(), msg.payload.size(), &spec)) {
    LoadError(id, LoadErrorKind::kSandbox, "malformed sandbox spec");
    return;
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    LoadError(id, LoadErrorKind::kSandbox, std::string("socketpair: ") + strerror(errno));
    return;
  }
  const pid_t self = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    close(sv[0]);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    RunTemplate(sv[1], msg.fds[0], id, self, spec);
  }
  close(sv[1]);
  if (pid < 0) {
    close(sv[0]);
    LoadError(id, LoadErrorKind::kSandbox, std::string("fork: ") + strerror(errno));
    return;
  }
  setpgid(pid, pid);
  g_templates[id] = Template{id, pid, sv[0]};
  g_template_pids[pid] = id;
}

void HandleSpawn(WireMessage& msg) {
  auto it = g_templates.find(msg.header.id);
  if (it == g_templates.end() || it->second.loading || it->second.sock < 0 || msg.fds.size() != 2) {
    SendHost(WireType::kSpawnError, msg.header.id, msg.header.a, ESRCH, 0);
    return;
  }
  int rc = WireSend(it->second.sock, WireType::kSpawn, msg.header.id, msg.header.a, 0, 0, nullptr,
                    0, msg.fds.data(), msg.fds.size());
  if (rc != 0) {
    SendHost(WireType::kSpawnError, msg.header.id, msg.header.a, static_cast<uint32_t>(-rc), 0);
    return;
  }
  it->second.pending_spawns++;
}

void HandleHost() {
  for (;;) {
    WireMessage msg;
    int rc = WireRecv(kHostFd, &msg);
    if (rc == -EAGAIN) return;
    if (rc == 0) Shutdown();
    if (rc < 0) continue;
    switch (static_cast<WireType>(msg.header.type)) {
      case WireType::kLoad: HandleLoad(msg); break;
      case WireType::kSpawn: HandleSpawn(msg); break;
      case WireType::kUnload: {
        auto it = g_templates.find(msg.header.id);
        if (it != g_templates.end()) KillTemplate(it->second);
        break;
      }
      default: break;
    }
    WireCloseFds(&msg);
  }
}

// A message from a template: believe only what its state allows.
void HandleTemplate(Template& t) {
  for (;;) {
    WireMessage msg;
    int rc = WireRecv(t.sock, &msg);
    if (rc == -EAGAIN) return;
    if (rc == 0 || (rc < 0 && rc != -EBADMSG)) {
      close(t.sock);
      t.sock = -1;
      return;
    }
    if (rc < 0) continue;
    const auto type = static_cast<WireType>(msg.header.type);
    if (t.loading && type == WireType::kLoaded && msg.fds.empty()) {
      t.loading = false;
      SendHost(WireType::kLoaded, t.plugin_id, static_cast<uint32_t>(t.pid), 0, 0, msg.payload);
    } else if (t.loading && type == WireType::kLoadError && msg.fds.empty()) {
      t.loading = false;
      SendHost(WireType::kLoadError, t.plugin_id, msg.header.a, 0, 0, msg.payload);
    } else if (t.loading && type == WireType::kViolation && msg.fds.empty()) {
      SendHost(WireType::kViolation, t.plugin_id, static_cast<uint32_t>(t.pid), msg.header.b,
               msg.header.c);
    } else if (!t.loading && t.pending_spawns > 0 && type == WireType::kSpawned &&
               msg.fds.size() == 1) {
      t.pending_spawns--;
      SendHost(WireType::kSpawned, t.plugin_id, msg.header.a, 0, 0, {}, msg.fds.data(), 1);
    } else if (!t.loading && t.pending_spawns > 0 && type == WireType::kSpawnError &&
               msg.fds.empty()) {
      t.pending_spawns--;
      SendHost(WireType::kSpawnError, t.plugin_id, msg.header.a, msg.header.b, 0);
    }
    WireCloseFds(&msg);
  }
}

void Reap() {
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG | __WALL);
    if (pid <= 0) return;
    uint32_t plugin_id = 0;
    auto it = g_template_pids.find(pid);
    if (it != g_template_pids.end()) {
      plugin_id = it->second;
      g_template_pids.erase(it);
      auto t = g_templates.find(plugin_id);
      if (t != g_templates.end()) {
        // What it said before dying (a load error, a violation) must reach the host before its
        // exit does: the host explains a failed load by the most specific report.
        if (t->second.sock >= 0) HandleTemplate(t->second);
        KillTemplate(t->second);  // its workers go with it
        g_templates.erase(t);
      }
    }
    SendHost(WireType::kExited, plugin_id, static_cast<uint32_t>(pid), static_cast<uint32_t>(status),
             plugin_id);
  }
}

}  // namespace
}  // namespace bulkhead

int main(int argc, char** argv) {
  using namespace bulkhead;
  // The host passes its pid: if it is already gone, the death signal below would never come.
  if (argc < 2) return 2;
  const pid_t host = static_cast<pid_t>(strtol(argv[1], nullptr, 10));
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != host) return kExitParentGone;
  if (fcntl(kHostFd, F_GETFD) < 0) return 2;
  signal(SIGPIPE, SIG_IGN);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, nullptr);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) return 2;
  SendHost(WireType::kReady, 0, static_cast<uint32_t>(getpid()), 0, 0);

  std::vector<struct pollfd> fds;
  std::vector<uint32_t> owners;
  for (;;) {
    fds.clear();
    owners.clear();
    fds.push_back({kHostFd, POLLIN, 0});
    fds.push_back({sfd, POLLIN, 0});
    for (auto& [id, t] : g_templates) {
      if (t.sock < 0) continue;
      fds.push_back({t.sock, POLLIN, 0});
      owners.push_back(id);
    }
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      Shutdown();
    }
    if (fds[1].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == sizeof si) {
      }
      Reap();
    }
    for (size_t i = 2; i < fds.size(); i++) {
      if (!fds[i].revents) continue;
      auto it = g_templates.find(owners[i - 2]);
      if (it != g_templates.end() && it->second.sock == fds[i].fd) HandleTemplate(it->second);
    }
    if (fds[0].revents) HandleHost();
  }
}
