// cgroup_fs.h: the few file operations cgroups need (read, write, rmdir, list pids), as plain
// syscalls that report errno instead of throwing, plus the pure parsers for the files they read.
#ifndef BULKHEAD_MONITOR_CGROUP_FS_H
#define BULKHEAD_MONITOR_CGROUP_FS_H

#include <stdint.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead {

// The whole file, or nullopt with *err set (when err is given).
std::optional<std::string> ReadCgroupFile(const std::string& path, int* err = nullptr);

// One write(2) of `value`, as cgroup files expect; 0 or errno.
int WriteCgroupFile(const std::string& path, std::string_view value);

// mkdir with mode 0755; 0, or errno (EEXIST included).
int MakeCgroupDir(const std::string& path);

// rmdir; 0 when the directory is gone (ENOENT counts), else errno (EBUSY while populated).
int RemoveCgroupDir(const std::string& path);

// Removes the directories beneath `dir` that hold nothing, deepest first, at most `depth` levels
// down, then `dir` itself. 0 when `dir` is gone, else the first errno that kept something.
int RemoveEmptyCgroupTree(const std::string& dir, int depth);

// Subdirectory names of `dir` (no "." or ".."); empty when unreadable.
std::vector<std::string> CgroupChildren(const std::string& dir);

// The pids listed in `dir`/cgroup.procs; empty when unreadable.
std::vector<pid_t> CgroupPids(const std::string& dir);

// The number after `key` in a "key value" per line file (memory.events, cpu.stat, ...).
std::optional<uint64_t> KeyedValue(std::string_view text, std::string_view key);

// A file holding one unsigned decimal number and a newline ("max" and the like are nullopt).
std::optional<uint64_t> SingleValue(std::string_view text);

}  // namespace bulkhead

#endif  // BULKHEAD_MONITOR_CGROUP_FS_H
