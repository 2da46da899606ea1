#include "fsops.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "text.h"

static bool force_fallback;

void
rf_fsops_force_fallback (bool on)
{
  force_fallback = on;
}

int
rf_image_openat2 (int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
  struct open_how how;
  if (force_fallback)
    {
      errno = ENOSYS;
      return -1;
    }
  memset (&how, 0, sizeof how);
  how.flags = flags;
  how.resolve = resolve;
  return (int) syscall (SYS_openat2, dirfd, path, &how, sizeof how);
}

int
rf_open_dir_beneath (int root_fd, const char *path, rf_error_t *err)
{
  cleanup_free char *copy = NULL;
  int fd;
  char *p;

  if (*path == '\0')
    {
      fd = fcntl (root_fd, F_DUPFD_CLOEXEC, 3);
      return fd >= 0 ? fd : rf_error_sys (err, "dup");
    }
  /* No symlink is followed, not even one that stays inside: every
     directory an entry lands in was made by a directory entry, so a
     symlink on the way means the layer is trying to be clever. */
  fd = rf_image_openat2 (root_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                         RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
  if (fd >= 0)
    return fd;
  if (errno != ENOSYS && errno != EAGAIN && errno != E2BIG)
    goto fail;

  /* The same, one component at a time with O_NOFOLLOW. */
  copy = xstrdup (path);
  fd = fcntl (root_fd, F_DUPFD_CLOEXEC, 3);
  if (fd < 0)
    return rf_error_sys (err, "dup");
  for (p = copy; p && *p;)
    {
      char *slash = strchr (p, '/');
      int next;
      if (slash)
        *slash = '\0';
      if (strcmp (p, "..") == 0 || strcmp (p, ".") == 0 || *p == '\0')
        {
          close (fd);
          errno = EXDEV;
          goto fail;
        }
      next = openat (fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      close (fd);
      if (next < 0)
        goto fail;
      fd = next;
      p = slash ? slash + 1 : NULL;
    }
  return fd;

fail:
  {
    cleanup_free char *shown = rf_printable (path, 120);
    if (errno == ELOOP)
      return rf_error_make (err, 0, "open `%s`: goes through a symlink", shown);
    return rf_error_sys (err, "open `%s`", shown);
  }
}

/* Lexical resolution inside the root, for kernels without openat2: each
   component is looked at with O_NOFOLLOW, symlinks are expanded by hand
   with ".." clamped at the root and absolute targets restarting there. */
static int
open_in_root_fallback (int root_fd, const char *path, rf_error_t *err)
{
  cleanup_free char *todo = xstrdup (path);
  cleanup_close int cur = fcntl (root_fd, F_DUPFD_CLOEXEC, 3);
  cleanup_free char *stack = xstrdup ("");
  int links = 0;

  if (cur < 0)
    return rf_error_sys (err, "dup");
  for (;;)
    {
      char *comp = todo, *rest;
      struct stat st;
      int next;

      while (*comp == '/')
        comp++;
      if (*comp == '\0')
        break;
      rest = comp + strcspn (comp, "/");
      if (*rest)
        *rest++ = '\0';
      if (strcmp (comp, ".") == 0)
        {
          memmove (todo, rest, strlen (rest) + 1);
          continue;
        }
      if (strcmp (comp, "..") == 0)
        {
          char *slash = strrchr (stack, '/');
          if (slash)
            *slash = '\0';
          else
            stack[0] = '\0';
          close (cur);
          cur = *stack ? openat (root_fd, stack, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                       : fcntl (root_fd, F_DUPFD_CLOEXEC, 3);
          if (cur < 0)
            return rf_error_sys (err, "open `%s` in the image", path);
          memmove (todo, rest, strlen (rest) + 1);
          continue;
        }
      if (fstatat (cur, comp, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return rf_error_sys (err, "open `%s` in the image", path);
      if (S_ISLNK (st.st_mode))
        {
          char target[4096];
          ssize_t n = readlinkat (cur, comp, target, sizeof target - 1);
          char *next_todo;
          if (n < 0)
            return rf_error_sys (err, "readlink `%s` in the image", path);
          target[n] = '\0';
          if (++links > 40)
            return rf_error_make (err, 0, "open `%s` in the image", path);
          next_todo = xasprintf ("%s/%s", target, rest);
          free (todo);
          todo = next_todo;
          if (target[0] == '/')
            {
              stack[0] = '\0';
              close (cur);
              cur = fcntl (root_fd, F_DUPFD_CLOEXEC, 3);
              if (cur < 0)
                return rf_error_sys (err, "dup");
            }
          continue;
        }
      next = openat (cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0)
        return rf_error_sys (err, "open `%s` in the image", path);
      {
        char *grown = *stack ? xasprintf ("%s/%s", stack, comp) : xstrdup (comp);
        free (stack);
        stack = grown;
      }
      close (cur);
      cur = next;
      memmove (todo, rest, strlen (rest) + 1);
    }
  {
    char proc[64];
    int fd;
    snprintf (proc, sizeof proc, "/proc/self/fd/%d", cur);
    fd = open (proc, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return rf_error_sys (err, "open `%s` in the image", path);
    return fd;
  }
}

int
rf_open_in_root (int root_fd, const char *path, rf_error_t *err)
{
  int fd = rf_image_openat2 (root_fd, path, O_RDONLY | O_CLOEXEC,
                             RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (fd >= 0)
    return fd;
  if (errno != ENOSYS && errno != EAGAIN && errno != E2BIG)
    return rf_error_sys (err, "open `%s` in the image", path);
  return open_in_root_fallback (root_fd, path, err);
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

bool
rf_rootless_p (void)
{
  cleanup_free char *map = NULL;
  unsigned long a, b, c;

  if (geteuid () != 0)
    return true;
  if (rf_read_file_at (AT_FDCWD, "/proc/self/uid_map", 65536, &map, NULL, NULL) < 0)
    return false;
  /* The initial namespace maps every id: "0 0 4294967295". */
  return !(sscanf (map, "%lu %lu %lu", &a, &b, &c) == 3 && a == 0 && b == 0 && c == 4294967295UL);
}

int
rf_read_fd (int fd, size_t max, char **out, size_t *len, rf_error_t *err)
{
  cleanup_free char *buf = NULL;
  size_t size = 0, cap = 8192;

  buf = xmalloc (cap);
  for (;;)
    {
      ssize_t n;
      if (size + 1 >= cap)
        {
          cap *= 2;
          buf = xrealloc (buf, cap);
        }
      n = read (fd, buf + size, cap - size - 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return rf_error_sys (err, "read");
      if (n == 0)
        break;
      size += n;
      if (max && size > max)
        return rf_error_make (err, 0, "larger than %zu bytes", max);
    }
  buf[size] = '\0';
  *len = size;
  *out = steal_pointer (&buf);
  return 0;
}
