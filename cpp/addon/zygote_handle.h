// zygote_handle.h: JS class that starts the zygote helper (posix_spawn, never fork in Node) and
// exchanges control messages and descriptors with it on the event loop.
#ifndef BULKHEAD_ADDON_ZYGOTE_HANDLE_H
#define BULKHEAD_ADDON_ZYGOTE_HANDLE_H

#include <napi.h>
#include <sys/types.h>
#include <uv.h>

namespace bulkhead {

class ZygoteHandle : public Napi::ObjectWrap<ZygoteHandle> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit ZygoteHandle(const Napi::CallbackInfo& info);
  ~ZygoteHandle() override;

 private:
  Napi::Value Pid(const Napi::CallbackInfo& info);
  Napi::Value Send(const Napi::CallbackInfo& info);
  Napi::Value Ref(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Pump(const Napi::CallbackInfo& info);

  static void OnReadable(uv_poll_t* handle, int status, int events);
  // Hands every queued message to on_message_.
  void Deliver();
  static void CleanupHook(void* arg);
  void Shutdown();

  Napi::FunctionReference on_message_;
  uv_poll_t* poll_ = nullptr;
  int sock_ = -1;
  pid_t pid_ = -1;
  napi_env env_ = nullptr;
};

}  // namespace bulkhead

#endif
