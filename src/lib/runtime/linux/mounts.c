#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cgroupfs.h"
#include "copyup.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "syscalls.h"

#define PROC_FD_PATH_MAX 32

static bool force_fallback;

void
rf_root_force_fallback (bool on)
{
  force_fallback = on;
}

static const char *
proc_fd_path (char buf[PROC_FD_PATH_MAX], int fd)
{
  snprintf (buf, PROC_FD_PATH_MAX, "/proc/self/fd/%d", fd);
  return buf;
}

/* Join a component list, dropping "." and clamping ".." at the root. */
char *
rf_root_resolve (int root_fd, const char *path, rf_error_t *err)
{
  cleanup_free char *resolved = xstrdup (""); /* relative to the root, no leading "/" */
  cleanup_free char *todo = xstrdup (path);
  int links = 0;

  for (;;)
    {
      char *comp, *rest, *candidate;
      struct stat st;

      comp = todo;
      while (*comp == '/')
        comp++;
      if (*comp == '\0')
        break;
      rest = strchr (comp, '/');
      if (rest)
        *rest++ = '\0';
      else
        rest = comp + strlen (comp);

      if (strcmp (comp, ".") == 0)
        {
          memmove (todo, rest, strlen (rest) + 1);
          continue;
        }
      if (strcmp (comp, "..") == 0)
        {
          char *slash = strrchr (resolved, '/');
          if (slash)
            *slash = '\0';
          else
            resolved[0] = '\0';
          memmove (todo, rest, strlen (rest) + 1);
          continue;
        }
      candidate = *resolved ? xasprintf ("%s/%s", resolved, comp) : xstrdup (comp);
      if (fstatat (root_fd, candidate, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK (st.st_mode))
        {
          char target[PATH_MAX];
          ssize_t n = readlinkat (root_fd, candidate, target, sizeof target - 1);
          char *next;
          free (candidate);
          if (n < 0)
            return rf_error_sys (err, "readlink `%s`", path), NULL;
          target[n] = '\0';
          if (++links > 40)
            return rf_error_make (err, ELOOP, "resolve `%s` in the rootfs", path), NULL;
          /* An absolute target restarts at the container's root, never the
             host's; a relative one continues from the link's directory. */
          next = xasprintf ("%s/%s", target, rest);
          if (target[0] == '/')
            resolved[0] = '\0';
          free (todo);
          todo = next;
          continue;
        }
      free (resolved);
      resolved = candidate;
      memmove (todo, rest, strlen (rest) + 1);
    }
  return steal_pointer (&resolved);
}

int
rf_root_open (int root_fd, const char *path, int flags, rf_error_t *err)
{
  int fd;
  if (!force_fallback)
    {
      fd = rf_openat2 (root_fd, path, flags | O_CLOEXEC, 0,
                       RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
      if (fd >= 0)
        return fd;
      if (errno != ENOSYS)
        return rf_error_sys (err, "open `%s` in the rootfs", path);
    }
  {
    cleanup_free char *rel = rf_root_resolve (root_fd, path, err);
    if (rel == NULL)
      return -1;
    fd = openat (root_fd, *rel ? rel : ".", flags | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
      return rf_error_sys (err, "open `%s` in the rootfs", path);
    return fd;
  }
}

int
rf_root_mkpath (int root_fd, const char *path, bool dir, rf_error_t *err)
{
  cleanup_free char *rel = NULL;
  cleanup_close int parent = -1;
  char *p, *save = NULL, *comp, *next;
  int fd;

  fd = rf_root_open (root_fd, path, O_PATH, NULL);
  if (fd >= 0)
    return fd;

  /* Resolve the symlinks that exist inside the root, then make what is
     missing one component at a time, each relative to its parent's fd and
     without following links: a link planted meanwhile makes this fail,
     never escape. */
  rel = rf_root_resolve (root_fd, path, err);
  if (rel == NULL)
    return -1;
  parent = fcntl (root_fd, F_DUPFD_CLOEXEC, 3);
  if (parent < 0)
    return rf_error_sys (err, "dup");
  p = rel;
  for (comp = strtok_r (p, "/", &save); comp; comp = next)
    {
      bool last;
      int child;

      next = strtok_r (NULL, "/", &save);
      last = next == NULL;
      if (last && !dir)
        {
          child = openat (parent, comp, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
          if (child < 0)
            return rf_error_sys (err, "create `%s` in the rootfs", path);
          close (child);
          child = openat (parent, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        }
      else
        {
          if (mkdirat (parent, comp, 0755) < 0 && errno != EEXIST)
            return rf_error_sys (err, "mkdir `%s` in the rootfs", path);
          child = openat (parent, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
      if (child < 0)
        return rf_error_sys (err, "open `%s` in the rootfs", path);
      close (parent);
      parent = child;
    }
  return steal_fd (&parent);
}

const rf_mount_t *
rf_spec_mount_at (const rf_spec_t *spec, const char *dest)
{
  const rf_mount_t *found = NULL;
  for (size_t i = 0; i < spec->n_mounts; i++)
    {
      const char *d = spec->mounts[i].destination;
      size_t len = strlen (d);
      while (len > 1 && d[len - 1] == '/')
        len--;
      if (strncmp (d, dest, len) == 0 && dest[len] == '\0')
        found = &spec->mounts[i];
    }
  return found;
}

/* Flags the kernel locks on a mount made in a less privileged user
   namespace: a remount must repeat them or it fails with EPERM. */
static unsigned long
locked_flags (const char *path)
{
  struct statvfs sv;
  unsigned long flags = 0;
  if (statvfs (path, &sv) < 0)
    return 0;
  if (sv.f_flag & ST_NOSUID)
    flags |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV)
    flags |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC)
    flags |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME)
    flags |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME)
    flags |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME)
    flags |= MS_RELATIME;
  return flags;
}

static int
remount_bind (const char *path, unsigned long flags, const char *what, rf_error_t *err)
{
  flags |= MS_REMOUNT | MS_BIND;
  if (mount (NULL, path, NULL, flags, NULL) == 0)
    return 0;
  if (errno == EPERM)
    {
      unsigned long locked = locked_flags (path);
      /* Keep the atime mode the mount already has unless one is asked for. */
      if (flags & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME))
        locked &= ~(MS_NOATIME | MS_RELATIME);
      if (mount (NULL, path, NULL, flags | locked, NULL) == 0)
        return 0;
    }
  return rf_error_sys (err, "remount `%s`", what);
}

int
rf_mounts_prepare_rootfs (const rf_spec_t *spec, const char *rootfs, unsigned long flags,
                          rf_error_t *err)
{
  unsigned long prop = spec->rootfs_propagation ? spec->rootfs_propagation : MS_SLAVE | MS_REC;

  /* Nothing the container mounts may propagate back to the host: by default
     every mount becomes a slave of the host's. */
  if (mount (NULL, "/", NULL, prop | MS_REC, NULL) < 0)
    return rf_error_sys (err, "set the propagation of `/`");
  if (prop & MS_SHARED)
    {
      /* pivot_root refuses a shared parent mount; make just the rootfs'
         own mount private by binding it first. */
      if (mount (rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
        return rf_error_sys (err, "bind the rootfs `%s`", rootfs);
      if (mount (NULL, rootfs, NULL, MS_PRIVATE, NULL) < 0)
        return rf_error_sys (err, "make the rootfs `%s` private", rootfs);
    }
  if (mount (rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return rf_error_sys (err, "bind the rootfs `%s`", rootfs);
  if (flags && remount_bind (rootfs, flags, "the rootfs", err) < 0)
    return -1;
  return 0;
}

static int
bind_fallback (const char *source, const char *target, const rf_mount_t *m, rf_error_t *err)
{
  rf_debug ("mount %s on %s: not permitted here, binding the host's instead",
            m->type, m->destination);
  if (mount (source, target, NULL, MS_BIND | MS_REC, NULL) < 0)
    return rf_error_sys (err, "bind `%s` on `%s`", source, m->destination);
  return 0;
}

static int
mount_one (const rf_spec_t *spec, const char *bundle, int root_fd, bool userns,
           const rf_mount_t *m, rf_error_t *err)
{
  cleanup_free char *source = NULL;
  cleanup_close int target_fd = -1;
  cleanup_close int top_fd = -1;
  cleanup_close int copy_from = -1;
  char target[PROC_FD_PATH_MAX], top[PROC_FD_PATH_MAX];
  bool is_dir = true, copyup_existed = false;

  if (m->bind)
    {
      struct stat st;
      source = m->source[0] == '/' ? xstrdup (m->source)
                                   : xasprintf ("%s/%s", bundle, m->source);
      if (stat (source, &st) < 0)
        return rf_error_sys (err, "mount `%s`: source `%s`", m->destination, source);
      is_dir = S_ISDIR (st.st_mode);
    }
  if (m->copyup)
    {
      int fd = rf_root_open (root_fd, m->destination, O_PATH, NULL);
      copyup_existed = fd >= 0;
      if (fd >= 0)
        close (fd);
    }
  target_fd = rf_root_mkpath (root_fd, m->destination, is_dir, err);
  if (target_fd < 0)
    return rf_error_wrap (err, "mount `%s`", m->destination);
  proc_fd_path (target, target_fd);

  if (m->bind)
    {
      if (mount (source, target, NULL, MS_BIND | (m->recursive ? MS_REC : 0), NULL) < 0)
        return rf_error_sys (err, "bind `%s` on `%s`", source, m->destination);
    }
  else if (strcmp (m->type, "cgroup") == 0 || strcmp (m->type, "cgroup2") == 0)
    {
      if (rf_cgroupfs_mount (spec, root_fd, m, userns, err) < 0)
        return rf_error_wrap (err, "mount `%s` on `%s`", m->type, m->destination);
    }
  else
    {
      unsigned long flags = m->flags & ~MS_REMOUNT;
      cleanup_free char *labeled = NULL;
      const char *data = m->data;
      bool copyup = m->copyup && strcmp (m->type, "tmpfs") == 0;
      if (copyup)
        {
          /* What the tmpfs will cover, read through an fd taken first;
             a read-only tmpfs is made read-only once filled. */
          copy_from = openat (target_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
          if (copy_from < 0)
            return rf_error_sys (err, "tmpcopyup: open `%s`", m->destination);
          flags &= ~MS_RDONLY;
        }
      /* linux.mountLabel: the SELinux context of what the container
         mounts fresh (the file systems that take a context= option). */
      if (spec->mount_label
          && (strcmp (m->type, "tmpfs") == 0 || strcmp (m->type, "devpts") == 0
              || strcmp (m->type, "mqueue") == 0))
        data = labeled = m->data ? xasprintf ("%s,context=\"%s\"", m->data, spec->mount_label)
                                 : xasprintf ("context=\"%s\"", spec->mount_label);
      if (mount (m->source, target, m->type, flags, data) < 0)
        {
          int saved = errno;
          /* A rootless container may not mount a fresh proc, sysfs or
             mqueue where it does not own the matching namespace; it gets
             the host's, as crun does. */
          const char *host = strcmp (m->type, "sysfs") == 0 ? "/sys"
                             : strcmp (m->type, "proc") == 0 ? "/proc"
                             : strcmp (m->type, "mqueue") == 0 ? "/dev/mqueue"
                                                               : NULL;
          if ((saved == EPERM || saved == EACCES) && host && userns)
            {
              if (bind_fallback (host, target, m, err) < 0)
                return -1;
              flags |= MS_BIND; /* remounted below like a bind */
            }
          else
            {
              errno = saved;
              return rf_error_sys (err, "mount `%s` on `%s`", m->type, m->destination);
            }
        }
    }

  /* The new mount is on top of target_fd's dentry; reopen to reach it. */
  top_fd = rf_root_open (root_fd, m->destination, O_PATH, err);
  if (top_fd < 0)
    return -1;
  proc_fd_path (top, top_fd);

  if (copy_from >= 0)
    {
      cleanup_close int copy_to = rf_root_open (root_fd, m->destination, O_RDONLY | O_DIRECTORY, err);
      if (copy_to < 0 || rf_copy_tree (copy_from, copy_to, copyup_existed, err) < 0)
        return rf_error_wrap (err, "tmpcopyup `%s`", m->destination);
      if ((m->flags & MS_RDONLY)
          && mount (NULL, top, NULL, MS_REMOUNT | (m->flags & ~MS_REMOUNT), m->data) < 0)
        return rf_error_sys (err, "remount `%s` read-only", m->destination);
    }
  if (m->bind && (m->flags & ~(MS_REC | MS_REMOUNT)))
    if (remount_bind (top, m->flags & ~(MS_REC | MS_REMOUNT), m->destination, err) < 0)
      return -1;
  if (m->propagation && mount (NULL, top, NULL, m->propagation, NULL) < 0)
    return rf_error_sys (err, "set the propagation of `%s`", m->destination);
  if ((m->attr_set || m->attr_clr)
      && rf_mount_setattr (top_fd, "", AT_EMPTY_PATH | AT_RECURSIVE, m->attr_set, m->attr_clr) < 0)
    return rf_error_sys (err, "set recursive mount options on `%s`", m->destination);
  return 0;
}

int
rf_mounts_apply (const rf_spec_t *spec, const char *bundle, int root_fd, bool userns,
                 rf_error_t *err)
{
  for (size_t i = 0; i < spec->n_mounts; i++)
    if (mount_one (spec, bundle, root_fd, userns, &spec->mounts[i], err) < 0)
      return -1;
  return 0;
}

int
rf_mounts_pivot (const char *rootfs, bool no_pivot, rf_error_t *err)
{
  cleanup_close int old_root = -1;
  cleanup_close int new_root = -1;

  if (no_pivot)
    {
      if (chdir (rootfs) < 0)
        return rf_error_sys (err, "chdir `%s`", rootfs);
      if (mount (rootfs, "/", NULL, MS_MOVE, NULL) < 0)
        return rf_error_sys (err, "move the rootfs to `/`");
      if (chroot (".") < 0)
        return rf_error_sys (err, "chroot");
      if (chdir ("/") < 0)
        return rf_error_sys (err, "chdir `/`");
      return 0;
    }

  old_root = open ("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (old_root < 0)
    return rf_error_sys (err, "open `/`");
  new_root = open (rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (new_root < 0)
    return rf_error_sys (err, "open `%s`", rootfs);
  if (fchdir (new_root) < 0)
    return rf_error_sys (err, "chdir `%s`", rootfs);
  /* pivot_root(".", ".") stacks the old root on top of the new one, so no
     directory for it is needed inside the rootfs. */
  if (rf_pivot_root (".", ".") < 0)
    return rf_error_sys (err, "pivot_root to `%s` (try --no-pivot on a ramfs)", rootfs);
  if (fchdir (old_root) < 0)
    return rf_error_sys (err, "chdir to the old root");
  /* Detaching the old root must not propagate an unmount to the host. */
  if (mount (NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return rf_error_sys (err, "make the old root a slave");
  if (umount2 (".", MNT_DETACH) < 0)
    return rf_error_sys (err, "detach the old root");
  if (chdir ("/") < 0)
    return rf_error_sys (err, "chdir `/`");
  return 0;
}

int
rf_mounts_sysctl (const rf_spec_t *spec, rf_error_t *err)
{
  for (size_t i = 0; spec->sysctl && spec->sysctl[i]; i += 2)
    {
      const char *key = spec->sysctl[i], *value = spec->sysctl[i + 1];
      cleanup_free char *path = NULL;

      /* /proc/sys/kernel/{host,domain}name belong to the host's root even in
         a user namespace; the system calls only need the uts namespace. */
      if (strcmp (key, "kernel.hostname") == 0)
        {
          if (sethostname (value, strlen (value)) < 0)
            return rf_error_sys (err, "linux.sysctl `%s`", key);
          continue;
        }
      if (strcmp (key, "kernel.domainname") == 0)
        {
          if (setdomainname (value, strlen (value)) < 0)
            return rf_error_sys (err, "linux.sysctl `%s`", key);
          continue;
        }
      path = xasprintf ("/proc/sys/%s", key);
      for (char *p = path + 10; *p; p++)
        if (*p == '.')
          *p = '/';
      if (rf_write_file_at (AT_FDCWD, path, value, strlen (value), err) < 0)
        return rf_error_wrap (err, "linux.sysctl `%s`", key);
    }
  return 0;
}

static int
mask_path (const char *path, rf_error_t *err)
{
  struct stat st;
  if (stat (path, &st) < 0)
    return errno == ENOENT || errno == ENOTDIR ? 0 : rf_error_sys (err, "maskedPaths `%s`", path);
  if (S_ISDIR (st.st_mode))
    {
      if (mount ("tmpfs", path, "tmpfs", MS_RDONLY, NULL) < 0)
        return rf_error_sys (err, "maskedPaths: mount a tmpfs on `%s`", path);
    }
  else if (mount ("/dev/null", path, NULL, MS_BIND, NULL) < 0)
    return rf_error_sys (err, "maskedPaths: bind /dev/null on `%s`", path);
  return 0;
}

static int
readonly_path (const char *path, rf_error_t *err)
{
  struct statvfs sv;
  unsigned long keep = 0;
  if (mount (path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
    return errno == ENOENT || errno == ENOTDIR ? 0 : rf_error_sys (err, "readonlyPaths `%s`", path);
  /* A bind remount sets every flag anew: keep the ones of the mount it
     came from (proc's nosuid, nodev, noexec). */
  if (statvfs (path, &sv) == 0)
    keep = (sv.f_flag & ST_NOSUID ? MS_NOSUID : 0) | (sv.f_flag & ST_NODEV ? MS_NODEV : 0)
           | (sv.f_flag & ST_NOEXEC ? MS_NOEXEC : 0);
  return remount_bind (path, MS_RDONLY | keep, path, err);
}

int
rf_mounts_finish (const rf_spec_t *spec, rf_error_t *err)
{
  for (size_t i = 0; spec->masked_paths && spec->masked_paths[i]; i++)
    if (mask_path (spec->masked_paths[i], err) < 0)
      return -1;
  for (size_t i = 0; spec->readonly_paths && spec->readonly_paths[i]; i++)
    if (readonly_path (spec->readonly_paths[i], err) < 0)
      return -1;
  return 0;
}

int
rf_mounts_readonly_root (const rf_spec_t *spec, unsigned long flags, rf_error_t *err)
{
  if (!spec->root_readonly)
    return 0;
  /* A bind remount sets every flag anew: the rootfs' own go with it. */
  return remount_bind ("/", MS_RDONLY | flags, "/ (root.readonly)", err);
}
