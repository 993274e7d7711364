// plugin_host.h: the host services table (bh_host) a plugin sees, and the calls into the plugin.
#ifndef BULKHEAD_ZYGOTE_PLUGIN_HOST_H
#define BULKHEAD_ZYGOTE_PLUGIN_HOST_H

#include <stdint.h>

#include <string>
#include <vector>

#include "include/bulkhead_plugin.h"
#include "ring/worker_ring.h"

namespace bulkhead {

// Records the validated plugin table for this process.
void SetPlugin(const bh_plugin* plugin);

// Runs the plugin's init (if any). On failure, `error` holds its message.
bool RunInit(const std::vector<uint8_t>& config, std::string* error);

// Serves calls from the ring forever.
[[noreturn]] void Serve(WorkerRing* ring);

}  // namespace bulkhead

#endif
