// addon.cc: the Node-API module: the zygote handle, per-worker channels, and the kernel probe.
#include <napi.h>

#include "addon/channel_handle.h"
#include "addon/constants.h"
#include "addon/probe_binding.h"
#include "addon/zygote_handle.h"

namespace bulkhead {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("ZygoteHandle", ZygoteHandle::Define(env));
  exports.Set("ChannelHandle", ChannelHandle::Define(env));
  DefineProbe(env, exports);
  DefineConstants(env, exports);
  return exports;
}

NODE_API_MODULE(bulkhead, Init)

}  // namespace bulkhead
