// fanotify(7) and inotify(7) for `asd watch` (see CASDNotify.h).
#define _GNU_SOURCE 1

#include "CASDNotify.h"

#include <fcntl.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/vfs.h>
#include <unistd.h>

static const uint64_t casd_fan_mask = FAN_MODIFY | FAN_ATTRIB | FAN_CLOSE_WRITE | FAN_CREATE | FAN_DELETE |
                                      FAN_MOVED_FROM | FAN_MOVED_TO | FAN_DELETE_SELF | FAN_MOVE_SELF | FAN_ONDIR;
static const uint32_t casd_in_mask = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM |
                                     IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF;

int casd_fanotify_init(void) {
    return fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_DFID_NAME | FAN_UNLIMITED_QUEUE,
                         O_RDONLY | O_LARGEFILE);
}

int casd_fanotify_mark_filesystem(int fd, int dirfd) {
    return fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, casd_fan_mask, dirfd, NULL);
}

int casd_fanotify_event(const uint8_t *buf, size_t len, size_t *offset, int *kind, int *pid, uint64_t *fsid,
                        const void **handle, size_t *handle_size, const char **name) {
    if (*offset + sizeof(struct fanotify_event_metadata) > len) return 0;
    const struct fanotify_event_metadata *meta = (const void *)(buf + *offset);
    if (meta->event_len < sizeof(*meta) || *offset + meta->event_len > len) return 0;
    *offset += meta->event_len;
    *handle = NULL;
    *handle_size = 0;
    *name = NULL;
    *fsid = 0;
    *pid = meta->pid;
    if (meta->mask & FAN_Q_OVERFLOW) {
        *kind = CASD_CHANGE_OVERFLOW;
        return 1;
    }
    int isDir = (meta->mask & FAN_ONDIR) != 0;
    if (isDir && (meta->mask & (FAN_MOVED_FROM | FAN_MOVED_TO | FAN_MOVE_SELF)))
        *kind = CASD_CHANGE_DIR_MOVED;
    else
        *kind = isDir && (meta->mask & FAN_CREATE) ? CASD_CHANGE_DIR_NEW : CASD_CHANGE;
    size_t at = meta->metadata_len;
    while (at + sizeof(struct fanotify_event_info_header) <= meta->event_len) {
        const struct fanotify_event_info_header *info = (const void *)((const uint8_t *)meta + at);
        if (info->len == 0 || at + info->len > meta->event_len) break;
        if (info->info_type == FAN_EVENT_INFO_TYPE_DFID_NAME || info->info_type == FAN_EVENT_INFO_TYPE_DFID ||
            info->info_type == FAN_EVENT_INFO_TYPE_FID) {
            const struct fanotify_event_info_fid *fid = (const void *)info;
            const struct file_handle *fh = (const void *)fid->handle;
            memcpy(fsid, &fid->fsid, sizeof(*fsid));
            *handle = fh;
            *handle_size = sizeof(*fh) + fh->handle_bytes;
            if (info->info_type == FAN_EVENT_INFO_TYPE_DFID_NAME) *name = (const char *)fh->f_handle + fh->handle_bytes;
            break;
        }
        at += info->len;
    }
    return 1;
}

int casd_open_by_handle(int mount_fd, const void *handle) {
    return open_by_handle_at(mount_fd, (struct file_handle *)handle, O_PATH | O_CLOEXEC);
}

int casd_fsid(int fd, uint64_t *fsid) {
    struct statfs info;
    int result = fstatfs(fd, &info);
    if (result == 0) memcpy(fsid, &info.f_fsid, sizeof(*fsid));
    return result;
}

int casd_inotify_init(void) { return inotify_init1(IN_NONBLOCK | IN_CLOEXEC); }

int casd_inotify_watch(int fd, const char *path) {
    return inotify_add_watch(fd, path, casd_in_mask | IN_ONLYDIR | IN_EXCL_UNLINK);
}

int casd_inotify_event(const uint8_t *buf, size_t len, size_t *offset, int *wd, int *kind, const char **name) {
    if (*offset + sizeof(struct inotify_event) > len) return 0;
    const struct inotify_event *event = (const void *)(buf + *offset);
    if (*offset + sizeof(*event) + event->len > len) return 0;
    *offset += sizeof(*event) + event->len;
    *wd = event->wd;
    *name = event->len > 0 ? event->name : NULL;
    int isDir = (event->mask & IN_ISDIR) != 0;
    if (event->mask & IN_Q_OVERFLOW)
        *kind = CASD_CHANGE_OVERFLOW;
    else if (event->mask & IN_IGNORED)
        *kind = CASD_CHANGE_GONE;
    else if (isDir && (event->mask & (IN_CREATE | IN_MOVED_TO)))
        *kind = CASD_CHANGE_DIR_NEW;
    else if (isDir && (event->mask & IN_MOVED_FROM))
        *kind = CASD_CHANGE_DIR_MOVED;
    else
        *kind = CASD_CHANGE;
    return 1;
}
