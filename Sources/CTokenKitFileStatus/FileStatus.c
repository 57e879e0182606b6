// See include/CTokenKitFileStatus.h.

#if defined(__linux__)
#define _GNU_SOURCE
#endif
// A 64-bit `off_t` and `st_size` on 32-bit systems too, for files over 2 GiB.
#define _FILE_OFFSET_BITS 64

#include "CTokenKitFileStatus.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/stat.h>
#if defined(__linux__)
#include <sys/sysmacros.h>
#endif

static void copy_status(const struct stat *info, tokenkit_file_status *status) {
    status->device = (uint64_t)info->st_dev;
    status->inode = (uint64_t)info->st_ino;
    status->size = (int64_t)info->st_size;
    status->mode = (uint32_t)info->st_mode;
}

/// fstat(2) or stat(2): reads the file's times too.
static int read_status_with_stat(int descriptor, const char *path, tokenkit_file_status *status) {
    struct stat info;
    int result = path == NULL ? fstat(descriptor, &info) : stat(path, &info);
    if (result != 0) return -1;
    copy_status(&info, status);
    return 0;
}

#if defined(__linux__) && defined(STATX_INO)

/// statx(2) for these fields alone; 1 when statx is unavailable (a kernel before 4.11, or a
/// seccomp filter that refuses it), so the caller falls back to stat(2).
static int read_status_with_statx(int descriptor, const char *path, tokenkit_file_status *status) {
    struct statx info;
    // No STATX_CTIME, STATX_MTIME or STATX_ATIME: asking for them is what costs the next sync.
    unsigned int fields = STATX_TYPE | STATX_MODE | STATX_INO | STATX_SIZE;
    int result = path == NULL ? statx(descriptor, "", AT_EMPTY_PATH, fields, &info)
                              : statx(AT_FDCWD, path, 0, fields, &info);
    if (result != 0) return errno == ENOSYS || errno == EPERM ? 1 : -1;
    if ((info.stx_mask & fields) != fields) return 1;
    status->device = (uint64_t)makedev(info.stx_dev_major, info.stx_dev_minor);
    status->inode = (uint64_t)info.stx_ino;
    status->size = (int64_t)info.stx_size;
    status->mode = (uint32_t)info.stx_mode;
    return 0;
}

static int read_status(int descriptor, const char *path, tokenkit_file_status *status) {
    int result = read_status_with_statx(descriptor, path, status);
    return result == 1 ? read_status_with_stat(descriptor, path, status) : result;
}

#else

static int read_status(int descriptor, const char *path, tokenkit_file_status *status) {
    return read_status_with_stat(descriptor, path, status);
}

#endif

int tokenkit_file_status_of_descriptor(int descriptor, tokenkit_file_status *status) {
    return read_status(descriptor, NULL, status);
}

int tokenkit_file_status_at_path(const char *path, tokenkit_file_status *status) {
    return read_status(-1, path, status);
}
