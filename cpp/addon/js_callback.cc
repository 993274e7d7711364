// js_callback.cc: see js_callback.h.
#include "addon/js_callback.h"

namespace bulkhead {

bool CallIntoJs(napi_env env, napi_value fn, size_t argc, const napi_value* argv) {
  napi_value global, result;
  if (napi_get_global(env, &global) != napi_ok) return false;
  napi_status status = napi_make_callback(env, nullptr, global, fn, argc, argv, &result);
  if (status == napi_ok) return true;
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
    napi_value error;
    if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
  }
  return false;
}

}  // namespace bulkhead
