#include "fsops.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/inroot.h"
#include "text.h"

int
rf_open_dir_beneath (int root_fd, const char *path, rf_error_t *err)
{
  /* No symlink is followed, not even one that stays inside: every
     directory an entry lands in was made by a directory entry, so a
     symlink on the way means the layer is trying to be clever. */
  int fd = rf_inroot_open (root_fd, path, O_RDONLY | O_DIRECTORY, RF_INROOT_NO_SYMLINKS);
  cleanup_free char *shown = NULL;

  if (fd >= 0)
    return fd;
  shown = rf_printable (path, 120);
  if (errno == ELOOP)
    return rf_error_make (err, 0, "open `%s`: goes through a symlink", shown);
  return rf_error_sys (err, "open `%s`", shown);
}

int
rf_open_in_root (int root_fd, const char *path, rf_error_t *err)
{
  /* The image's file: a FIFO that nobody writes would hold the open
     (hence O_NONBLOCK) and every read for good. */
  int fd = rf_inroot_open (root_fd, path, O_RDONLY | O_NONBLOCK, RF_INROOT_FOLLOW);
  struct stat st;
  if (fd < 0)
    return rf_error_sys (err, "open `%s` in the image", path);
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      return rf_error_make (err, EINVAL, "`%s` in the image: not a regular file", path);
    }
  return fd;
}

static int
rm_children (int dfd, rf_error_t *err)
{
  DIR *dir = fdopendir (dfd);
  struct dirent *de;
  int ret = 0;

  if (dir == NULL)
    {
      close (dfd);
      return rf_error_sys (err, "opendir");
    }
  while ((de = readdir (dir)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (rf_rm_tree_at (dirfd (dir), de->d_name, err) < 0)
        ret = -1;
    }
  closedir (dir);
  return ret;
}

int
rf_rm_tree_at (int dirfd, const char *name, rf_error_t *err)
{
  struct stat st, parent;
  int fd;

  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : rf_error_sys (err, "stat `%s`", name);
  if (!S_ISDIR (st.st_mode))
    {
      if (unlinkat (dirfd, name, 0) < 0 && errno != ENOENT)
        return rf_error_sys (err, "unlink `%s`", name);
      return 0;
    }
  /* A mount below a store directory must make the removal fail, never
     delete what the mount shows. */
  if (fstat (dirfd, &parent) == 0 && parent.st_dev != st.st_dev)
    return rf_error_make (err, 0, "remove `%s`: a mount point", name);
  if ((st.st_mode & 0700) != 0700 && fchmodat (dirfd, name, (st.st_mode & 07777) | 0700, 0) < 0)
    return rf_error_sys (err, "chmod `%s`", name);
  fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return rf_error_sys (err, "open `%s`", name);
  if (rm_children (fd, err) < 0)
    return rf_error_wrap (err, "remove `%s`", name);
  if (unlinkat (dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return rf_error_sys (err, "rmdir `%s`", name);
  return 0;
}

static int64_t
usage_fd (int dfd)
{
  DIR *dir = fdopendir (dfd);
  struct dirent *de;
  int64_t total = 0;

  if (dir == NULL)
    {
      close (dfd);
      return 0;
    }
  while ((de = readdir (dir)) != NULL)
    {
      struct stat st;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (fstatat (dirfd (dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (S_ISDIR (st.st_mode))
        {
          int sub = openat (dirfd (dir), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub >= 0)
            total += usage_fd (sub);
        }
      /* A file with n links is counted 1/n times per link, so once. */
      total += (int64_t) st.st_blocks * 512 / (st.st_nlink ? st.st_nlink : 1);
    }
  closedir (dir);
  return total;
}

int64_t
rf_tree_disk_usage_at (int dirfd, const char *name)
{
  struct stat st;
  int fd;
  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return 0;
  if (!S_ISDIR (st.st_mode))
    return (int64_t) st.st_blocks * 512;
  fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return 0;
  return (int64_t) st.st_blocks * 512 + usage_fd (fd);
}

