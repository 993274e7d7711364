// process_facts.cc: /proc readers for the monitor (see process_facts.h).
#include "zygote/process_facts.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

namespace bulkhead {
namespace {

bool ReadSmallFile(const char* path, std::string* out) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out->clear();
  char buf[4096];
  ssize_t n;
  while (out->size() < (64u << 10) && (n = read(fd, buf, sizeof buf)) > 0) out->append(buf, static_cast<size_t>(n));
  close(fd);
  return !out->empty();
}

std::string LinkTarget(int fd) {
  char path[64], target[128];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(path, target, sizeof target - 1);
  return n <= 0 ? std::string() : std::string(target, static_cast<size_t>(n));
}

// The decimal after "\n<key>:\t" (or at the start), or -1.
long Field(const std::string& text, const char* key) {
  const std::string k = std::string(key) + ":";
  size_t at = text.compare(0, k.size(), k) == 0 ? 0 : text.find("\n" + k);
  if (at == std::string::npos) return -1;
  at += (at == 0 ? 0 : 1) + k.size();
  while (at < text.size() && (text[at] == '\t' || text[at] == ' ')) at++;
  char* end = nullptr;
  long v = strtol(text.c_str() + at, &end, 10);
  if (end == text.c_str() + at || v < 0) return -1;
  return v;
}

// The last number on the "NStgid:" line: the innermost namespace's view.
long InnermostTgid(const std::string& status) {
  size_t at = status.find("\nNStgid:");
  if (at == std::string::npos) return -1;
  size_t end = status.find('\n', at + 1);
  std::string line = status.substr(at + 8, end == std::string::npos ? std::string::npos : end - at - 8);
  size_t last = line.find_last_of(" \t");
  char* stop = nullptr;
  const char* digits = line.c_str() + (last == std::string::npos ? 0 : last + 1);
  long v = strtol(digits, &stop, 10);
  return stop == digits || v <= 0 ? -1 : v;
}

}  // namespace

bool ParseStatusIds(const std::string& status, ProcessIds* out) {
  long tgid = Field(status, "Tgid"), ppid = Field(status, "PPid");
  if (tgid <= 0 || ppid < 0) return false;
  long inner = InnermostTgid(status);
  out->tgid = static_cast<pid_t>(tgid);
  out->ns_tgid = static_cast<pid_t>(inner > 0 ? inner : tgid);
  out->ppid = static_cast<pid_t>(ppid);
  return true;
}

std::vector<pid_t> ThreadIds(pid_t tgid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", tgid);
  std::vector<pid_t> out;
  DIR* d = opendir(path);
  if (d == nullptr) return out;
  while (const struct dirent* e = readdir(d)) {
    char* end;
    const long tid = strtol(e->d_name, &end, 10);
    if (end != e->d_name && *end == '\0' && tid > 0) out.push_back(static_cast<pid_t>(tid));
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

bool ParseStatPgrp(const std::string& stat, pid_t* pgrp) {
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so start after the last ')'.
  size_t close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return false;
  char state;
  int ppid, group;
  if (sscanf(stat.c_str() + close_paren + 1, " %c %d %d", &state, &ppid, &group) != 3) return false;
  if (group <= 0) return false;
  *pgrp = group;
  return true;
}

bool ReadProcessIds(pid_t tid, ProcessIds* out) {
  char path[64];
  std::string status, stat;
  snprintf(path, sizeof path, "/proc/%d/status", tid);
  if (!ReadSmallFile(path, &status) || !ParseStatusIds(status, out)) return false;
  snprintf(path, sizeof path, "/proc/%d/stat", tid);
  return ReadSmallFile(path, &stat) && ParseStatPgrp(stat, &out->pgrp);
}

namespace {

// The Pid: field of a pidfd's fdinfo (-1 once its process is reaped); false if `fd` is no pidfd.
bool PidfdField(int fd, long* pid) {
  const std::string target = LinkTarget(fd);
  if (target != "anon_inode:[pidfd]" && target.rfind("pidfd:", 0) != 0) return false;
  char path[64];
  std::string info;
  snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
  if (!ReadSmallFile(path, &info) || info.find("\nPid:") == std::string::npos) return false;
  *pid = Field(info, "Pid");  // -1 once the process is gone (0 in another namespace)
  return true;
}

}  // namespace

pid_t PidOfPidfd(int fd) {
  long pid;
  return PidfdField(fd, &pid) && pid > 0 ? static_cast<pid_t>(pid) : -1;
}

bool IsPidfdOfGone(int fd) {
  long pid;
  return PidfdField(fd, &pid) && pid == -1;
}

bool ProcessExited(int pidfd) {
  struct pollfd p = {pidfd, POLLIN, 0};
  return poll(&p, 1, 0) != 0;  // POLLIN: exited; POLLNVAL or an error: no telling
}

namespace {
// PIDFD_GET_INFO (Linux 6.13+; exit status since 6.15), defined here for older headers.
struct PidfdInfo {
  uint64_t mask;
  uint64_t cgroupid;
  uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
  int32_t exit_code;
  uint32_t coredump_mask;
  uint32_t spare;
};
constexpr uint64_t kPidfdInfoExit = 1u << 3;
constexpr unsigned long kPidfdGetInfo = _IOWR(0xFF, 11, PidfdInfo);
}  // namespace

int PidfdExitStatus(int pidfd) {
  PidfdInfo pi{};
  pi.mask = kPidfdInfoExit;
  if (pidfd >= 0 && ioctl(pidfd, kPidfdGetInfo, &pi) == 0 && (pi.mask & kPidfdInfoExit)) return pi.exit_code;
  return -1;
}

bool IsSeccompListener(int fd) { return LinkTarget(fd) == "anon_inode:seccomp notify"; }

std::vector<pid_t> OwnChildren() {
  char path[64];
  std::string text;
  snprintf(path, sizeof path, "/proc/self/task/%d/children", static_cast<int>(getpid()));
  std::vector<pid_t> out;
  if (!ReadSmallFile(path, &text)) return out;
  const char* p = text.c_str();
  char* end;
  for (long v; (v = strtol(p, &end, 10)), end != p; p = end) out.push_back(static_cast<pid_t>(v));
  return out;
}

}  // namespace bulkhead
