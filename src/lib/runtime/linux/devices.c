#include "devices.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/inroot.h"
#include "mounts.h"
#include "runtime/container.h"

static const rf_device_t default_devices[] = {
  { .path = "/dev/null", .type = 'c', .major = 1, .minor = 3, .has_mode = true, .mode = 0666 },
  { .path = "/dev/zero", .type = 'c', .major = 1, .minor = 5, .has_mode = true, .mode = 0666 },
  { .path = "/dev/full", .type = 'c', .major = 1, .minor = 7, .has_mode = true, .mode = 0666 },
  { .path = "/dev/random", .type = 'c', .major = 1, .minor = 8, .has_mode = true, .mode = 0666 },
  { .path = "/dev/urandom", .type = 'c', .major = 1, .minor = 9, .has_mode = true, .mode = 0666 },
  { .path = "/dev/tty", .type = 'c', .major = 5, .minor = 0, .has_mode = true, .mode = 0666 },
};

static const struct
{
  const char *target;
  const char *name;
} default_links[] = {
  { "/proc/self/fd", "fd" },       { "/proc/self/fd/0", "stdin" },
  { "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
  { "pts/ptmx", "ptmx" },
};

static mode_t
device_type_mode (char type)
{
  switch (type)
    {
    case 'b': return S_IFBLK;
    case 'p': return S_IFIFO;
    default: return S_IFCHR;
    }
}

static int
make_device (int root_fd, const rf_device_t *d, bool userns, rf_error_t *err)
{
  cleanup_free char *dir = xstrdup (d->path);
  cleanup_close int dir_fd = -1;
  char *slash = strrchr (dir, '/');
  const char *name = slash + 1;
  mode_t mode = (d->has_mode ? d->mode & 07777 : 0666) | device_type_mode (d->type);

  *slash = '\0';
  dir_fd = rf_inroot_mkpath (root_fd, *dir ? dir : "/", true, err);
  if (dir_fd < 0)
    return rf_error_wrap (err, "device `%s`", d->path);
  if (*name == '\0' || strcmp (name, "..") == 0 || strcmp (name, ".") == 0)
    return rf_error_make (err, EINVAL, "device `%s`: not a file name", d->path);

  if (unlinkat (dir_fd, name, 0) < 0 && errno != ENOENT && errno != EISDIR)
    return rf_error_sys (err, "device `%s`: remove what is there", d->path);

  if (!userns || d->type == 'p')
    {
      if (mknodat (dir_fd, name, mode, makedev (d->major, d->minor)) < 0)
        return rf_error_sys (err, "mknod `%s`", d->path);
      if ((d->has_uid || d->has_gid)
          && fchownat (dir_fd, name, d->has_uid ? d->uid : (uid_t) -1,
                       d->has_gid ? d->gid : (gid_t) -1, AT_SYMLINK_NOFOLLOW) < 0)
        return rf_error_sys (err, "chown `%s`", d->path);
      return 0;
    }

  {
    /* In a user namespace the kernel refuses mknod; the host's device node,
       bound on an empty file, gives the same device. */
    char target[32];
    cleanup_close int fd = openat (dir_fd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0000);
    if (fd < 0)
      return rf_error_sys (err, "create `%s`", d->path);
    close (fd);
    fd = openat (dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
      return rf_error_sys (err, "open `%s`", d->path);
    snprintf (target, sizeof target, "/proc/self/fd/%d", fd);
    if (mount (d->path, target, NULL, MS_BIND, NULL) < 0)
      return rf_error_sys (err, "bind the host's `%s`", d->path);
  }
  return 0;
}

int
rf_devices_template (const char *dir, rf_error_t *err)
{
  cleanup_close int dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (dir_fd < 0)
    return rf_error_sys (err, "device template `%s`", dir);
  for (size_t i = 0; i < ARRAY_SIZE (default_devices); i++)
    {
      const rf_device_t *d = &default_devices[i];
      const char *name = d->path + strlen ("/dev/");
      cleanup_free char *target = xasprintf ("%s/%s", dir, name);
      int fd;
      /* The nodes themselves where the caller may make them: a container
         that binds the template then copies one mount, not seven, and
         tears down one.  The mode set after, past the umask. */
      if (mknodat (dir_fd, name, S_IFCHR | d->mode, makedev (d->major, d->minor)) == 0)
        {
          if (fchmodat (dir_fd, name, d->mode, 0) < 0)
            return rf_error_sys (err, "device template: chmod `%s`", target);
          continue;
        }
      if (errno != EPERM)
        return rf_error_sys (err, "device template: mknod `%s`", target);
      /* Else the host's nodes, bound on empty files. */
      fd = openat (dir_fd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
      if (fd < 0)
        return rf_error_sys (err, "device template: create `%s`", target);
      close (fd);
      if (mount (d->path, target, NULL, MS_BIND, NULL) < 0)
        return rf_error_sys (err, "device template: bind `%s`", d->path);
    }
  for (size_t i = 0; i < ARRAY_SIZE (default_links); i++)
    if (symlinkat (default_links[i].target, dir_fd, default_links[i].name) < 0 && errno != EEXIST)
      return rf_error_sys (err, "device template: symlink `%s`", default_links[i].name);
  return 0;
}

int
rf_devices_setup (const rf_spec_t *spec, int root_fd, bool userns, rf_error_t *err)
{
  const rf_mount_t *dev = rf_spec_mount_at (spec, "/dev");
  cleanup_close int dev_fd = -1;

  /* A /dev bound from the host already has its devices. */
  if (dev == NULL || !dev->bind)
    {
      for (size_t i = 0; i < ARRAY_SIZE (default_devices); i++)
        {
          bool listed = false;
          for (size_t j = 0; j < spec->n_devices; j++)
            if (strcmp (spec->devices[j].path, default_devices[i].path) == 0)
              listed = true;
          if (!listed && make_device (root_fd, &default_devices[i], userns, err) < 0)
            return -1;
        }
      dev_fd = rf_inroot_mkpath (root_fd, "/dev", true, err);
      if (dev_fd < 0)
        return -1;
      close (dev_fd);
      dev_fd = rf_root_open (root_fd, "/dev", O_RDONLY | O_DIRECTORY, err);
      if (dev_fd < 0)
        return -1;
      for (size_t i = 0; i < ARRAY_SIZE (default_links); i++)
        {
          if (strcmp (default_links[i].name, "ptmx") == 0)
            unlinkat (dev_fd, "ptmx", 0);
          if (symlinkat (default_links[i].target, dev_fd, default_links[i].name) < 0
              && errno != EEXIST)
            return rf_error_sys (err, "symlink /dev/%s", default_links[i].name);
        }
    }
  for (size_t i = 0; i < spec->n_devices; i++)
    if (make_device (root_fd, &spec->devices[i], userns, err) < 0)
      return -1;
  return 0;
}
