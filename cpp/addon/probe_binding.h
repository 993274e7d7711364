// probe_binding.h: kernel probe, syscall naming and descriptor helpers for lib/native.ts.
#ifndef BULKHEAD_ADDON_PROBE_BINDING_H
#define BULKHEAD_ADDON_PROBE_BINDING_H

#include <napi.h>

namespace bulkhead {

void DefineProbe(Napi::Env env, Napi::Object exports);

}  // namespace bulkhead

#endif
