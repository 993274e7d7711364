/*
 * errno_name.h: errno values as their symbolic names, so fixtures report "open: EACCES" and tests
 * compare names rather than numbers that differ between architectures.
 */
#ifndef BULKHEAD_PLUGINS_ERRNO_NAME_H
#define BULKHEAD_PLUGINS_ERRNO_NAME_H

#include <errno.h>
#include <stdio.h>

/* Returns the name of `e`, or "E<number>" formatted into `buf` for one not listed; "0" for none. */
static inline const char *errno_name(int e, char buf[16]) {
  switch (e) {
    case 0: return "0";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ENOSYS: return "ENOSYS";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case ELOOP: return "ELOOP";
    case EFAULT: return "EFAULT";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EEXIST: return "EEXIST";
    case EROFS: return "EROFS";
    case EXDEV: return "EXDEV";
    case ENOTTY: return "ENOTTY";
    case ECHILD: return "ECHILD";
    case ESRCH: return "ESRCH";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: snprintf(buf, 16, "E%d", e); return buf;
  }
}

#endif /* BULKHEAD_PLUGINS_ERRNO_NAME_H */
