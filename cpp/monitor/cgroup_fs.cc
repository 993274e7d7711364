// cgroup_fs.cc: cgroup file operations; EINTR is retried, every other failure is returned.
#include "monitor/cgroup_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bulkhead {
namespace {

// Digits only, no sign, no overflow: what strtoull would let through is not all a number.
std::optional<uint64_t> ParseDecimal(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

}  // namespace

std::optional<std::string> ReadCgroupFile(const std::string& path, int* err) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (err != nullptr) *err = errno;
    return std::nullopt;
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (err != nullptr) *err = errno;
      close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

int WriteCgroupFile(const std::string& path, std::string_view value) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  ssize_t n;
  do {
    n = write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  const int err = n < 0 ? errno : static_cast<size_t>(n) == value.size() ? 0 : EIO;
  close(fd);
  return err;
}

int MakeCgroupDir(const std::string& path) {
  return mkdir(path.c_str(), 0755) == 0 ? 0 : errno;
}

int RemoveCgroupDir(const std::string& path) {
  return rmdir(path.c_str()) == 0 || errno == ENOENT ? 0 : errno;
}

int RemoveEmptyCgroupTree(const std::string& dir, int depth) {
  int first = 0;
  if (depth > 0) {
    for (const std::string& name : CgroupChildren(dir)) {
      int err = RemoveEmptyCgroupTree(dir + "/" + name, depth - 1);
      if (first == 0) first = err;
    }
  }
  int err = RemoveCgroupDir(dir);
  return first != 0 && err != 0 ? first : err;
}

std::vector<std::string> CgroupChildren(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (struct dirent* e = readdir(d)) {
    const std::string_view name = e->d_name;
    if (e->d_type != DT_DIR || name == "." || name == "..") continue;
    out.emplace_back(name);
  }
  closedir(d);
  return out;
}

std::vector<pid_t> CgroupPids(const std::string& dir) {
  std::vector<pid_t> out;
  std::optional<std::string> text = ReadCgroupFile(dir + "/cgroup.procs");
  if (!text) return out;
  std::string_view rest = *text;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    std::optional<uint64_t> pid = ParseDecimal(rest.substr(0, nl));
    if (pid && *pid > 0 && *pid <= INT32_MAX) out.push_back(static_cast<pid_t>(*pid));
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return out;
}

std::optional<uint64_t> KeyedValue(std::string_view text, std::string_view key) {
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ' ') {
      return ParseDecimal(line.substr(key.size() + 1));
    }
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return std::nullopt;
}

std::optional<uint64_t> SingleValue(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  return ParseDecimal(text);
}

}  // namespace bulkhead
