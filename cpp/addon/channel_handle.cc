// channel_handle.cc: see channel_handle.h. Completions reach JavaScript through a uv_poll on the
// worker's eventfd (no libuv pool thread), or synchronously through Spin/Wait.
#include "addon/channel_handle.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "addon/js_callback.h"
#include "ring/crash_report.h"
#include "zygote/process_facts.h"

namespace bulkhead {
namespace {

uv_loop_t* LoopOf(Napi::Env env) {
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  return loop;
}

bool PidfdExited(int pidfd) {
  struct pollfd p = {pidfd, POLLIN, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

// The log gate's words (lib/log_gate.ts) and how many messages one drain reads at most, delivered
// or dropped: enough to amortise the crossing, few enough that one flooding worker cannot hold
// the event loop from its siblings (a dropped line costs tens of ns, a delivered one a few µs).
constexpr uint32_t kGatePerCall = 0;
constexpr uint32_t kGateLeft = 1;
constexpr uint32_t kGateDropped = 2;
constexpr uint32_t kGateMore = 3;
constexpr size_t kGateWords = 4;
constexpr uint32_t kDrainBudget = 1024;

// A time in ns from lib/: NaN or <= 0 is 0 (none); too large for uint64 (Infinity) is the largest.
uint64_t NsArg(const Napi::Value& v) {
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d > 0)) return 0;
  return d >= 18446744073709551615.0 ? UINT64_MAX : static_cast<uint64_t>(d);
}

}  // namespace

Napi::Function ChannelHandle::Define(Napi::Env env) {
  return DefineClass(env, "ChannelHandle",
                     {
                         InstanceMethod("fds", &ChannelHandle::Fds),
                         InstanceMethod("submit", &ChannelHandle::Submit),
                         InstanceMethod("drain", &ChannelHandle::Drain),
                         InstanceMethod("spin", &ChannelHandle::Spin),
                         InstanceMethod("wait", &ChannelHandle::Wait),
                         InstanceMethod("call", &ChannelHandle::Call),
                         InstanceMethod("watch", &ChannelHandle::Watch),
                         InstanceMethod("ref", &ChannelHandle::Ref),
                         InstanceMethod("setPidfd", &ChannelHandle::SetPidfd),
                         InstanceMethod("kill", &ChannelHandle::Kill),
                         InstanceMethod("exitStatus", &ChannelHandle::ExitStatus),
                         InstanceMethod("close", &ChannelHandle::Close),
                         InstanceMethod("protocolError", &ChannelHandle::ProtocolError),
                         InstanceMethod("crashReport", &ChannelHandle::CrashReport),
                     });
}

// new ChannelHandle(maxInputBytes, maxOutputBytes); throws on failure (lib/ validated the numbers).
ChannelHandle::ChannelHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ChannelHandle>(info) {
  ring_ = std::make_unique<HostRing>();
  int rc = ring_->Create(NsArg(info[0]), NsArg(info[1]));
  if (rc != 0) {
    Napi::Error::New(info.Env(), std::string("cannot create ring: ") + strerror(-rc))
        .ThrowAsJavaScriptException();
  }
}

ChannelHandle::~ChannelHandle() {
  if (env_ != nullptr) napi_remove_env_cleanup_hook(env_, CleanupHook, this);
  CloseAll();
}

Napi::Value ChannelHandle::Fds(const Napi::CallbackInfo& info) {
  Napi::Array a = Napi::Array::New(info.Env(), 2);
  a.Set(0u, Napi::Number::New(info.Env(), ring_ ? ring_->region_fd() : -1));
  a.Set(1u, Napi::Number::New(info.Env(), ring_ ? ring_->event_fd() : -1));
  return a;
}

// submit(callId, fnIndex, input: Uint8Array, deadlineNs) -> HostRing::Result
Napi::Value ChannelHandle::Submit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_) return Napi::Number::New(env, HostRing::kProtocolError);
  Napi::Uint8Array input = info[2].As<Napi::Uint8Array>();
  auto r = ring_->Submit(info[0].As<Napi::Number>().Uint32Value(), info[1].As<Napi::Number>().Uint32Value(),
                         input.Data(), input.ByteLength(), NsArg(info[3]));
  return Napi::Number::New(env, r);
}

// drain(gate) -> [kind, callId, code, body, ...] with body a Buffer (payload) or a string (error or
// log text); or a string: the protocol violation that broke this channel. When the violation
// follows valid messages, they come first and the reason is the array's last element.
//
// gate is lib/log_gate.ts's Uint32Array, shared by the plugin's workers (drains run one at a time
// on the JS thread): [kGatePerCall] lines one call may deliver, [kGateLeft] lines the plugin may
// still deliver this second (decremented here), and two outputs: [kGateDropped] lines this drain
// dropped, [kGateMore] 1 when it stopped at its budget with messages still waiting. A line over
// either cap is validated and consumed without a JS value ever being made for it, so a flood costs
// a ring read per line. A hostile worker may write log lines before its response or tag them
// with any call id; counting lines since the last response, whatever their ids, bounds every
// worker to one call's worth of lines per response it gives.
Napi::Value ChannelHandle::Drain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
      info[0].As<Napi::TypedArray>().ElementLength() < kGateWords) {
    Napi::TypeError::New(env, "drain() takes the log gate (a Uint32Array of 4)").ThrowAsJavaScriptException();
    return out;
  }
  uint32_t* gate = info[0].As<Napi::Uint32Array>().Data();
  gate[kGateDropped] = 0;
  gate[kGateMore] = 0;
  if (closed_) return out;
  uint32_t n = 0;
  bool consumed = false;
  for (uint32_t read = 0;; read++) {
    HostMessage m;
    auto r = ring_->Peek(&m);
    if (r == HostRing::kEmpty) break;
    if (r != HostRing::kOk) {
      // Messages before the bad one were valid: hand them over, then the reason.
      Napi::String why = Napi::String::New(env, ring_->protocol_error());
      if (consumed) ring_->PublishHead();
      if (n == 0) return why;
      out.Set(n, why);
      return out;
    }
    if (read == kDrainBudget) {  // the rest waits for the next turn of the event loop
      gate[kGateMore] = 1;
      break;
    }
    consumed = true;
    if (m.kind == BH_MSG_LOG) {
      if (call_lines_ >= gate[kGatePerCall] || gate[kGateLeft] == 0) {
        gate[kGateDropped]++;
        ring_->Consume(m, /*publish=*/false);
        continue;
      }
      call_lines_++;
      gate[kGateLeft]--;
    } else {
      call_lines_ = 0;
    }
    Napi::Value body;
    if (m.kind == BH_MSG_RESPONSE && m.code == BH_OK) {
      Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::New(env, m.payload_len);
      if (m.payload_len) ring_->CopyBody(m, buf.Data());
      body = buf;
    } else {
      std::string text(m.payload_len + m.error_len, '\0');
      ring_->CopyBody(m, reinterpret_cast<uint8_t*>(text.data()));
      body = Napi::String::New(env, text);
    }
    ring_->Consume(m, /*publish=*/false);
    out.Set(n++, Napi::Number::New(env, m.kind == BH_MSG_LOG ? 1 : 0));
    out.Set(n++, Napi::Number::New(env, m.call_id));
    out.Set(n++, Napi::Number::New(env, m.code));
    out.Set(n++, body);
  }
  if (consumed) ring_->PublishHead();
  return out;
}

Napi::Value ChannelHandle::Spin(const Napi::CallbackInfo& info) {
  if (closed_) return Napi::Boolean::New(info.Env(), false);
  return Napi::Boolean::New(info.Env(), ring_->Spin(NsArg(info[0])));
}

// wait(deadlineNs, spinNs) -> HostRing::Result, or 5 when the worker died first. Blocks the
// calling thread: the sync path. Sleeps in slices so a dead worker is noticed (a futex never
// wakes for a process that is gone).
Napi::Value ChannelHandle::Wait(const Napi::CallbackInfo& info) {
  if (closed_) return Napi::Number::New(info.Env(), HostRing::kProtocolError);
  return Napi::Number::New(info.Env(), WaitFor(NsArg(info[0]), NsArg(info[1])));
}

// call(callId, fn, input, deadlineNs, spinNs, waitUntilNs) -> Buffer, or a number: the sync fast
// path in one crossing. Only for a worker with nothing else in flight (lib/ checks), so the next
// response is ours. Waits until waitUntilNs at most (lib/ watches the call's budgets from there).
// Returns the output when the worker answered this call with BH_OK; otherwise a RingResult
// (2 full, 3 protocol error, 4 timed out, 5 dead) or 6 when a message waits that lib/ must read
// through drain() (an error status, a log line, anything unexpected). Nothing is consumed then.
Napi::Value ChannelHandle::Call(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_) return Napi::Number::New(env, HostRing::kProtocolError);
  const uint32_t call_id = info[0].As<Napi::Number>().Uint32Value();
  Napi::Uint8Array input = info[2].As<Napi::Uint8Array>();
  auto r = ring_->Submit(call_id, info[1].As<Napi::Number>().Uint32Value(), input.Data(),
                         input.ByteLength(), NsArg(info[3]));
  if (r != HostRing::kOk) return Napi::Number::New(env, r);
  const int w = WaitFor(NsArg(info[5]), NsArg(info[4]));
  if (w != HostRing::kOk) return Napi::Number::New(env, w);
  HostMessage m;
  r = ring_->Peek(&m);
  if (r != HostRing::kOk) return Napi::Number::New(env, r == HostRing::kEmpty ? kOther : r);
  if (m.kind != BH_MSG_RESPONSE || m.call_id != call_id || m.code != BH_OK) {
    return Napi::Number::New(env, kOther);
  }
  Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::New(env, m.payload_len);
  if (m.payload_len) ring_->CopyBody(m, buf.Data());
  ring_->Consume(m);
  call_lines_ = 0;
  return buf;
}

int ChannelHandle::WaitFor(uint64_t deadline, uint64_t spin) {
  constexpr uint64_t kSliceNs = 2 * 1000 * 1000;
  for (;;) {
    uint64_t until = MonotonicNs() + kSliceNs;
    if (deadline != 0 && deadline < until) until = deadline;
    HostRing::Result r = ring_->Wait(until, spin);
    spin = 0;
    if (r != HostRing::kTimedOut) return r;
    // A dead worker is reported even when the bound has passed: a caller that comes back with a
    // bound in the past (a check overdue) must learn it rather than wait on.
    if (pidfd_ >= 0 && PidfdExited(pidfd_)) return ring_->Spin(0) ? HostRing::kOk : kDead;
    if (deadline != 0 && MonotonicNs() >= deadline) return r;
  }
}

// exitStatus() -> the wait status of the exited worker, or -1 when the kernel cannot say yet
// (not reaped yet, or a kernel before 6.15). The zygote's report arrives later either way.
Napi::Value ChannelHandle::ExitStatus(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), PidfdExitStatus(pidfd_));
}

void ChannelHandle::OnEvent(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<ChannelHandle*>(handle->data);
  if (self == nullptr || self->on_event_.IsEmpty()) return;
  self->ring_->ClearEvent();
  Napi::Env env = self->on_event_.Env();
  Napi::HandleScope scope(env);
  CallIntoJs(env, self->on_event_.Value(), 0, nullptr);
}

void ChannelHandle::CleanupHook(void* arg) {
  auto* self = static_cast<ChannelHandle*>(arg);
  self->env_ = nullptr;
  self->CloseAll();
}

// watch(callback): the callback runs on the event loop whenever the worker signals.
Napi::Value ChannelHandle::Watch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_ || poll_ != nullptr) return env.Undefined();
  on_event_ = Napi::Persistent(info[0].As<Napi::Function>());
  poll_ = new uv_poll_t;
  if (uv_poll_init(LoopOf(env), poll_, ring_->event_fd()) != 0) {
    delete poll_;
    poll_ = nullptr;
    Napi::Error::New(env, "cannot watch the worker's eventfd").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  poll_->data = this;
  uv_poll_start(poll_, UV_READABLE, OnEvent);
  uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  napi_add_env_cleanup_hook(env, CleanupHook, this);
  env_ = env;
  return env.Undefined();
}

// ref(bool): keep the process alive while calls are in flight, not otherwise.
Napi::Value ChannelHandle::Ref(const Napi::CallbackInfo& info) {
  if (poll_ != nullptr) {
    auto* h = reinterpret_cast<uv_handle_t*>(poll_);
    if (info[0].ToBoolean().Value()) uv_ref(h); else uv_unref(h);
  }
  return info.Env().Undefined();
}

Napi::Value ChannelHandle::SetPidfd(const Napi::CallbackInfo& info) {
  if (pidfd_ >= 0) close(pidfd_);
  pidfd_ = info[0].As<Napi::Number>().Int32Value();
  return info.Env().Undefined();
}

// Through the pidfd, so a recycled pid can never be hit.
// kill(signal = SIGKILL) -> 0 or errno. SIGSTOP/SIGCONT pause and resume a worker.
Napi::Value ChannelHandle::Kill(const Napi::CallbackInfo& info) {
  int sig = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : SIGKILL;
  if (sig != SIGKILL && sig != SIGSTOP && sig != SIGCONT) sig = SIGKILL;
  int rc = 0;
  if (pidfd_ >= 0 && syscall(__NR_pidfd_send_signal, pidfd_, sig, nullptr, 0) != 0) rc = errno;
  return Napi::Number::New(info.Env(), rc);
}

Napi::Value ChannelHandle::ProtocolError(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), ring_ ? ring_->protocol_error() : "");
}

// crashReport() -> {signal, code, address, frames: [{module, offset, symbol?}]} from one copy of
// the region's crash slot, validated by cpp/ring/crash_report.h (BigInts for the 64-bit fields),
// or undefined when the worker left no valid report. Read it before close(): undefined after.
Napi::Value ChannelHandle::CrashReport(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ring_ || closed_) return env.Undefined();
  bulkhead::CrashReport r;
  if (!ValidateCrashReport(ring_->ReadCrash(), &r)) return env.Undefined();
  Napi::Object o = Napi::Object::New(env);
  o.Set("signal", Napi::String::New(env, r.signal));
  o.Set("code", Napi::Number::New(env, r.code));
  o.Set("address", Napi::BigInt::New(env, r.address));
  Napi::Array frames = Napi::Array::New(env, r.frames.size());
  for (uint32_t i = 0; i < r.frames.size(); i++) {
    const CrashFrame& f = r.frames[i];
    Napi::Object fo = Napi::Object::New(env);
    fo.Set("module", Napi::String::New(env, f.module));
    fo.Set("offset", Napi::BigInt::New(env, f.offset));
    if (!f.symbol.empty()) fo.Set("symbol", Napi::String::New(env, f.symbol));
    frames.Set(i, fo);
  }
  o.Set("frames", frames);
  return o;
}

void ChannelHandle::StopWatch() {
  if (poll_ == nullptr) return;
  poll_->data = nullptr;
  uv_poll_stop(poll_);
  uv_close(reinterpret_cast<uv_handle_t*>(poll_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
  poll_ = nullptr;
}

void ChannelHandle::CloseAll() {
  if (closed_) return;
  closed_ = true;
  StopWatch();
  on_event_.Reset();
  if (pidfd_ >= 0) close(pidfd_);
  pidfd_ = -1;
  ring_.reset();
}

Napi::Value ChannelHandle::Close(const Napi::CallbackInfo& info) {
  CloseAll();
  return info.Env().Undefined();
}

}  // namespace bulkhead
