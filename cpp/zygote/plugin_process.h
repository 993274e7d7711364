// plugin_process.h: the two kinds of process that run plugin code, both started by the zygote.
//
// A template is forked per loaded plugin: it closes every inherited descriptor, drops
// capabilities, applies rlimits, the load-phase Landlock domain and seccomp policy, and only then
// hands the boundary policy's notification listener to the zygote (the monitor), and only then
// maps the verified plugin bytes (a sealed memfd) and runs init. It then clones workers on request.
// A worker is a clone of a warm template (the plugin is already relocated and initialised) that
// maps its shared region, adds its own Landlock domain and the run-phase seccomp policy, and
// serves calls until it is killed. Everything after the plugin is mapped is hostile: the load-phase
// sandbox is the boundary, later layers only tighten it.
#ifndef BULKHEAD_ZYGOTE_PLUGIN_PROCESS_H
#define BULKHEAD_ZYGOTE_PLUGIN_PROCESS_H

#include <stdint.h>
#include <sys/types.h>

#include "sandbox/sandbox_spec.h"

namespace bulkhead {

// Descriptor numbers inside a template.
constexpr int kTemplateSockFd = 3;
constexpr int kTemplatePluginFd = 4;
// Descriptor numbers inside a worker.
constexpr int kWorkerRegionFd = 3;
constexpr int kWorkerEventFd = 4;

// Exit codes a worker or template uses before plugin code could have run.
constexpr int kExitSetupFailed = 121;
constexpr int kExitParentGone = 122;

// Runs in a fresh child of the zygote; never returns.
[[noreturn]] void RunTemplate(int sock, int plugin_fd, uint32_t plugin_id, pid_t zygote_pid,
                              const SandboxSpec& spec);

// Runs in a fresh clone of a template; never returns.
[[noreturn]] void RunWorker(int region_fd, int event_fd, pid_t zygote_pid, const SandboxSpec& spec);

}  // namespace bulkhead

#endif
