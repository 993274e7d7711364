// js_callback.h: calls into JavaScript from a libuv callback without letting an exception stall
// the addon.
//
// An exception JavaScript leaves pending would make every later Node-API call from this handler
// fail, so completions and zygote messages would stop for every plugin. It is taken, cleared, and
// handed to Node's uncaught-exception handling (napi_fatal_exception: the 'uncaughtException'
// event, with its own stack), the way an exception from an EventEmitter listener surfaces.
#ifndef BULKHEAD_ADDON_JS_CALLBACK_H
#define BULKHEAD_ADDON_JS_CALLBACK_H

#include <napi.h>

namespace bulkhead {

// False when the call did not return normally (its exception is now Node's).
bool CallIntoJs(napi_env env, napi_value fn, size_t argc, const napi_value* argv);

}  // namespace bulkhead

#endif
