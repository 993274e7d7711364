// channel_handle.h: JS class over one worker's HostRing, its eventfd watch and its pidfd.
#ifndef BULKHEAD_ADDON_CHANNEL_HANDLE_H
#define BULKHEAD_ADDON_CHANNEL_HANDLE_H

#include <napi.h>
#include <uv.h>

#include <memory>

#include "ring/host_ring.h"

namespace bulkhead {

class ChannelHandle : public Napi::ObjectWrap<ChannelHandle> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit ChannelHandle(const Napi::CallbackInfo& info);
  ~ChannelHandle() override;

  // Results beyond HostRing::Result that the channel's calls return.
  static constexpr int kDead = 5;   // the worker died first
  static constexpr int kOther = 6;  // a message waits that lib/ must read

 private:
  Napi::Value Fds(const Napi::CallbackInfo& info);
  Napi::Value Submit(const Napi::CallbackInfo& info);
  Napi::Value Drain(const Napi::CallbackInfo& info);
  Napi::Value Spin(const Napi::CallbackInfo& info);
  Napi::Value Wait(const Napi::CallbackInfo& info);
  Napi::Value Call(const Napi::CallbackInfo& info);
  int WaitFor(uint64_t deadline_ns, uint64_t spin_ns);
  Napi::Value Watch(const Napi::CallbackInfo& info);
  Napi::Value Ref(const Napi::CallbackInfo& info);
  Napi::Value SetPidfd(const Napi::CallbackInfo& info);
  Napi::Value Kill(const Napi::CallbackInfo& info);
  Napi::Value ExitStatus(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value ProtocolError(const Napi::CallbackInfo& info);
  Napi::Value CrashReport(const Napi::CallbackInfo& info);

  static void OnEvent(uv_poll_t* handle, int status, int events);
  static void CleanupHook(void* arg);
  void StopWatch();
  void CloseAll();

  std::unique_ptr<HostRing> ring_;
  // Log lines delivered since the last response: a call's lines follow its response, so this is
  // the running count of the call that answered last (see Drain).
  uint32_t call_lines_ = 0;
  Napi::FunctionReference on_event_;
  uv_poll_t* poll_ = nullptr;  // freed in its close callback
  int pidfd_ = -1;
  bool closed_ = false;
  napi_env env_ = nullptr;
};

}  // namespace bulkhead

#endif
