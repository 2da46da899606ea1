#include "cgroupfs.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "mounts.h"
#include "runtime/cgroup.h"

/* Mount the hierarchy on `name` below dir_fd.  Mounting through
   /proc/self/fd/N lands on top of N's directory, so anything done to the new
   mount afterwards goes through a fresh fd. */
static int
mount_or_bind (const char *fstype, const char *data, const char *host_dir,
               int dir_fd, const char *name, unsigned long flags, bool own_cgroupns,
               rf_error_t *err)
{
  cleanup_close int fd = openat (dir_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  char path[32];

  if (fd < 0)
    return rf_error_sys (err, "open `%s`", name);
  snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
  if (own_cgroupns)
    {
      if (mount (fstype, path, fstype, flags, data) == 0)
        return 0;
      if (errno != EPERM && errno != EACCES && errno != EBUSY)
        return rf_error_sys (err, "mount %s (%s)", fstype, data ? data : "");
    }
  /* Without a cgroup namespace of its own, the container sees the host's
     hierarchy only down from its own cgroup, bound read-only. */
  if (mount (host_dir, path, NULL, MS_BIND | MS_REC, NULL) < 0)
    return rf_error_sys (err, "bind `%s`", host_dir);
  close (fd);
  fd = openat (dir_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return rf_error_sys (err, "open `%s`", name);
  snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
  flags &= MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  if (mount (NULL, path, NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0)
    return rf_error_sys (err, "remount `%s`", host_dir);
  return 0;
}

int
rf_cgroupfs_mount (const rf_spec_t *spec, int root_fd, const rf_mount_t *m,
                   bool userns, rf_error_t *err)
{
  bool own_ns = rf_spec_namespace (spec, CLONE_NEWCGROUP) != NULL;
  unsigned long flags = (m->flags & ~MS_REMOUNT) | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  cleanup_close int dest_fd = -1;
  rf_hierarchy_t *h;
  char target[32];
  size_t n;
  int ret = 0;

  dest_fd = rf_root_open (root_fd, m->destination, O_PATH | O_DIRECTORY, err);
  if (dest_fd < 0)
    return -1;
  snprintf (target, sizeof target, "/proc/self/fd/%d", dest_fd);

  if (rf_cgroup_unified_p ())
    {
      cleanup_free char *self = rf_cgroup_own_path ("");
      cleanup_free char *host = xasprintf (RF_CGROUP_ROOT "%s", self);
      cleanup_close int parent = -1;
      cleanup_free char *dest = xstrdup (m->destination);
      char *slash = strrchr (dest, '/');
      *slash = '\0';
      parent = rf_root_open (root_fd, *dest ? dest : "/", O_PATH | O_DIRECTORY, err);
      if (parent < 0)
        return -1;
      return mount_or_bind ("cgroup2", NULL, host, parent, slash + 1, flags, own_ns, err);
    }

  if (mount ("tmpfs", target, "tmpfs", flags & ~MS_RDONLY, "mode=755") < 0)
    return rf_error_sys (err, "mount a tmpfs");
  close (dest_fd);
  dest_fd = rf_root_open (root_fd, m->destination, O_PATH | O_DIRECTORY, err);
  if (dest_fd < 0)
    return -1;

  h = rf_cgroup_hierarchies (&n);
  for (size_t i = 0; i < n && ret == 0; i++)
    {
      const char *name = h[i].mountpoint + sizeof RF_CGROUP_ROOT;
      cleanup_free char *self = rf_cgroup_own_path (h[i].controllers);
      cleanup_free char *host = xasprintf ("%s%s", h[i].mountpoint, self);

      if (mkdirat (dest_fd, name, 0755) < 0 && errno != EEXIST)
        {
          ret = rf_error_sys (err, "mkdir `%s`", name);
          break;
        }
      ret = mount_or_bind (h[i].v2 ? "cgroup2" : "cgroup", h[i].v2 ? NULL : h[i].controllers, host,
                           dest_fd, name, flags, own_ns, err);
      if (ret < 0)
        rf_error_wrap (err, "cgroup `%s`", name);
      /* Co-mounted controllers ("cpu,cpuacct") get a link per name. */
      if (ret == 0 && strchr (name, ','))
        {
          cleanup_free char *names = xstrdup (name);
          char *save = NULL;
          for (char *c = strtok_r (names, ",", &save); c; c = strtok_r (NULL, ",", &save))
            if (symlinkat (name, dest_fd, c) < 0 && errno != EEXIST)
              ret = rf_error_sys (err, "symlink `%s`", c);
        }
    }
  rf_cgroup_hierarchies_free (h, n);
  if (ret == 0 && (flags & MS_RDONLY))
    {
      snprintf (target, sizeof target, "/proc/self/fd/%d", dest_fd);
      if (mount (NULL, target, NULL, MS_REMOUNT | (flags & ~MS_BIND), "mode=755") < 0)
        ret = rf_error_sys (err, "remount the cgroup tmpfs read-only");
    }
  (void) userns;
  return ret;
}
