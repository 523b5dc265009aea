// _GNU_SOURCE before any header: statx, syncfs, copy_file_range, pipe2 and
// the *_np spawn actions are declared only with it.
#define _GNU_SOURCE 1

#include "CASDShims.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/fanotify.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

const int casd_O_PATH = O_PATH;
const int casd_AT_NO_AUTOMOUNT = AT_NO_AUTOMOUNT;

long casd_llistxattr(const char *path, char *list, size_t size) { return llistxattr(path, list, size); }
#ifndef SYS_listxattrat
#define SYS_listxattrat 465  // the same number on every architecture (Linux 6.13)
#endif
long casd_listxattrat_nofollow(int dirfd, const char *name, char *list, size_t size) {
    return syscall(SYS_listxattrat, dirfd, name, (unsigned int)AT_SYMLINK_NOFOLLOW, list, size);
}
long casd_lgetxattr(const char *path, const char *name, void *value, size_t size) {
    return lgetxattr(path, name, value, size);
}
int casd_lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags) {
    return lsetxattr(path, name, value, size, flags);
}
int casd_lremovexattr(const char *path, const char *name) { return lremovexattr(path, name); }
long casd_flistxattr(int fd, char *list, size_t size) { return flistxattr(fd, list, size); }
long casd_fgetxattr(int fd, const char *name, void *value, size_t size) {
    return fgetxattr(fd, name, value, size);
}
int casd_fsetxattr(int fd, const char *name, const void *value, size_t size, int flags) {
    return fsetxattr(fd, name, value, size, flags);
}

int casd_statx_mount_root(int dirfd, const char *name, int *is_mount_root) {
    struct statx st;
    memset(&st, 0, sizeof st);
    if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE, &st) != 0) return -1;
    *is_mount_root = (st.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0
        && (st.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
    return 0;
}

int casd_statfs_type(const char *path, uint64_t *type) {
    struct statfs st;
    if (statfs(path, &st) != 0) return -1;
    *type = (uint64_t)st.f_type;
    return 0;
}

int casd_fstatfs_type(int fd, uint64_t *type) {
    struct statfs st;
    if (fstatfs(fd, &st) != 0) return -1;
    *type = (uint64_t)st.f_type;
    return 0;
}

int casd_syncfs(int fd) { return syncfs(fd); }

int casd_sync_file_range_write(int fd, int64_t offset, int64_t length) {
    return sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE);
}

long casd_copy_file_range(int fd_in, int fd_out, size_t length) {
    return copy_file_range(fd_in, NULL, fd_out, NULL, length, 0);
}

int casd_renameat_noreplace(int olddirfd, const char *oldname, int newdirfd, const char *newname) {
    return renameat2(olddirfd, oldname, newdirfd, newname, RENAME_NOREPLACE);
}

int casd_ficlone(int dest, int source) { return ioctl(dest, FICLONE, source); }

int casd_fiemap_sync(int fd) {
    struct fiemap request;
    memset(&request, 0, sizeof request);
    request.fm_start = 0;
    request.fm_length = 1;
    request.fm_flags = FIEMAP_FLAG_SYNC;
    request.fm_extent_count = 0;
    return ioctl(fd, FS_IOC_FIEMAP, &request);
}

int casd_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int casd_memfd_create_cloexec(const char *name) { return memfd_create(name, MFD_CLOEXEC); }

int casd_spawn_add_fchdir(void *actions, int fd) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 29))
    return posix_spawn_file_actions_addfchdir_np(actions, fd);
#else
    (void)actions; (void)fd;
    return ENOSYS;
#endif
}

int casd_spawn_add_closefrom(void *actions, int from) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
#else
    (void)actions; (void)from;
    return ENOSYS;
#endif
}

long casd_ptrace(int request, int pid, long addr, long data) {
    return ptrace((enum __ptrace_request)request, (pid_t)pid, (void *)addr, (void *)data);
}

int casd_fanotify_watch_filesystem(const char *path) {
    int fd = fanotify_init(FAN_CLASS_NOTIF | FAN_NONBLOCK | FAN_CLOEXEC | FAN_REPORT_FID, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    uint64_t mask = FAN_MODIFY | FAN_ATTRIB | FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO
        | FAN_DELETE_SELF | FAN_MOVE_SELF | FAN_ONDIR;
    if (fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, mask, AT_FDCWD, path) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}
