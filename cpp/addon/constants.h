// constants.h: the numbers lib/native.ts mirrors, exported from their C++ definitions so that a
// binding built from other sources is refused at load instead of misread.
#ifndef BULKHEAD_ADDON_CONSTANTS_H
#define BULKHEAD_ADDON_CONSTANTS_H

#include <napi.h>

namespace bulkhead {

// exports.constants = { wire: { LOAD: 1, ... }, ring: { OK: 0, ... } }.
void DefineConstants(Napi::Env env, Napi::Object exports);

}  // namespace bulkhead

#endif  // BULKHEAD_ADDON_CONSTANTS_H
