// The glibc and kernel interfaces that Swift's Glibc module leaves out (they
// sit behind _GNU_SOURCE or in headers the module does not cover), declared
// with fixed C types and implemented in shims.c, which defines _GNU_SOURCE and
// includes the real headers. Swift sees typed functions and the real
// constants, never a struct offset or a function pointer looked up at run time.
// This header itself includes no glibc header: one seen here under
// _GNU_SOURCE would clash with the same header in Swift's Glibc module
// (fd_set's fields are named differently), so the types are the plain C ones
// (long is long on Linux; a posix_spawn_file_actions_t is passed as void *).
// Every function returns what the C call returns and leaves errno as it set it.
#ifndef CASD_SHIMS_H
#define CASD_SHIMS_H

#include <stddef.h>
#include <stdint.h>

// <sys/xattr.h>: llistxattr(2), lgetxattr(2), lsetxattr(2), lremovexattr(2)
// and the descriptor forms.
long casd_llistxattr(const char *path, char *list, size_t size);
// listxattrat(2) (Linux 6.13) with AT_SYMLINK_NOFOLLOW: `name` relative to `dirfd`;
// -1 with ENOSYS on older kernels.
long casd_listxattrat_nofollow(int dirfd, const char *name, char *list, size_t size);
long casd_lgetxattr(const char *path, const char *name, void *value, size_t size);
int casd_lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags);
int casd_lremovexattr(const char *path, const char *name);
long casd_flistxattr(int fd, char *list, size_t size);
long casd_fgetxattr(int fd, const char *name, void *value, size_t size);
int casd_fsetxattr(int fd, const char *name, const void *value, size_t size, int flags);

// statx(2) of `name` relative to `dirfd` (AT_SYMLINK_NOFOLLOW |
// AT_NO_AUTOMOUNT): *is_mount_root is 1 when the kernel reports
// STATX_ATTR_MOUNT_ROOT, 0 when it reports the attribute unset or does not
// know it. Returns 0, or -1 with errno.
int casd_statx_mount_root(int dirfd, const char *name, int *is_mount_root);

// statfs(2) / fstatfs(2): f_type of the file system holding `path` / `fd`.
int casd_statfs_type(const char *path, uint64_t *type);
int casd_fstatfs_type(int fd, uint64_t *type);

// syncfs(2), sync_file_range(2) with SYNC_FILE_RANGE_WRITE, copy_file_range(2).
int casd_syncfs(int fd);
int casd_sync_file_range_write(int fd, int64_t offset, int64_t length);
long casd_copy_file_range(int fd_in, int fd_out, size_t length);

// renameat2(2) with RENAME_NOREPLACE: fails with EEXIST rather than replace.
int casd_renameat_noreplace(int olddirfd, const char *oldname, int newdirfd, const char *newname);

// ioctl(FICLONE): `dest` shares the extents of `source`.
int casd_ficlone(int dest, int source);
// ioctl(FS_IOC_FIEMAP) of the first byte with FIEMAP_FLAG_SYNC and no extents
// asked for: the file's dirty pages are written and mapped before it returns.
int casd_fiemap_sync(int fd);

// pipe2(2) with O_CLOEXEC; memfd_create(2) with MFD_CLOEXEC.
int casd_pipe_cloexec(int fds[2]);
int casd_memfd_create_cloexec(const char *name);

// posix_spawn_file_actions_addfchdir_np (glibc 2.29+) and _addclosefrom_np
// (glibc 2.34+); return ENOSYS when the C library asd was built against lacks them.
int casd_spawn_add_fchdir(void *actions, int fd);
int casd_spawn_add_closefrom(void *actions, int from);

// ptrace(2) with integer arguments (glibc declares it variadic, which Swift
// cannot call): PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_DETACH.
long casd_ptrace(int request, int pid, long addr, long data);

// fanotify(7): a notification group (non-blocking, close-on-exec) reporting, with
// file identifiers, every change of content, metadata or names anywhere on the
// file system that holds `path` (a FAN_MARK_FILESYSTEM mark). Returns its
// descriptor, or -1 with errno (no fanotify, no right, a file system without
// file identifiers).
int casd_fanotify_watch_filesystem(const char *path);

// Flags <fcntl.h> defines only under _GNU_SOURCE.
extern const int casd_O_PATH;
extern const int casd_AT_NO_AUTOMOUNT;

// fanotify and inotify for `asd watch`.
#include "CASDNotify.h"

#endif
