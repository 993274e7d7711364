// process_facts.h: what the kernel says about a process or descriptor a template handed the
// monitor, so that nothing the template claims is believed without checking.
#ifndef BULKHEAD_ZYGOTE_PROCESS_FACTS_H
#define BULKHEAD_ZYGOTE_PROCESS_FACTS_H

#include <sys/types.h>

#include <string>
#include <vector>

namespace bulkhead {

struct ProcessIds {
  pid_t tgid = 0;     // the process a thread belongs to, as the monitor sees it
  pid_t ns_tgid = 0;  // the same, as the process itself sees it (its own pid namespace)
  pid_t ppid = 0;
  pid_t pgrp = 0;
};

// From /proc/<tid>/status and /proc/<tid>/stat; false if the task is gone or the text is odd.
bool ReadProcessIds(pid_t tid, ProcessIds* out);

// Parsers of those files' text, for tests.
bool ParseStatusIds(const std::string& status, ProcessIds* out);
// The threads of process `tgid` now (/proc/<tgid>/task), sorted; empty when it is gone.
std::vector<pid_t> ThreadIds(pid_t tgid);
bool ParseStatPgrp(const std::string& stat, pid_t* pgrp);

// The pid a pidfd refers to, or -1 if `fd` is not a pidfd of a live process of our namespace.
pid_t PidOfPidfd(int fd);

// True if `fd` is a pidfd whose process is gone (exited and reaped).
bool IsPidfdOfGone(int fd);

// True once the process `pidfd` refers to has exited, reaped or not; also when `pidfd` is no
// descriptor (the caller cannot tell, so it stops as if it had).
bool ProcessExited(int pidfd);

// The wait status of the exited process `pidfd` refers to, from PIDFD_GET_INFO, or -1 when the
// kernel cannot say (still running, not reaped yet, or a kernel before 6.15).
int PidfdExitStatus(int pidfd);

// True if `fd` is a seccomp user-notification listener.
bool IsSeccompListener(int fd);

// The calling process's live and zombie children.
std::vector<pid_t> OwnChildren();

}  // namespace bulkhead

#endif
