// crash_report_fuzz.cc: ValidateCrashReport on any crash slot a plugin could write (the input,
// zero-padded or cut to sizeof(bh_crash)). What it accepts must hold only checked names.
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <string>

#include "ring/crash_report.h"

namespace {

bool Only(const std::string& s, const char* extra) {
  for (char c : s) {
    bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (c == 0 || strchr(extra, c) == nullptr)) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bh_crash raw{};
  memcpy(&raw, data, std::min(size, sizeof raw));
  bulkhead::CrashReport r;
  if (!bulkhead::ValidateCrashReport(raw, &r)) return 0;
  if (r.signal == nullptr || r.frames.empty() || r.frames.size() > BH_CRASH_MAX_FRAMES) abort();
  if (r.frames.size() != raw.frame_count || raw.kind != BH_CRASH_MAGIC) abort();
  for (size_t i = 0; i < r.frames.size(); i++) {
    const bulkhead::CrashFrame& f = r.frames[i];
    if (f.module == "plugin" && raw.frames[i].module != BH_CRASH_MODULE_PLUGIN) abort();
    if (f.symbol.size() >= BH_CRASH_SYMBOL_BYTES || !Only(f.symbol, "_.$@:<>~ -")) abort();
    if (f.module.empty()) abort();
    if (f.module != "<other>" && f.module != "<unknown>" &&
        (f.module.size() >= BH_CRASH_MODULE_BYTES || !Only(f.module, "_.+-"))) {
      abort();
    }
    if (f.module == "<unknown>" && !f.symbol.empty()) abort();
  }
  return 0;
}
