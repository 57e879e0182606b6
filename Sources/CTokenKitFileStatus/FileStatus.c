// See include/CTokenKitFileStatus.h.

#if defined(__linux__)
#define _GNU_SOURCE
#endif

#include "CTokenKitFileStatus.h"

#include <fcntl.h>
#include <sys/stat.h>
#if defined(__linux__)
#include <sys/sysmacros.h>
#endif

#if defined(__linux__) && defined(STATX_INO)

static int read_status(int directory, const char *path, int flags, tokenkit_file_status *status) {
    struct statx info;
    // No STATX_CTIME, STATX_MTIME or STATX_ATIME: asking for them is what costs the next sync.
    unsigned int fields = STATX_TYPE | STATX_MODE | STATX_INO | STATX_SIZE;
    if (statx(directory, path, flags, fields, &info) != 0) return -1;
    status->device = (uint64_t)makedev(info.stx_dev_major, info.stx_dev_minor);
    status->inode = (uint64_t)info.stx_ino;
    status->size = (int64_t)info.stx_size;
    status->mode = (uint32_t)info.stx_mode;
    return 0;
}

int tokenkit_file_status_of_descriptor(int descriptor, tokenkit_file_status *status) {
    return read_status(descriptor, "", AT_EMPTY_PATH, status);
}

int tokenkit_file_status_at_path(const char *path, tokenkit_file_status *status) {
    return read_status(AT_FDCWD, path, 0, status);
}

#else

static void copy_status(const struct stat *info, tokenkit_file_status *status) {
    status->device = (uint64_t)info->st_dev;
    status->inode = (uint64_t)info->st_ino;
    status->size = (int64_t)info->st_size;
    status->mode = (uint32_t)info->st_mode;
}

int tokenkit_file_status_of_descriptor(int descriptor, tokenkit_file_status *status) {
    struct stat info;
    if (fstat(descriptor, &info) != 0) return -1;
    copy_status(&info, status);
    return 0;
}

int tokenkit_file_status_at_path(const char *path, tokenkit_file_status *status) {
    struct stat info;
    if (stat(path, &info) != 0) return -1;
    copy_status(&info, status);
    return 0;
}

#endif
