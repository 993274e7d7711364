// crash_trap.h: the handler for fatal signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP)
// that writes a crash report into the worker's region, then lets the signal's default action kill
// the process.
//
// It runs on an alternate stack of its own, so a stack overflow is reported too.
// Frame 0 is the faulting pc from the signal context; the callers come from glibc's backtrace()
// (the DWARF unwinder, which steps through the signal frame; plugins are rarely built with frame
// pointers). Names come from dladdr: dynamic symbols only, so static functions stay unnamed. The
// report describes the worker's own memory and nothing else, and it is the plugin's own, unverified
// account: a plugin may replace these handlers or write the slot itself. The host takes the signal
// from the wait status, never from the report.
#ifndef BULKHEAD_ZYGOTE_CRASH_TRAP_H
#define BULKHEAD_ZYGOTE_CRASH_TRAP_H

#include "ring/region.h"

namespace bulkhead {

// Loads the unwinder (libgcc_s) while the template may still read libraries: a worker's Landlock
// domain cannot open it later. Call before any sandbox layer.
void PrepareCrashTrap();

// Installs the handlers and their alternate stack.
bool InstallCrashTrap();

// The dlopen handle whose frames are reported as the plugin's.
void SetCrashPlugin(void* handle);

// Where reports go: a worker's region crash slot. Without one (a template), nothing is written.
void SetCrashSink(bh_crash* crash);

}  // namespace bulkhead

#endif
