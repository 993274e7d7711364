// crash_report.cc: see crash_report.h.
#include "ring/crash_report.h"

#include <signal.h>
#include <string.h>

namespace bulkhead {
namespace {

const char* FatalSignalName(uint32_t signo) {
  switch (signo) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGABRT: return "SIGABRT";
    case SIGTRAP: return "SIGTRAP";
    default: return nullptr;
  }
}

// Symbols: C identifiers plus what C++ and versioned names add; no byte that could forge a log
// line, a quote or a path.
bool SymbolChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         (c != 0 && strchr("_.$@:<>~ -", c) != nullptr);
}

// Module basenames: no '/', so never a path.
bool ModuleChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         (c != 0 && strchr("_.+-", c) != nullptr);
}

// The NUL-terminated name in a fixed field, or "" if it is unterminated, empty or has a byte
// outside `ok`. Bytes after the NUL are never looked at.
template <size_t N>
std::string FieldName(const char (&field)[N], bool (*ok)(char)) {
  const void* nul = memchr(field, 0, N);
  if (nul == nullptr) return "";
  const size_t len = static_cast<size_t>(static_cast<const char*>(nul) - field);
  for (size_t i = 0; i < len; i++) {
    if (!ok(field[i])) return "";
  }
  return std::string(field, len);
}

}  // namespace

bool ValidateCrashReport(const bh_crash& raw, CrashReport* out) {
  if (raw.kind != BH_CRASH_MAGIC) return false;
  const char* signal = FatalSignalName(raw.signo);
  if (signal == nullptr) return false;
  if (raw.frame_count < 1 || raw.frame_count > BH_CRASH_MAX_FRAMES) return false;
  CrashReport r;
  r.signal = signal;
  r.code = raw.code;
  r.address = raw.addr;
  for (uint32_t i = 0; i < raw.frame_count; i++) {
    const bh_crash_frame& f = raw.frames[i];
    CrashFrame frame;
    frame.offset = f.offset;
    switch (f.module) {
      case BH_CRASH_MODULE_PLUGIN:
        frame.module = "plugin";
        break;
      case BH_CRASH_MODULE_OTHER:
        frame.module = FieldName(f.module_name, ModuleChar);
        // Another module cannot pose as the plugin.
        if (frame.module.empty() || frame.module == "plugin") frame.module = "<other>";
        break;
      case BH_CRASH_MODULE_UNKNOWN:
        frame.module = "<unknown>";
        r.frames.push_back(std::move(frame));
        continue;  // no module, so no symbol in it
      default:
        return false;
    }
    frame.symbol = FieldName(f.symbol, SymbolChar);
    r.frames.push_back(std::move(frame));
  }
  *out = std::move(r);
  return true;
}

}  // namespace bulkhead
