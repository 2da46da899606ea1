#include "cgroupfs.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "mounts.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

/* The path of this process's cgroup in the hierarchy with `controllers`
   ("memory", "name=systemd", "" for v2), from /proc/self/cgroup. */
static char *
own_cgroup_path (const char *controllers)
{
  cleanup_free char *text = NULL;
  char *line, *save = NULL;

  if (rf_read_file_at (AT_FDCWD, "/proc/self/cgroup", 0, &text, NULL, NULL) < 0)
    return xstrdup ("/");
  for (line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *c = strchr (line, ':'), *p;
      if (c == NULL || (p = strchr (c + 1, ':')) == NULL)
        continue;
      *p = '\0';
      if (strcmp (c + 1, controllers) == 0)
        return xstrdup (p + 1);
    }
  return xstrdup ("/");
}

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

struct hierarchy
{
  char *dir;     /* below /sys/fs/cgroup: "memory", "cpu,cpuacct", "unified" */
  char *fstype;  /* "cgroup" or "cgroup2" */
  char *options; /* the controllers as mount data: "memory", "none,name=systemd" */
  char *self;    /* the key in /proc/self/cgroup */
};

static size_t
read_hierarchies (struct hierarchy *out, size_t max)
{
  cleanup_free char *text = NULL;
  char *line, *save = NULL;
  size_t n = 0;

  if (rf_read_file_at (AT_FDCWD, "/proc/self/mountinfo", 0, &text, NULL, NULL) < 0)
    return 0;
  for (line = strtok_r (text, "\n", &save); line && n < max; line = strtok_r (NULL, "\n", &save))
    {
      char *fields[6] = { 0 }, *dash, *fs, *src, *sopts, *p = line;
      size_t nf = 0;
      const char *name;
      cleanup_free char *controllers = NULL;

      dash = strstr (line, " - ");
      if (dash == NULL)
        continue;
      *dash = '\0';
      for (char *tok = strtok_r (p, " ", &p); tok && nf < 6; tok = strtok_r (NULL, " ", &p))
        fields[nf++] = tok;
      if (nf < 5 || strncmp (fields[4], CGROUP_ROOT "/", sizeof CGROUP_ROOT) != 0)
        continue;
      fs = strtok_r (dash + 3, " ", &p);
      src = strtok_r (NULL, " ", &p);
      sopts = strtok_r (NULL, " ", &p);
      if (fs == NULL || src == NULL || sopts == NULL)
        continue;
      if (strcmp (fs, "cgroup") != 0 && strcmp (fs, "cgroup2") != 0)
        continue;
      name = fields[4] + sizeof CGROUP_ROOT;
      if (strchr (name, '/'))
        continue;
      /* The super options name the controllers, among generic options. */
      controllers = xstrdup ("");
      for (char *o = strtok_r (sopts, ",", &p); o; o = strtok_r (NULL, ",", &p))
        {
          char *joined;
          if (strcmp (o, "rw") == 0 || strcmp (o, "ro") == 0 || strncmp (o, "release_agent", 13) == 0
              || strcmp (o, "clone_children") == 0 || strcmp (o, "noprefix") == 0
              || strcmp (o, "nsdelegate") == 0 || strcmp (o, "memory_recursiveprot") == 0
              || strcmp (o, "favordynmods") == 0 || strcmp (o, "memory_localevents") == 0)
            continue;
          joined = *controllers ? xasprintf ("%s,%s", controllers, o) : xstrdup (o);
          free (controllers);
          controllers = joined;
        }
      out[n].dir = xstrdup (name);
      out[n].fstype = xstrdup (fs);
      out[n].self = strcmp (fs, "cgroup2") == 0 ? xstrdup ("") : xstrdup (controllers);
      out[n].options = strcmp (fs, "cgroup2") == 0 ? NULL : steal_pointer (&controllers);
      n++;
    }
  return n;
}

static void
free_hierarchies (struct hierarchy *h, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (h[i].dir);
      free (h[i].fstype);
      free (h[i].options);
      free (h[i].self);
    }
}

int
rf_cgroupfs_mount (const rf_spec_t *spec, int root_fd, const rf_mount_t *m,
                   bool userns, rf_error_t *err)
{
  bool own_ns = rf_spec_namespace (spec, CLONE_NEWCGROUP) != NULL;
  unsigned long flags = (m->flags & ~MS_REMOUNT) | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  cleanup_close int dest_fd = -1;
  struct hierarchy h[32];
  struct statfs sfs;
  char target[32];
  size_t n;
  int ret = 0;

  dest_fd = rf_root_open (root_fd, m->destination, O_PATH | O_DIRECTORY, err);
  if (dest_fd < 0)
    return -1;
  snprintf (target, sizeof target, "/proc/self/fd/%d", dest_fd);

  if (statfs (CGROUP_ROOT, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
    {
      cleanup_free char *self = own_cgroup_path ("");
      cleanup_free char *host = xasprintf (CGROUP_ROOT "%s", self);
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

  n = read_hierarchies (h, ARRAY_SIZE (h));
  for (size_t i = 0; i < n && ret == 0; i++)
    {
      cleanup_free char *self = own_cgroup_path (h[i].self);
      cleanup_free char *host = xasprintf (CGROUP_ROOT "/%s%s", h[i].dir, self);

      if (mkdirat (dest_fd, h[i].dir, 0755) < 0 && errno != EEXIST)
        {
          ret = rf_error_sys (err, "mkdir `%s`", h[i].dir);
          break;
        }
      ret = mount_or_bind (h[i].fstype, h[i].options, host, dest_fd, h[i].dir, flags, own_ns, err);
      if (ret < 0)
        rf_error_wrap (err, "cgroup `%s`", h[i].dir);
      /* Co-mounted controllers ("cpu,cpuacct") get a link per name. */
      if (ret == 0 && strchr (h[i].dir, ','))
        {
          cleanup_free char *names = xstrdup (h[i].dir);
          char *save = NULL;
          for (char *c = strtok_r (names, ",", &save); c; c = strtok_r (NULL, ",", &save))
            if (symlinkat (h[i].dir, dest_fd, c) < 0 && errno != EEXIST)
              ret = rf_error_sys (err, "symlink `%s`", c);
        }
    }
  free_hierarchies (h, n);
  if (ret == 0 && (flags & MS_RDONLY))
    {
      snprintf (target, sizeof target, "/proc/self/fd/%d", dest_fd);
      if (mount (NULL, target, NULL, MS_REMOUNT | (flags & ~MS_BIND), "mode=755") < 0)
        ret = rf_error_sys (err, "remount the cgroup tmpfs read-only");
    }
  (void) userns;
  return ret;
}
