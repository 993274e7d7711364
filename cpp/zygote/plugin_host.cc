// plugin_host.cc: bh_host for the plugin, and the worker's serve loop.
#include "zygote/plugin_host.h"

#include <string.h>
#include <time.h>

#include <algorithm>

// The opaque handle plugins pass back; its address identifies the current output.
struct bh_output {
  int live;
};

namespace bulkhead {

namespace {

const bh_plugin* g_plugin = nullptr;
WorkerRing* g_ring = nullptr;
bh_output g_out = {0};
uint32_t g_call_id = 0;
uint64_t g_deadline_ns = 0;
char g_error[BH_MAX_ERROR_BYTES];
size_t g_error_len = 0;

uint64_t HostNow(const bh_host*) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

void HostLog(const bh_host*, bh_log_level level, const char* msg, size_t len) {
  if (g_ring == nullptr || msg == nullptr || !g_out.live) return;
  uint32_t lvl = static_cast<uint32_t>(level) <= BH_LOG_ERROR ? level : BH_LOG_ERROR;
  g_ring->Log(g_call_id, lvl, msg, len);
}

int HostDeadlinePassed(const bh_host* h) {
  return g_deadline_ns != 0 && HostNow(h) >= g_deadline_ns;
}

uint8_t* HostOutputAlloc(bh_output* out, size_t len, bh_status* status) {
  if (out != &g_out || !g_out.live || g_ring == nullptr) {
    if (status) *status = BH_ERR_UNSUPPORTED;
    return nullptr;
  }
  return g_ring->OutputAlloc(len, status);
}

bh_status HostOutputCommit(bh_output* out, size_t len) {
  if (out != &g_out || !g_out.live || g_ring == nullptr) return BH_ERR_UNSUPPORTED;
  return g_ring->OutputCommit(len);
}

void HostSetError(bh_output* out, const char* msg, size_t len) {
  if (out != &g_out || msg == nullptr) return;
  g_error_len = std::min<size_t>(len, sizeof g_error);
  memcpy(g_error, msg, g_error_len);
}

size_t HostOutputLimit(const bh_output* out) {
  return out == &g_out && g_ring != nullptr ? g_ring->max_output() : 0;
}

uint64_t HostDeadline(const bh_host*) { return g_deadline_ns; }

const bh_host kHost = {
    BH_ABI_VERSION,   sizeof(bh_host),  HostLog,      HostNow,         HostDeadlinePassed,
    HostOutputAlloc,  HostOutputCommit, HostSetError, HostOutputLimit, HostDeadline,
};

}  // namespace

void SetPlugin(const bh_plugin* plugin) { g_plugin = plugin; }

bool RunInit(const std::vector<uint8_t>& config, std::string* error) {
  if (g_plugin->init == nullptr) return true;
  g_error_len = 0;
  bh_status st = g_plugin->init(&kHost, config.data(), config.size(), &g_out);
  if (st == BH_OK) return true;
  error->assign(g_error, g_error_len);
  if (error->empty()) *error = "init returned status " + std::to_string(static_cast<int>(st));
  return false;
}

void Serve(WorkerRing* ring) {
  g_ring = ring;
  for (;;) {
    WorkerRequest req = ring->Next();
    ring->BeginOutput();
    g_error_len = 0;
    g_call_id = req.call_id;
    g_deadline_ns = req.deadline_ns;
    uint32_t code;
    if (req.fn >= g_plugin->function_count) {
      code = BH_RESP_UNKNOWN_FUNCTION;
    } else {
      g_out.live = 1;
      code = g_plugin->functions[req.fn].fn(&kHost, req.input, req.input_len, &g_out);
      g_out.live = 0;
    }
    ring->Consume(req);
    ring->Publish(req.call_id, code, g_error, g_error_len);
  }
}

}  // namespace bulkhead
