// violation_trap.h: the SIGSYS handler that reports a seccomp violation, then kills the process.
//
// Seccomp denials trap; the handler (on its own alternate stack) copies the syscall number and
// architecture the kernel reports into the worker's shared region (or, while a template loads,
// onto its control socket), then makes the one syscall every filter answers with
// KILL_PROCESS. The plugin cannot replace the handler (rt_sigaction(SIGSYS) traps too). What it
// writes is a report about itself: the host reads it as hostile data and grants nothing by it.
#ifndef BULKHEAD_ZYGOTE_VIOLATION_TRAP_H
#define BULKHEAD_ZYGOTE_VIOLATION_TRAP_H

#include "ring/region.h"

namespace bulkhead {

// Installs the handler and an alternate signal stack. Call before any seccomp filter.
bool InstallViolationTrap();

// Where reports go from now on: a worker's region fault slot, or (fault == nullptr) a kViolation
// message with `plugin_id` on `report_sock`.
void SetViolationSink(bh_fault* fault, int report_sock, uint32_t plugin_id);

}  // namespace bulkhead

#endif
