#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

ssize_t
rf_write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;
  size_t left = len;
  while (left > 0)
    {
      ssize_t n = write (fd, p, left);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      p += n;
      left -= n;
    }
  return len;
}

ssize_t
rf_read_all (int fd, void *buf, size_t len)
{
  char *p = buf;
  size_t got = 0;
  while (got < len)
    {
      ssize_t n = read (fd, p + got, len - got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      if (n == 0)
        break;
      got += n;
    }
  return got;
}

/* The one reader of a whole file: `name` (the path, or NULL for a bare fd)
   is what the errors name. */
static int
read_fd_named (int fd, const char *name, size_t max, char **out, size_t *len, rf_error_t *err)
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
        return name ? rf_error_sys (err, "read `%s`", name) : rf_error_sys (err, "read");
      if (n == 0)
        break;
      size += n;
      if (max && size > max)
        return name ? rf_error_make (err, EFBIG, "read `%s`: larger than %zu bytes", name, max)
                    : rf_error_make (err, 0, "larger than %zu bytes", max);
    }
  buf[size] = '\0';
  if (len)
    *len = size;
  *out = steal_pointer (&buf);
  return 0;
}

int
rf_read_fd (int fd, size_t max, char **out, size_t *len, rf_error_t *err)
{
  return read_fd_named (fd, NULL, max, out, len, err);
}

int
rf_read_file_at (int dirfd, const char *path, size_t max, char **out,
                 size_t *len, rf_error_t *err)
{
  cleanup_close int fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return rf_error_sys (err, "open `%s`", path);
  return read_fd_named (fd, path, max, out, len, err);
}

int
rf_write_file_at (int dirfd, const char *path, const char *buf, size_t len,
                  rf_error_t *err)
{
  cleanup_close int fd = openat (dirfd, path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return rf_error_sys (err, "open `%s`", path);
  if (rf_write_all (fd, buf, len) < 0)
    return rf_error_sys (err, "write `%s`", path);
  return 0;
}

int
rf_write_file_atomic (const char *path, const char *buf, size_t len,
                      mode_t mode, rf_error_t *err)
{
  cleanup_free char *tmp = xasprintf ("%s.tmp.%d", path, getpid ());
  int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return rf_error_sys (err, "create `%s`", tmp);
  if (rf_write_all (fd, buf, len) < 0)
    {
      rf_error_sys (err, "write `%s`", tmp);
      close (fd);
      unlink (tmp);
      return -1;
    }
  close (fd);
  if (rename (tmp, path) < 0)
    {
      rf_error_sys (err, "rename `%s` to `%s`", tmp, path);
      unlink (tmp);
      return -1;
    }
  return 0;
}

int
rf_mkdir_p (const char *path, mode_t mode, rf_error_t *err)
{
  cleanup_free char *copy = xstrdup (path);
  char *p = copy;

  while (*p == '/')
    p++;
  for (;;)
    {
      char *slash = strchr (p, '/');
      if (slash)
        *slash = '\0';
      if (*p && mkdir (copy, mode) < 0 && errno != EEXIST)
        return rf_error_sys (err, "mkdir `%s`", copy);
      if (slash == NULL)
        break;
      *slash = '/';
      p = slash + 1;
    }
  return 0;
}

static int
rm_rf_fd (int dfd, dev_t dev, rf_error_t *err)
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
      struct stat st;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (fstatat (dirfd (dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (S_ISDIR (st.st_mode))
        {
          int sub;
          /* Never descend into a mount: a leaked bind mount must make the
             removal fail loudly, not delete the host's files. */
          if (st.st_dev != dev)
            {
              errno = EBUSY;
              ret = rf_error_sys (err, "remove `%s`: a mount point", de->d_name);
              continue;
            }
          sub = openat (dirfd (dir), de->d_name,
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub >= 0 && rm_rf_fd (sub, dev, err) < 0)
            ret = -1;
          if (unlinkat (dirfd (dir), de->d_name, AT_REMOVEDIR) < 0
              && errno != ENOENT)
            ret = rf_error_sys (err, "rmdir `%s`", de->d_name);
        }
      else if (unlinkat (dirfd (dir), de->d_name, 0) < 0 && errno != ENOENT)
        ret = rf_error_sys (err, "unlink `%s`", de->d_name);
    }
  closedir (dir);
  return ret;
}

int
rf_rm_rf_at (int dirfd, const char *name, rf_error_t *err)
{
  struct stat st;
  int fd;

  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : rf_error_sys (err, "stat `%s`", name);
  if (!S_ISDIR (st.st_mode))
    {
      if (unlinkat (dirfd, name, 0) < 0 && errno != ENOENT)
        return rf_error_sys (err, "unlink `%s`", name);
      return 0;
    }
  fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return rf_error_sys (err, "open `%s`", name);
  if (rm_rf_fd (fd, st.st_dev, err) < 0)
    return rf_error_wrap (err, "remove `%s`", name);
  if (unlinkat (dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return rf_error_sys (err, "rmdir `%s`", name);
  return 0;
}

int
rf_rm_rf (const char *path, rf_error_t *err)
{
  return rf_rm_rf_at (AT_FDCWD, path, err);
}

int
rf_parse_uint64 (const char *s, unsigned long long max, unsigned long long *out)
{
  char *end;
  unsigned long long v;
  if (s == NULL || *s < '0' || *s > '9')
    return -1;
  errno = 0;
  v = strtoull (s, &end, 10);
  if (errno || *end || v > max)
    return -1;
  *out = v;
  return 0;
}

int
rf_fd_above (int fd, int min, rf_error_t *err)
{
  int moved;
  if (fd >= min)
    return fd;
  moved = fcntl (fd, F_DUPFD_CLOEXEC, min);
  close (fd);
  if (moved < 0)
    return rf_error_sys (err, "dup");
  return moved;
}

int
rf_write_pid_file (const char *path, pid_t pid, rf_error_t *err)
{
  char buf[32];
  int n = snprintf (buf, sizeof buf, "%d", (int) pid);
  if (rf_write_file_atomic (path, buf, n, 0644, err) < 0)
    return rf_error_wrap (err, "--pid-file");
  return 0;
}
