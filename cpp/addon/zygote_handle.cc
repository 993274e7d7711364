// zygote_handle.cc: see zygote_handle.h.
#include "addon/zygote_handle.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "addon/js_callback.h"
#include "common/wire.h"

namespace bulkhead {
namespace {

void Call(Napi::Env env, Napi::FunctionReference& fn, const std::initializer_list<napi_value>& args) {
  CallIntoJs(env, fn.Value(), args.size(), args.begin());
}

uv_loop_t* LoopOf(Napi::Env env) {
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  return loop;
}

// posix_spawn with: the child's end of the socket as fd 3, /dev/null as stdio (stderr inherited
// only when asked, for debugging), every other descriptor closed, an empty environment, default
// signal dispositions, an empty mask, and a session of its own.
int SpawnZygote(const std::string& path, int child_sock, bool inherit_stderr, pid_t* pid) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  if (!inherit_stderr) posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, child_sock, 3);
  posix_spawn_file_actions_addclosefrom_np(&fa, 4);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSID);
  std::string host = std::to_string(getpid());
  char* argv[] = {const_cast<char*>(path.c_str()), const_cast<char*>(host.c_str()), nullptr};
  char* envp[] = {nullptr};
  int rc = posix_spawn(pid, path.c_str(), &fa, &attr, argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  return rc;
}

}  // namespace

Napi::Function ZygoteHandle::Define(Napi::Env env) {
  return DefineClass(env, "ZygoteHandle",
                     {
                         InstanceMethod("pid", &ZygoteHandle::Pid),
                         InstanceMethod("send", &ZygoteHandle::Send),
                         InstanceMethod("ref", &ZygoteHandle::Ref),
                         InstanceMethod("close", &ZygoteHandle::Close),
                         InstanceMethod("pump", &ZygoteHandle::Pump),
                     });
}

// new ZygoteHandle(helperPath, inheritStderr, onMessage(type, id, a, b, c, payload, fds, fdsLost)).
// fdsLost: the message carried descriptors this process had no room for (fds is empty).
// onMessage(0, ...) reports that the zygote is gone (EOF).
ZygoteHandle::ZygoteHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ZygoteHandle>(info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  bool inherit_stderr = info[1].ToBoolean().Value();
  on_message_ = Napi::Persistent(info[2].As<Napi::Function>());
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    Napi::Error::New(env, std::string("socketpair: ") + strerror(errno)).ThrowAsJavaScriptException();
    return;
  }
  int rc = SpawnZygote(path, sv[1], inherit_stderr, &pid_);
  close(sv[1]);
  if (rc != 0) {
    close(sv[0]);
    Napi::Error::New(env, "cannot start " + path + ": " + strerror(rc)).ThrowAsJavaScriptException();
    return;
  }
  sock_ = sv[0];
  fcntl(sock_, F_SETFL, fcntl(sock_, F_GETFL) | O_NONBLOCK);
  poll_ = new uv_poll_t;
  uv_poll_init(LoopOf(env), poll_, sock_);
  poll_->data = this;
  uv_poll_start(poll_, UV_READABLE | UV_DISCONNECT, OnReadable);
  // At environment teardown JS can no longer be called: stop listening before that.
  napi_add_env_cleanup_hook(env, CleanupHook, this);
  env_ = env;
}

void ZygoteHandle::CleanupHook(void* arg) {
  auto* self = static_cast<ZygoteHandle*>(arg);
  self->env_ = nullptr;
  self->Shutdown();
}

ZygoteHandle::~ZygoteHandle() {
  if (env_ != nullptr) napi_remove_env_cleanup_hook(env_, CleanupHook, this);
  Shutdown();
}

void ZygoteHandle::OnReadable(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<ZygoteHandle*>(handle->data);
  if (self != nullptr) self->Deliver();
}

// pump(waitMs = 0): delivers what is queued, first waiting up to waitMs for something to be.
Napi::Value ZygoteHandle::Pump(const Napi::CallbackInfo& info) {
  const int wait_ms = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
  if (sock_ >= 0 && wait_ms > 0) {
    struct pollfd p = {sock_, POLLIN, 0};
    poll(&p, 1, wait_ms);
  }
  if (sock_ >= 0) Deliver();
  return info.Env().Undefined();
}

void ZygoteHandle::Deliver() {
  ZygoteHandle* self = this;
  napi_env env = on_message_.Env();
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  for (;;) {
    WireMessage msg;
    int rc = WireRecv(self->sock_, &msg);
    if (rc == -EAGAIN) break;
    const bool lost = rc == -EBADMSG && msg.fds_lost;  // delivered: the host must undo its start
    if (rc == -EBADMSG && !lost) continue;
    if (rc <= 0 && !lost) {
      self->Shutdown();
      napi_value zero;
      if (napi_create_uint32(env, 0, &zero) == napi_ok) Call(env, self->on_message_, {zero});
      break;
    }
    // Raw Node-API here: while Node tears the environment down, creating values fails, and that
    // must end the delivery quietly rather than abort the process.
    const WireHeader& h = msg.header;
    napi_value args[8];
    napi_value fds;
    void* data = nullptr;
    bool ok = napi_create_uint32(env, h.type, &args[0]) == napi_ok &&
              napi_create_uint32(env, h.id, &args[1]) == napi_ok &&
              napi_create_uint32(env, h.a, &args[2]) == napi_ok &&
              napi_create_uint32(env, h.b, &args[3]) == napi_ok &&
              napi_create_double(env, static_cast<double>(h.c), &args[4]) == napi_ok &&
              napi_create_buffer_copy(env, msg.payload.size(), msg.payload.data(), &data, &args[5]) == napi_ok &&
              napi_create_array_with_length(env, msg.fds.size(), &fds) == napi_ok;
    for (size_t i = 0; ok && i < msg.fds.size(); i++) {
      napi_value fd;
      ok = napi_create_int32(env, msg.fds[i], &fd) == napi_ok && napi_set_element(env, fds, i, fd) == napi_ok;
    }
    if (!ok) {
      WireCloseFds(&msg);
      break;
    }
    args[6] = fds;
    if (napi_get_boolean(env, msg.fds_lost, &args[7]) != napi_ok) break;
    Call(env, self->on_message_, {args[0], args[1], args[2], args[3], args[4], args[5], args[6], args[7]});
    if (self->sock_ < 0) break;  // the callback closed us
  }
  napi_close_handle_scope(env, scope);
}

Napi::Value ZygoteHandle::Pid(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), pid_);
}

// send(type, id, a, b, payload: Uint8Array, fds: number[]) -> 0 or errno.
Napi::Value ZygoteHandle::Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (sock_ < 0) return Napi::Number::New(env, EPIPE);
  Napi::Uint8Array payload = info[4].As<Napi::Uint8Array>();
  Napi::Array arr = info[5].As<Napi::Array>();
  std::vector<int> fds;
  for (uint32_t i = 0; i < arr.Length(); i++) fds.push_back(arr.Get(i).As<Napi::Number>().Int32Value());
  int rc = WireSend(sock_, static_cast<WireType>(info[0].As<Napi::Number>().Uint32Value()),
                    info[1].As<Napi::Number>().Uint32Value(), info[2].As<Napi::Number>().Uint32Value(),
                    info[3].As<Napi::Number>().Uint32Value(), 0, payload.Data(), payload.ByteLength(),
                    fds.data(), fds.size());
  return Napi::Number::New(env, -rc);
}

Napi::Value ZygoteHandle::Ref(const Napi::CallbackInfo& info) {
  if (poll_ != nullptr) {
    auto* h = reinterpret_cast<uv_handle_t*>(poll_);
    if (info[0].ToBoolean().Value()) uv_ref(h); else uv_unref(h);
  }
  return info.Env().Undefined();
}

void ZygoteHandle::Shutdown() {
  if (poll_ != nullptr) {
    poll_->data = nullptr;
    uv_poll_stop(poll_);
    uv_close(reinterpret_cast<uv_handle_t*>(poll_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
  }
  if (sock_ >= 0) close(sock_);  // EOF: the zygote kills every plugin process group and exits
  sock_ = -1;
  if (pid_ > 0) {
    int status;
    for (int i = 0; i < 100 && waitpid(pid_, &status, WNOHANG) == 0; i++) usleep(1000);
    if (waitpid(pid_, &status, WNOHANG) == 0) {
      kill(pid_, SIGKILL);
      while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
    pid_ = -1;
  }
}

Napi::Value ZygoteHandle::Close(const Napi::CallbackInfo& info) {
  Shutdown();
  return info.Env().Undefined();
}

}  // namespace bulkhead
