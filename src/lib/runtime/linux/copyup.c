#include "copyup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"

/* Deep enough for any tree a tmpfs mount point holds in practice; a
   deeper one is an error, not a stack overflow. */
#define MAX_DEPTH 64

static int
copy_file (int from_dir, int to_dir, const char *name, const struct stat *st, rf_error_t *err)
{
  cleanup_close int in = openat (from_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int out = -1;
  char buf[65536];

  if (in < 0)
    return rf_error_sys (err, "open `%s`", name);
  out = openat (to_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                st->st_mode & 07777);
  if (out < 0)
    return rf_error_sys (err, "create `%s`", name);
  for (;;)
    {
      ssize_t n = read (in, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return rf_error_sys (err, "read `%s`", name);
      if (n == 0)
        return 0;
      if (rf_write_all (out, buf, n) < 0)
        return rf_error_sys (err, "write `%s`", name);
    }
}

static int
copy_entry (int from, int to, const char *name, int depth, rf_error_t *err);

static int
copy_dir (int from, int to, int depth, rf_error_t *err)
{
  cleanup_close int dup_fd = -1;
  DIR *dir;
  struct dirent *de;
  int ret = 0;

  if (depth > MAX_DEPTH)
    return rf_error_make (err, ELOOP, "nested more than %d directories deep", MAX_DEPTH);
  dup_fd = openat (from, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup_fd < 0 || (dir = fdopendir (dup_fd)) == NULL)
    return rf_error_sys (err, "read a directory");
  dup_fd = -1; /* the DIR owns it */
  while (ret == 0 && (de = readdir (dir)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      ret = copy_entry (from, to, de->d_name, depth, err);
  closedir (dir);
  return ret;
}

static int
copy_entry (int from, int to, const char *name, int depth, rf_error_t *err)
{
  struct stat st;
  int r = 0;

  if (fstatat (from, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return rf_error_sys (err, "stat `%s`", name);
  switch (st.st_mode & S_IFMT)
    {
    case S_IFDIR:
      {
        cleanup_close int sub_from = -1, sub_to = -1;
        if (mkdirat (to, name, 0700) < 0)
          return rf_error_sys (err, "mkdir `%s`", name);
        sub_from = openat (from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        sub_to = openat (to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub_from < 0 || sub_to < 0)
          return rf_error_sys (err, "open `%s`", name);
        if (copy_dir (sub_from, sub_to, depth + 1, err) < 0)
          return rf_error_wrap (err, "`%s`", name);
        r = fchmodat (to, name, st.st_mode & 07777, 0);
      }
      break;
    case S_IFREG:
      if (copy_file (from, to, name, &st, err) < 0)
        return -1;
      r = fchmodat (to, name, st.st_mode & 07777, 0);
      break;
    case S_IFLNK:
      {
        char target[PATH_MAX];
        ssize_t n = readlinkat (from, name, target, sizeof target - 1);
        if (n < 0)
          return rf_error_sys (err, "readlink `%s`", name);
        target[n] = '\0';
        r = symlinkat (target, to, name);
      }
      break;
    default:
      /* fifos, sockets and device nodes: a node of the same kind. */
      r = mknodat (to, name, st.st_mode, st.st_rdev);
      break;
    }
  if (r < 0)
    return rf_error_sys (err, "copy `%s`", name);
  /* Ownership may be out of reach in a user namespace; the contents are
     what the container needs. */
  if (fchownat (to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EPERM
      && errno != EINVAL)
    return rf_error_sys (err, "chown `%s`", name);
  {
    struct timespec times[2] = { st.st_atim, st.st_mtim };
    utimensat (to, name, times, AT_SYMLINK_NOFOLLOW);
  }
  return 0;
}

int
rf_copy_tree (int from, int to, bool with_root, rf_error_t *err)
{
  struct stat st;
  if (fstat (from, &st) < 0)
    return rf_error_sys (err, "stat the directory to copy");
  if (copy_dir (from, to, 0, err) < 0)
    return -1;
  if (!with_root)
    return 0;
  if (fchmod (to, st.st_mode & 07777) < 0)
    return rf_error_sys (err, "chmod the copy");
  if (fchown (to, st.st_uid, st.st_gid) < 0 && errno != EPERM && errno != EINVAL)
    return rf_error_sys (err, "chown the copy");
  return 0;
}
