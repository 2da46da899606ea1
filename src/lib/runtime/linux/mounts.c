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
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroupfs.h"
#include "copyup.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/inroot.h"
#include "common/log.h"
#include "sync.h"
#include "common/syscalls.h"

#define PROC_FD_PATH_MAX 32

static const char *
proc_fd_path (char buf[PROC_FD_PATH_MAX], int fd)
{
  snprintf (buf, PROC_FD_PATH_MAX, "/proc/self/fd/%d", fd);
  return buf;
}

int
rf_root_open (int root_fd, const char *path, int flags, rf_error_t *err)
{
  int fd = rf_inroot_open (root_fd, path, flags, RF_INROOT_FOLLOW);
  if (fd < 0)
    return rf_error_sys (err, "open `%s` in the rootfs", path);
  return fd;
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

/* The flags the kernel locks on a mount made in a more privileged user
   namespace than the one that remounts it, and the atime modes (one
   field, not bits: neither relatime nor noatime is strictatime). */
#define LOCKABLE_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME)
#define ATIME_FLAGS (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)

/* The per-mount flags path has now. */
static unsigned long
mount_flags_of (const char *path)
{
  struct statvfs sv;
  unsigned long flags = 0;
  if (statvfs (path, &sv) < 0)
    return 0;
  if (sv.f_flag & ST_RDONLY)
    flags |= MS_RDONLY;
  if (sv.f_flag & ST_NOSUID)
    flags |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV)
    flags |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC)
    flags |= MS_NOEXEC;
  if (sv.f_flag & ST_NODIRATIME)
    flags |= MS_NODIRATIME;
  if (sv.f_flag & ST_NOATIME)
    flags |= MS_NOATIME;
  else if (sv.f_flag & ST_RELATIME)
    flags |= MS_RELATIME;
  else
    flags |= MS_STRICTATIME;
  return flags;
}

static const char *
flag_name (unsigned long flag)
{
  switch (flag)
    {
    case MS_RDONLY: return "ro";
    case MS_NOSUID: return "nosuid";
    case MS_NODEV: return "nodev";
    case MS_NOEXEC: return "noexec";
    case MS_NOATIME: return "noatime";
    case MS_NODIRATIME: return "nodiratime";
    case MS_RELATIME: return "relatime";
    default: return "strictatime";
    }
}

/* Remount a bind mount with the flags asked for, as runc does: exactly
   those first (the others cleared: "mount --bind -o"); where the kernel
   refuses because the source's flags are locked (a mount from a more
   privileged user namespace), again with the locked ones kept
   ("mount --bind -o remount"), unless the config asked to clear one of
   them, or for another atime mode than the source's: then the mount
   cannot be what was asked, and that is an error, not a quietly
   different mount. */
static int
remount_bind (const char *path, unsigned long flags, unsigned long clear, const char *what, rf_error_t *err)
{
  unsigned long src, refused;
  flags |= MS_REMOUNT | MS_BIND;
  if (mount (NULL, path, NULL, flags, NULL) == 0)
    return 0;
  if (errno != EPERM)
    return rf_error_sys (err, "remount `%s`", what);
  src = mount_flags_of (path);
  refused = src & clear & LOCKABLE_FLAGS;
  if (refused)
    return rf_error_make (err, EPERM, "remount `%s`: its source is %s, which this user namespace may not undo",
                          what, flag_name (refused & -refused));
  if ((flags & ATIME_FLAGS) && (flags & ATIME_FLAGS) != (src & ATIME_FLAGS))
    return rf_error_make (err, EPERM, "remount `%s`: its source is %s, which this user namespace may not change",
                          what, flag_name (src & ATIME_FLAGS));
  if (mount (NULL, path, NULL, flags | (src & LOCKABLE_FLAGS), NULL) == 0)
    return 0;
  return rf_error_sys (err, "remount `%s`", what);
}

bool
rf_mounts_all_slaves_p (const rf_spec_t *spec)
{
  return spec->rootfs_propagation == 0 || spec->rootfs_propagation == (MS_SLAVE | MS_REC);
}

int
rf_mounts_prepare_rootfs (const rf_spec_t *spec, const char *rootfs, unsigned long flags,
                          bool slaved, rf_error_t *err)
{
  unsigned long prop = spec->rootfs_propagation ? spec->rootfs_propagation : MS_SLAVE | MS_REC;

  /* Nothing the container mounts may propagate back to the host: by default
     every mount becomes a slave of the host's.  linux.rootfsPropagation
     replaces that, recursive only when it says so (rslave, rshared...), as
     with runc: a recursive "shared" would make the container's own /proc
     and /dev peers of the mounts under any bind of / it makes, and a lazy
     unmount there would take them away.  Where the kernel has made them
     slaves already (slaved), rslave would walk every mount of the
     namespace under its global lock for nothing. */
  if (!(slaved && prop == (MS_SLAVE | MS_REC)) && mount (NULL, "/", NULL, prop, NULL) < 0)
    return rf_error_sys (err, "set the propagation of `/`");
  if (prop != (MS_SLAVE | MS_REC))
    {
      /* pivot_root refuses a shared parent mount, and the rootfs' own
         mount may still be one (with "shared", or a mode that is not
         recursive on a host that shares its mounts): make just the
         rootfs' own mount private by binding it first. */
      if (mount (rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
        return rf_error_sys (err, "bind the rootfs `%s`", rootfs);
      if (mount (NULL, rootfs, NULL, MS_PRIVATE, NULL) < 0)
        return rf_error_sys (err, "make the rootfs `%s` private", rootfs);
    }
  if (mount (rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return rf_error_sys (err, "bind the rootfs `%s`", rootfs);
  if (flags && remount_bind (rootfs, flags, 0, "the rootfs", err) < 0)
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

/* Whether path's last component, inside the root, is something other than
   a directory (a symlink above all). */
static bool
not_a_directory_p (int root_fd, const char *path)
{
  cleanup_free char *copy = xstrdup (path);
  cleanup_free char *parent = NULL;
  cleanup_free char *rel = NULL;
  char *slash, *base;
  struct stat st;

  while (strlen (copy) > 1 && copy[strlen (copy) - 1] == '/')
    copy[strlen (copy) - 1] = '\0';
  slash = strrchr (copy, '/');
  base = slash ? slash + 1 : copy;
  if (slash)
    *slash = '\0';
  parent = rf_inroot_resolve (root_fd, slash ? copy : ".", NULL);
  if (parent == NULL || *base == '\0')
    return false;
  rel = *parent ? xasprintf ("%s/%s", parent, base) : xstrdup (base);
  return fstatat (root_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR (st.st_mode);
}

/* Whether a mount's data has a mode= option. */
static bool
has_mode_option (const char *data)
{
  for (const char *p = data; p && *p; p = strchr (p, ','), p = p ? p + 1 : NULL)
    if (strncmp (p, "mode=", 5) == 0)
      return true;
  return false;
}

/* Whether m is the mount of /dev itself. */
static bool
dev_mount_p (const rf_mount_t *m)
{
  const char *d = m->destination;
  size_t len = strlen (d);
  while (len > 1 && d[len - 1] == '/')
    len--;
  return !m->bind && len == 4 && strncmp (d, "/dev", 4) == 0;
}

static int
mount_one (const rf_spec_t *spec, const char *bundle, int root_fd, bool userns,
           const rf_mount_t *m, int source_fd, rf_error_t *err)
{
  cleanup_free char *source = NULL;
  cleanup_close int target_fd = -1;
  cleanup_close int top_fd = -1;
  cleanup_close int copy_from = -1;
  cleanup_free char *tmpfs_data = NULL;
  char target[PROC_FD_PATH_MAX], top[PROC_FD_PATH_MAX];
  bool is_dir = true, copyup_existed = false, remount;

  if (m->bind)
    {
      struct stat st;
      source = m->source[0] == '/' ? xstrdup (m->source)
                                   : xasprintf ("%s/%s", bundle, m->source);
      if (source_fd >= 0)
        {
          /* Opened by runf as root of the host (rf_mount_sources_send):
             the source is bound through the fd. */
          if (fstat (source_fd, &st) < 0)
            return rf_error_sys (err, "mount `%s`: source `%s`", m->destination, source);
          free (source);
          source = xasprintf ("/proc/self/fd/%d", source_fd);
        }
      else if (stat (source, &st) < 0)
        return rf_error_sys (err, "mount `%s`: source `%s`", m->destination, source);
      is_dir = S_ISDIR (st.st_mode);
    }
  /* proc and sysfs through a symlink the image planted would land where
     the image chose, and runf's later writes to /proc (oom_score_adj,
     sysctls, LSM labels) with them (CVE-2019-19921): refused, as runc
     does. */
  if (!m->bind && (strcmp (m->type, "proc") == 0 || strcmp (m->type, "sysfs") == 0)
      && not_a_directory_p (root_fd, m->destination))
    return rf_error_make (err, 0, "mount `%s` on `%s`: must be mounted on an ordinary directory, which it is not",
                          m->type, m->destination);
  if (m->copyup)
    {
      int fd = rf_root_open (root_fd, m->destination, O_PATH, NULL);
      copyup_existed = fd >= 0;
      if (fd >= 0)
        close (fd);
    }
  /* A tmpfs on a directory the image has takes that directory's mode
     unless the config gives one (runc's rule): a /tmp that is 1777 in the
     image stays so with a tmpfs on it. */
  if (!m->bind && strcmp (m->type, "tmpfs") == 0 && !has_mode_option (m->data))
    {
      cleanup_close int fd = rf_root_open (root_fd, m->destination, O_PATH, NULL);
      struct stat st;
      if (fd >= 0 && fstat (fd, &st) == 0 && S_ISDIR (st.st_mode))
        tmpfs_data = m->data ? xasprintf ("%s,mode=%o", m->data, (unsigned) (st.st_mode & 07777))
                             : xasprintf ("mode=%o", (unsigned) (st.st_mode & 07777));
    }
  target_fd = rf_inroot_mkpath (root_fd, m->destination, is_dir, err);
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
      const char *data = tmpfs_data ? tmpfs_data : m->data;
      bool copyup = m->copyup && strcmp (m->type, "tmpfs") == 0;
      /* A read-only /dev is filled first (devices, /dev/pts, the
         console), and made read-only at the end (rf_mounts_finish). */
      if (dev_mount_p (m))
        flags &= ~MS_RDONLY;
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
        data = labeled = data ? xasprintf ("%s,context=\"%s\"", data, spec->mount_label)
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

  /* A bind mount keeps its source's flags unless the config names some,
     set or cleared (runc's rule; mount(8) ignores cleared ones alone). */
  remount = m->bind && ((m->flags & ~(MS_REC | MS_REMOUNT)) || m->clear_flags);
  if (copy_from < 0 && !remount && !m->propagation && !m->attr_set && !m->attr_clr)
    return 0;
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
          && mount (NULL, top, NULL, MS_REMOUNT | (m->flags & ~MS_REMOUNT), tmpfs_data ? tmpfs_data : m->data) < 0)
        return rf_error_sys (err, "remount `%s` read-only", m->destination);
    }
  if (remount)
    if (remount_bind (top, m->flags & ~(MS_REC | MS_REMOUNT), m->clear_flags, m->destination, err) < 0)
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
                 const int *source_fds, rf_error_t *err)
{
  for (size_t i = 0; i < spec->n_mounts; i++)
    if (mount_one (spec, bundle, root_fd, userns, &spec->mounts[i], source_fds ? source_fds[i] : -1, err) < 0)
      return -1;
  return 0;
}

/* A mountinfo path with the kernel's octal escapes (\040 for a space)
   undone, in place. */
static void
unescape_mountinfo (char *s)
{
  char *out = s;
  for (; *s; s++)
    {
      if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0'
          && s[3] <= '7')
        {
          *out++ = (char) ((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
          s += 3;
        }
      else
        *out++ = *s;
    }
  *out = '\0';
}

/* --no-pivot keeps the host's root in the mount namespace, under the
   chroot, and with it its whole proc and sysfs mounts.  The kernel lets a
   process that may mount a fresh proc in a user namespace of its own do
   so whenever one whole proc is in the mount namespace, and that fresh
   proc shows what the container's masked and read-only paths hide (runc
   does the same to close it): those mounts are detached first, or covered
   with a tmpfs where they cannot be. */
static int
hide_host_proc_and_sys (const char *rootfs, rf_error_t *err)
{
  cleanup_free char *text = NULL;
  char *save = NULL;
  size_t rootfs_len = strlen (rootfs);

  if (rf_read_file_at (AT_FDCWD, "/proc/self/mountinfo", 0, &text, NULL, err) < 0)
    return rf_error_wrap (err, "--no-pivot: the host's mounts");
  for (char *line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *f[5], *dash, *fstype, *p = line;
      for (int i = 0; i < 5; i++)
        {
          f[i] = strsep (&p, " ");
          if (f[i] == NULL)
            break;
        }
      dash = p ? strstr (p, " - ") : NULL;
      if (f[4] == NULL || dash == NULL)
        continue;
      fstype = dash + 3;
      fstype[strcspn (fstype, " ")] = '\0';
      if (strcmp (f[3], "/") != 0 || (strcmp (fstype, "proc") != 0 && strcmp (fstype, "sysfs") != 0))
        continue;
      unescape_mountinfo (f[4]);
      if (strncmp (f[4], rootfs, rootfs_len) == 0 && (f[4][rootfs_len] == '/' || f[4][rootfs_len] == '\0'))
        continue;
      /* The unmount must not reach the host. */
      if (mount (NULL, f[4], NULL, MS_SLAVE | MS_REC, NULL) < 0)
        {
          if (errno == ENOENT)
            continue; /* under one detached already */
          return rf_error_sys (err, "--no-pivot: make the host's `%s` a slave", f[4]);
        }
      if (umount2 (f[4], MNT_DETACH) == 0)
        continue;
      if ((errno != EINVAL && errno != EPERM) || mount ("tmpfs", f[4], "tmpfs", 0, NULL) < 0)
        return rf_error_sys (err, "--no-pivot: hide the host's %s at `%s`", fstype, f[4]);
    }
  return 0;
}

int
rf_mounts_pivot (const char *rootfs, bool no_pivot, bool old_root_slaves, rf_error_t *err)
{
  cleanup_close int old_root = -1;
  cleanup_close int new_root = -1;

  if (no_pivot)
    {
      if (hide_host_proc_and_sys (rootfs, err) < 0)
        return -1;
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
  if (!old_root_slaves && mount (NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
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
  return remount_bind (path, MS_RDONLY | keep, 0, path, err);
}

int
rf_mounts_finish (const rf_spec_t *spec, rf_error_t *err)
{
  for (size_t i = 0; i < spec->n_mounts; i++)
    {
      const rf_mount_t *m = &spec->mounts[i];
      if (dev_mount_p (m) && (m->flags & MS_RDONLY)
          && mount (NULL, "/dev", NULL, MS_REMOUNT | (m->flags & ~MS_REMOUNT), m->data) < 0)
        return rf_error_sys (err, "remount `/dev` read-only");
    }
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
  return remount_bind ("/", MS_RDONLY | flags, 0, "/ (root.readonly)", err);
}

/* Whether anyone may search every directory above path: then root of any
   user namespace reaches it by its path, and no fd is needed (the common
   case, kept free of the fork below). */
static bool
searchable_by_all_p (const char *path)
{
  cleanup_free char *copy = xstrdup (path);
  for (char *slash = strchr (copy + 1, '/'); slash; slash = strchr (slash + 1, '/'))
    {
      struct stat st;
      *slash = '\0';
      if (stat (copy, &st) < 0 || !S_ISDIR (st.st_mode) || !(st.st_mode & S_IXOTH))
        return false;
      *slash = '/';
    }
  return true;
}

int
rf_mount_sources_send (pid_t pid, const rf_spec_t *spec, const char *bundle, int sync_fd,
                       rf_error_t *err)
{
  cleanup_close int ns = -1;
  int sv[2], status, ret = 0;
  char path[64];
  pid_t child;
  bool any = false;

  for (size_t i = 0; i < spec->n_mounts && !any; i++)
    if (spec->mounts[i].bind)
      {
        const rf_mount_t *m = &spec->mounts[i];
        cleanup_free char *source = m->source[0] == '/' ? xstrdup (m->source)
                                                        : xasprintf ("%s/%s", bundle, m->source);
        any = !searchable_by_all_p (source);
      }
  if (!any)
    return 0;
  snprintf (path, sizeof path, "/proc/%d/ns/mnt", (int) pid);
  ns = open (path, O_RDONLY | O_CLOEXEC);
  if (ns < 0)
    return rf_error_sys (err, "open `%s`", path);
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return rf_error_sys (err, "socketpair");
  child = fork ();
  if (child < 0)
    {
      close (sv[0]);
      close (sv[1]);
      return rf_error_sys (err, "fork");
    }
  if (child == 0)
    {
      /* A child of its own: setns moves only it into init's namespace. */
      close (sv[0]);
      if (setns (ns, CLONE_NEWNS) < 0)
        _exit (1);
      for (size_t i = 0; i < spec->n_mounts; i++)
        {
          const rf_mount_t *m = &spec->mounts[i];
          cleanup_free char *source = NULL;
          int fd;
          if (!m->bind)
            continue;
          source = m->source[0] == '/' ? xstrdup (m->source) : xasprintf ("%s/%s", bundle, m->source);
          /* One that cannot be opened here goes by its path, and init
             says what is wrong with it. */
          fd = open (source, O_PATH | O_CLOEXEC);
          if (fd >= 0 && rf_sync_send (sv[1], RF_SYNC_MOUNT_SOURCE, (int) i, fd) < 0)
            _exit (1);
          if (fd >= 0)
            close (fd);
        }
      _exit (0);
    }
  close (sv[1]);
  for (;;)
    {
      rf_sync_msg_t msg;
      int fd = -1;
      int r = rf_sync_recv (sv[0], &msg, &fd);
      if (r <= 0)
        break;
      if (msg.type == RF_SYNC_MOUNT_SOURCE && fd >= 0
          && rf_sync_send (sync_fd, RF_SYNC_MOUNT_SOURCE, msg.pid, fd) < 0)
        ret = rf_error_sys (err, "send a mount source to the container's init");
      if (fd >= 0)
        close (fd);
      if (ret < 0)
        break;
    }
  close (sv[0]);
  while (waitpid (child, &status, 0) < 0 && errno == EINTR)
    ;
  if (ret == 0 && !(WIFEXITED (status) && WEXITSTATUS (status) == 0))
    ret = rf_error_make (err, 0, "open the bind mounts' sources in the container's mount namespace");
  return ret;
}
