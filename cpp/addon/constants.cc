// constants.cc: the wire message types and ring results, by the names lib/native.ts uses.
#include "addon/constants.h"

#include "addon/channel_handle.h"
#include "common/wire.h"
#include "ring/host_ring.h"

namespace bulkhead {

void DefineConstants(Napi::Env env, Napi::Object exports) {
  Napi::Object wire = Napi::Object::New(env);
  auto w = [&](const char* name, WireType t) { wire.Set(name, static_cast<uint32_t>(t)); };
  wire.Set("GONE", 0u);  // not a message: what onMessage reports when the zygote's socket ends
  w("LOAD", WireType::kLoad);
  w("SPAWN", WireType::kSpawn);
  w("UNLOAD", WireType::kUnload);
  w("KILL_WORKER", WireType::kKillWorker);
  w("LOADED", WireType::kLoaded);
  w("LOAD_ERROR", WireType::kLoadError);
  w("SPAWNED", WireType::kSpawned);
  w("SPAWN_ERROR", WireType::kSpawnError);
  w("EXITED", WireType::kExited);
  w("VIOLATION", WireType::kViolation);
  w("READY", WireType::kReady);
  w("PROTOCOL_ERROR", WireType::kProtocolError);
  Napi::Object ring = Napi::Object::New(env);
  ring.Set("OK", static_cast<int>(HostRing::kOk));
  ring.Set("EMPTY", static_cast<int>(HostRing::kEmpty));
  ring.Set("FULL", static_cast<int>(HostRing::kFull));
  ring.Set("PROTOCOL_ERROR", static_cast<int>(HostRing::kProtocolError));
  ring.Set("TIMED_OUT", static_cast<int>(HostRing::kTimedOut));
  ring.Set("DEAD", ChannelHandle::kDead);
  ring.Set("OTHER", ChannelHandle::kOther);
  Napi::Object constants = Napi::Object::New(env);
  constants.Set("wire", wire);
  constants.Set("ring", ring);
  exports.Set("constants", constants);
}

}  // namespace bulkhead
