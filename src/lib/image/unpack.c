#include "unpack.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "fsops.h"
#include "layer.h"
#include "layertree.h"
#include "text.h"

struct rf_unpacker_s
{
  int root_fd;
  bool rootless;
  bool shared; /* RF_UNPACK_SHARED */
  rf_layer_tree_t *tree;
  rf_unpack_stats_t stats;
  /* The directory of the last entry stays open: tar entries come grouped
     by directory, and reopening it for each would cost a path walk. */
  char *cached_dir;
  int cached_fd;
};

static void
drop_cache (rf_unpacker_t *u)
{
  if (u->cached_fd >= 0)
    close (u->cached_fd);
  u->cached_fd = -1;
  free (u->cached_dir);
  u->cached_dir = NULL;
}

/* The directory holding path, and the last component in *name.  The fd is
   owned by the cache. */
static int
parent_fd (rf_unpacker_t *u, const char *path, const char **name, rf_error_t *err)
{
  const char *slash = strrchr (path, '/');
  size_t len = slash ? (size_t) (slash - path) : 0;
  cleanup_free char *dir = NULL;
  int fd;

  *name = slash ? slash + 1 : path;
  if (u->cached_dir && strlen (u->cached_dir) == len && strncmp (u->cached_dir, path, len) == 0)
    return u->cached_fd;
  dir = xstrndup (path, len);
  fd = rf_open_dir_beneath (u->root_fd, dir, err);
  if (fd < 0)
    return -1;
  drop_cache (u);
  u->cached_dir = steal_pointer (&dir);
  u->cached_fd = fd;
  return fd;
}

static int
op_remove (void *ctx, const char *path, rf_node_type_t type, rf_error_t *err)
{
  rf_unpacker_t *u = ctx;
  const char *name;
  int pfd;

  /* The cached directory may be the one going away. */
  if (type == RF_NODE_DIR)
    drop_cache (u);
  pfd = parent_fd (u, path, &name, err);
  if (pfd < 0)
    return -1;
  return rf_rm_tree_at (pfd, name, err);
}

static int
op_mkdir_parent (void *ctx, const char *path, rf_error_t *err)
{
  rf_unpacker_t *u = ctx;
  const char *name;
  int pfd = parent_fd (u, path, &name, err);
  if (pfd < 0)
    return -1;
  if (mkdirat (pfd, name, 0755) < 0)
    return rf_error_sys (err, "mkdir `%s`", path);
  return 0;
}

rf_unpacker_t *
rf_unpacker_new (int root_fd, unsigned flags)
{
  rf_unpacker_t *u = xzalloc (sizeof *u);
  rf_tree_ops_t ops = { .remove = op_remove, .mkdir_parent = op_mkdir_parent, .ctx = u };
  u->root_fd = root_fd;
  u->rootless = flags & RF_UNPACK_ROOTLESS;
  u->shared = flags & RF_UNPACK_SHARED;
  u->cached_fd = -1;
  u->tree = rf_layer_tree_new (&ops);
  return u;
}

void
rf_unpacker_free (rf_unpacker_t *u)
{
  if (u == NULL)
    return;
  drop_cache (u);
  rf_layer_tree_free (u->tree);
  free (u);
}

const rf_unpack_stats_t *
rf_unpacker_stats (rf_unpacker_t *u)
{
  return &u->stats;
}

static int
xattr_refused (rf_unpacker_t *u, int e)
{
  /* Unprivileged users may not set security.* or trusted.* names, nobody
     may set user.* on a symlink, and some file systems take no extended
     attributes at all: those are counted and reported once, not fatal. */
  if (e == ENOTSUP || e == EPERM)
    {
      u->stats.xattrs++;
      return 0;
    }
  return -1;
}

/* Extended attributes, through an fd when there is one, else by the
   parent-relative /proc path (symlinks, devices, fifos). */
static int
apply_xattrs (rf_unpacker_t *u, struct archive_entry *e, int fd, int pfd, const char *name,
              const char *path, rf_error_t *err)
{
  const char *key;
  const void *value;
  size_t size;
  char proc[PATH_MAX];

  if (archive_entry_xattr_reset (e) == 0)
    return 0;
  if (fd < 0)
    snprintf (proc, sizeof proc, "/proc/self/fd/%d/%s", pfd, name);
  while (archive_entry_xattr_next (e, &key, &value, &size) == ARCHIVE_OK)
    {
      if (u->shared && strcmp (key, "security.capability") == 0)
        {
          u->stats.privileges++;
          continue;
        }
      int r = fd >= 0 ? fsetxattr (fd, key, value, size, 0) : lsetxattr (proc, key, value, size, 0);
      if (r < 0 && xattr_refused (u, errno) < 0)
        {
          cleanup_free char *k = rf_printable (key, 80);
          return rf_error_sys (err, "set xattr `%s` on `%s`", k, path);
        }
    }
  return 0;
}

static void
entry_times (struct archive_entry *e, struct timespec ts[2])
{
  ts[1].tv_sec = archive_entry_mtime_is_set (e) ? archive_entry_mtime (e) : 0;
  ts[1].tv_nsec = archive_entry_mtime_is_set (e) ? archive_entry_mtime_nsec (e) : 0;
  if (archive_entry_atime_is_set (e))
    {
      ts[0].tv_sec = archive_entry_atime (e);
      ts[0].tv_nsec = archive_entry_atime_nsec (e);
    }
  else
    ts[0] = ts[1];
}

static int
write_data (struct archive *a, int fd, const char *path, rf_unpack_stats_t *stats,
            rf_error_t *err)
{
  const void *buf;
  size_t size;
  la_int64_t offset;
  int r;

  while ((r = archive_read_data_block (a, &buf, &size, &offset)) == ARCHIVE_OK)
    {
      const char *p = buf;
      while (size > 0)
        {
          ssize_t n = pwrite (fd, p, size, offset);
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            return rf_error_sys (err, "write `%s`", path);
          p += n;
          offset += n;
          size -= n;
          stats->bytes += n;
        }
    }
  if (r != ARCHIVE_EOF)
    {
      const char *msg = archive_error_string (a);
      cleanup_free char *shown = rf_printable (msg ? msg : "read error", 200);
      return rf_error_make (err, 0, "`%s`: %s", path, shown);
    }
  return 0;
}

/* The entry's permission bits, less set-id ones in a shared rootfs. */
static mode_t
entry_perm (rf_unpacker_t *u, struct archive_entry *e)
{
  mode_t perm = archive_entry_perm (e);
  if (u->shared && (perm & (S_ISUID | S_ISGID)) && !S_ISDIR (archive_entry_filetype (e)))
    {
      u->stats.privileges++;
      perm &= ~(mode_t) (S_ISUID | S_ISGID);
    }
  return perm;
}

static int
make_file (rf_unpacker_t *u, struct archive *a, struct archive_entry *e, int pfd,
           const char *name, const char *path, rf_error_t *err)
{
  mode_t perm = entry_perm (u, e);
  struct timespec ts[2];
  cleanup_close int fd = -1;

  /* O_EXCL: the model removed whatever was there, so anything found now
     was not made by this unpack. */
  fd = openat (pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, perm & 0777);
  if (fd < 0)
    return rf_error_sys (err, "create `%s`", path);
  if (write_data (a, fd, path, &u->stats, err) < 0)
    return -1;
  if (archive_entry_size_is_set (e) && ftruncate (fd, archive_entry_size (e)) < 0)
    return rf_error_sys (err, "truncate `%s`", path);
  if (!u->rootless && fchown (fd, archive_entry_uid (e), archive_entry_gid (e)) < 0)
    return rf_error_sys (err, "chown `%s`", path);
  if (apply_xattrs (u, e, fd, pfd, name, path, err) < 0)
    return -1;
  /* After the chown, which clears set-id bits; also the umask is out of
     the way only for the rwx bits. */
  if ((perm & 07000) && fchmod (fd, perm) < 0)
    return rf_error_sys (err, "chmod `%s`", path);
  entry_times (e, ts);
  if (futimens (fd, ts) < 0)
    return rf_error_sys (err, "set the times of `%s`", path);
  return 0;
}

static int
set_meta_at (rf_unpacker_t *u, struct archive_entry *e, int pfd, const char *name,
             const char *path, bool chmod_too, rf_error_t *err)
{
  struct timespec ts[2];
  if (!u->rootless
      && fchownat (pfd, name, archive_entry_uid (e), archive_entry_gid (e), AT_SYMLINK_NOFOLLOW) < 0)
    return rf_error_sys (err, "chown `%s`", path);
  if (apply_xattrs (u, e, -1, pfd, name, path, err) < 0)
    return -1;
  /* Only for entries this unpack just made (devices, fifos), never
     symlinks: fchmodat follows a symlink. */
  if (chmod_too && fchmodat (pfd, name, entry_perm (u, e), 0) < 0)
    return rf_error_sys (err, "chmod `%s`", path);
  entry_times (e, ts);
  if (utimensat (pfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
    return rf_error_sys (err, "set the times of `%s`", path);
  return 0;
}

static int
make_dir (rf_unpacker_t *u, struct archive_entry *e, int pfd, const char *name,
          const char *path, rf_node_t *node, bool create, rf_error_t *err)
{
  struct timespec ts[2];
  cleanup_close int fd = -1;
  bool root = *path == '\0';

  /* Owner-writable while layers go in; the real mode comes at the end. */
  if (create && mkdirat (pfd, name, (archive_entry_perm (e) & 0777) | 0700) < 0)
    return rf_error_sys (err, "mkdir `%s`", path);
  if (root)
    fd = fcntl (u->root_fd, F_DUPFD_CLOEXEC, 3);
  else
    fd = openat (pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return rf_error_sys (err, "open `%s`", path);
  if (!u->rootless && fchown (fd, archive_entry_uid (e), archive_entry_gid (e)) < 0)
    return rf_error_sys (err, "chown `%s`", root ? "." : path);
  if (apply_xattrs (u, e, fd, pfd, name, path, err) < 0)
    return -1;
  entry_times (e, ts);
  node->has_meta = true;
  node->mode = archive_entry_perm (e);
  node->atime = ts[0];
  node->mtime = ts[1];
  return 0;
}

static int
make_link (rf_unpacker_t *u, const char *link, int pfd, const char *name, const char *path,
           rf_error_t *err)
{
  const char *slash = strrchr (link, '/');
  cleanup_free char *dir = xstrndup (link, slash ? (size_t) (slash - link) : 0);
  cleanup_close int tfd = rf_open_dir_beneath (u->root_fd, dir, err);
  if (tfd < 0)
    return rf_error_wrap (err, "hard link `%s`", path);
  /* Flags 0: a link to a symlink links the symlink itself. */
  if (linkat (tfd, slash ? slash + 1 : link, pfd, name, 0) < 0)
    {
      /* The target is a device node a rootless unpack skipped. */
      if (errno == ENOENT && u->rootless)
        return 0;
      return rf_error_sys (err, "hard link `%s` to `%s`", path, link);
    }
  return 0;
}

static int
make_node (rf_unpacker_t *u, struct archive_entry *e, int pfd, const char *name,
           const char *path, rf_error_t *err)
{
  mode_t type = archive_entry_filetype (e);
  if (type != AE_IFIFO && (u->rootless || u->shared))
    {
      u->stats.devices++;
      return 0;
    }
  if (mknodat (pfd, name, type | (archive_entry_perm (e) & 0777), archive_entry_rdev (e)) < 0)
    {
      if (errno == EPERM && type != AE_IFIFO)
        {
          u->stats.devices++;
          return 0;
        }
      return rf_error_sys (err, "mknod `%s`", path);
    }
  return set_meta_at (u, e, pfd, name, path, true, err);
}

static int
sink_entry (void *ctx, struct archive *a, struct archive_entry *e, const char *path,
            const char *link, rf_node_t *node, rf_tree_action_t action, rf_error_t *err)
{
  rf_unpacker_t *u = ctx;
  const char *name;
  int pfd;

  if (*path == '\0')
    return make_dir (u, e, u->root_fd, ".", path, node, false, err);
  pfd = parent_fd (u, path, &name, err);
  if (pfd < 0)
    return -1;
  u->stats.files++;
  if (node->type == RF_NODE_DIR)
    return make_dir (u, e, pfd, name, path, node, action == RF_TREE_CREATE, err);
  if (link)
    return make_link (u, link, pfd, name, path, err);
  switch (archive_entry_filetype (e))
    {
    case AE_IFREG: return make_file (u, a, e, pfd, name, path, err);
    case AE_IFLNK:
      {
        const char *target = archive_entry_symlink (e);
        if (symlinkat (target ? target : "", pfd, name) < 0)
          return rf_error_sys (err, "symlink `%s`", path);
        return set_meta_at (u, e, pfd, name, path, false, err);
      }
    default: return make_node (u, e, pfd, name, path, err);
    }
}

int
rf_unpacker_apply (rf_unpacker_t *u, int fd, const char *what, const char *diff_id,
                   rf_error_t *err)
{
  rf_layer_sink_t sink = { .entry = sink_entry, .ctx = u };
  mode_t old = umask (0);
  int r = rf_layer_apply (u->tree, fd, what, diff_id, &sink, err);
  umask (old);
  return r;
}

static int
finish_dir (void *ctx, rf_node_t *dir, rf_error_t *err)
{
  rf_unpacker_t *u = ctx;
  cleanup_close int fd = -1;
  struct timespec ts[2];

  if (!dir->has_meta)
    return 0;
  fd = rf_open_dir_beneath (u->root_fd, dir->path, err);
  if (fd < 0)
    return -1;
  if (fchmod (fd, dir->mode) < 0)
    return rf_error_sys (err, "chmod `%s`", *dir->path ? dir->path : ".");
  ts[0] = dir->atime;
  ts[1] = dir->mtime;
  if (futimens (fd, ts) < 0)
    return rf_error_sys (err, "set the times of `%s`", *dir->path ? dir->path : ".");
  return 0;
}

int
rf_unpacker_finish (rf_unpacker_t *u, rf_error_t *err)
{
  drop_cache (u);
  return rf_layer_tree_walk_dirs_post (u->tree, finish_dir, u, err);
}
