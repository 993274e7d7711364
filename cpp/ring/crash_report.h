// crash_report.h: validates the crash report a dying worker wrote about itself (bh_crash in
// region.h) into a plain struct, or rejects it.
//
// Every byte of the slot is hostile: a plugin can write anything there. Nothing is taken from it
// but what passes these checks, and even a valid report is only the plugin's own, unverified
// account of its death: it describes the worker's memory (signal, code, a faulting address,
// module offsets and exported symbol names), never the host's.
#ifndef BULKHEAD_RING_CRASH_REPORT_H
#define BULKHEAD_RING_CRASH_REPORT_H

#include <stdint.h>

#include <string>
#include <vector>

#include "ring/region.h"

namespace bulkhead {

struct CrashFrame {
  // "plugin" for the plugin's own code; otherwise a module's basename ("libc.so.6"), "<other>"
  // for a module whose name failed its check, "<unknown>" for code in no module.
  std::string module;
  uint64_t offset = 0;  // pc - the module's load bias; for "<unknown>", the pc itself
  std::string symbol;   // the exported symbol containing the pc; empty if none or it looked wrong
};

struct CrashReport {
  const char* signal = nullptr;  // "SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT" or "SIGTRAP"
  int32_t code = 0;              // si_code
  uint64_t address = 0;          // the faulting address or instruction; 0 for a sent signal
  std::vector<CrashFrame> frames;  // 1 to BH_CRASH_MAX_FRAMES, innermost first
};

// False when the worker wrote no report (or not of a signal the handler covers) or its framing
// is inconsistent: bad magic, unknown signal, no frames or more than BH_CRASH_MAX_FRAMES, an
// unknown module kind. Names that fail their check are dropped, never repaired.
bool ValidateCrashReport(const bh_crash& raw, CrashReport* out);

}  // namespace bulkhead

#endif
