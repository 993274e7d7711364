#!/usr/bin/env bash
# run_asan.sh: builds the addon and the zygote with ASAN and UBSAN in build/asan/ (build/Release,
# which npm test uses, is left alone) and runs the whole vitest suite against that build.
#
# node-gyp always builds into ./build, so build/asan/ is a package root of symlinks with a build
# of its own; BULKHEAD_PREBUILD points node-gyp-build (lib/native.ts) there. The addon is loaded
# into an uninstrumented node, so libasan must be preloaded; the zygote carries its own options
# (cpp/zygote/sanitizer_build.cc). Tests that cannot hold under ASAN skip on BULKHEAD_ASAN=1.
set -euo pipefail
cd "$(dirname "$0")/.."
root=build/asan
mkdir -p "$root"
for f in binding.gyp package.json cpp plugins node_modules; do ln -sfn "../../$f" "$root/$f"; done
make -s -C plugins -j2  # the fixtures the suite loads (not sanitized)
(cd "$root" && node-gyp configure -- -Dbulkhead_asan=1 >/dev/null && node-gyp build -j 2 >/dev/null)
export BULKHEAD_PREBUILD="$PWD/$root" BULKHEAD_ASAN=1
export LD_PRELOAD="$(g++ -print-file-name=libasan.so)"
# node's own allocations live until exit by design: no leak report for it.
export ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The zygote inherits stderr, so sanitizer reports from it and its workers are seen.
export BULKHEAD_DEBUG_ZYGOTE=1
exec npx vitest run "$@"
