// File-system change notification for `asd watch` (doc/DESIGN.md §12):
// fanotify(7) with file handles and a filesystem mark, inotify(7), and the
// walk through their event buffers, done in C so Swift sees no struct layout.
// Same rules as CASDShims.h: no glibc header here, plain C types, and every
// function returns what the C call returns with errno as it set it.
#ifndef CASD_NOTIFY_H
#define CASD_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

// What one event means to the watcher.
enum casd_change_kind {
    CASD_CHANGE = 0,            // something in or of the directory changed
    CASD_CHANGE_OVERFLOW = 1,   // the queue overflowed: events were lost
    CASD_CHANGE_DIR_MOVED = 2,  // a directory was renamed (in or out)
    CASD_CHANGE_DIR_NEW = 3,    // a directory appeared (created or moved in)
    CASD_CHANGE_GONE = 4,       // inotify: the watch was removed (IN_IGNORED)
};

// fanotify_init(2): FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK |
// FAN_REPORT_DFID_NAME | FAN_UNLIMITED_QUEUE (root: the watcher's own
// write-back, whose capture links every file, must never overflow it), events O_RDONLY.
int casd_fanotify_init(void);
// fanotify_mark(2) FAN_MARK_ADD | FAN_MARK_FILESYSTEM of the file system
// holding `dirfd`, for modifications, attribute changes, close-after-write,
// creation, deletion and renames, of files and directories.
int casd_fanotify_mark_filesystem(int fd, int dirfd);
// The event at *offset of buf[0..len): sets *kind, *pid (who caused it), *fsid (f_fsid's two
// words), *handle and *handle_size (the struct file_handle of the directory,
// NULL for an overflow) and *name (NULL when none, "." for the directory
// itself); advances *offset. Returns 1 for an event, 0 at the end.
int casd_fanotify_event(const uint8_t *buf, size_t len, size_t *offset, int *kind, int *pid, uint64_t *fsid,
                        const void **handle, size_t *handle_size, const char **name);
// open_by_handle_at(2) with O_PATH | O_CLOEXEC.
int casd_open_by_handle(int mount_fd, const void *handle);
// fstatfs(2)'s f_fsid as the fanotify events carry it.
int casd_fsid(int fd, uint64_t *fsid);

// inotify_init1(2) IN_NONBLOCK | IN_CLOEXEC.
int casd_inotify_init(void);
// inotify_add_watch(2) of `path` (/proc/self/fd/N of a directory opened
// without following symlinks: the magic link is followed) for the same
// changes, IN_ONLYDIR | IN_EXCL_UNLINK. Returns the watch descriptor.
int casd_inotify_watch(int fd, const char *path);
// The event at *offset: *wd, *kind, *name (NULL when none); advances *offset.
int casd_inotify_event(const uint8_t *buf, size_t len, size_t *offset, int *wd, int *kind, const char **name);
#endif
