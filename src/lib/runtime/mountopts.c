/* Mount options of config.json to mount(2) flags, propagation and the data
 * string the file system parses.  Table-driven; see the "Mounts" section of
 * the OCI runtime spec (config-linux.md) for the list. */
#include <errno.h>
#include <linux/mount.h>
#include <string.h>
#include <sys/mount.h>

#include "common/cleanup.h"
#include "spec.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

enum
{
  OPT_FLAG,
  OPT_CLEAR,
  OPT_PROPAGATION,
  OPT_BIND,
  OPT_RBIND,
  OPT_ATTR,
  OPT_ATTR_CLEAR,
  OPT_ATTR_ATIME,
  OPT_COPYUP,
  OPT_IGNORE
};

struct mount_option
{
  const char *name;
  int kind;
  unsigned long value;
};

static const struct mount_option options[] = {
  { "async", OPT_CLEAR, MS_SYNCHRONOUS },
  { "atime", OPT_CLEAR, MS_NOATIME },
  { "bind", OPT_BIND, 0 },
  { "defaults", OPT_IGNORE, 0 },
  { "dev", OPT_CLEAR, MS_NODEV },
  { "diratime", OPT_CLEAR, MS_NODIRATIME },
  { "dirsync", OPT_FLAG, MS_DIRSYNC },
  { "exec", OPT_CLEAR, MS_NOEXEC },
  { "iversion", OPT_FLAG, MS_I_VERSION },
  { "lazytime", OPT_FLAG, MS_LAZYTIME },
  { "loud", OPT_CLEAR, MS_SILENT },
  { "mand", OPT_FLAG, MS_MANDLOCK },
  { "noatime", OPT_FLAG, MS_NOATIME },
  { "nodev", OPT_FLAG, MS_NODEV },
  { "nodiratime", OPT_FLAG, MS_NODIRATIME },
  { "noexec", OPT_FLAG, MS_NOEXEC },
  { "noiversion", OPT_CLEAR, MS_I_VERSION },
  { "nolazytime", OPT_CLEAR, MS_LAZYTIME },
  { "nomand", OPT_CLEAR, MS_MANDLOCK },
  { "norelatime", OPT_CLEAR, MS_RELATIME },
  { "nostrictatime", OPT_CLEAR, MS_STRICTATIME },
  { "nosuid", OPT_FLAG, MS_NOSUID },
  { "nosymfollow", OPT_FLAG, MS_NOSYMFOLLOW },
  { "private", OPT_PROPAGATION, MS_PRIVATE },
  { "rprivate", OPT_PROPAGATION, MS_PRIVATE | MS_REC },
  { "shared", OPT_PROPAGATION, MS_SHARED },
  { "rshared", OPT_PROPAGATION, MS_SHARED | MS_REC },
  { "slave", OPT_PROPAGATION, MS_SLAVE },
  { "rslave", OPT_PROPAGATION, MS_SLAVE | MS_REC },
  { "unbindable", OPT_PROPAGATION, MS_UNBINDABLE },
  { "runbindable", OPT_PROPAGATION, MS_UNBINDABLE | MS_REC },
  { "rbind", OPT_RBIND, 0 },
  { "relatime", OPT_FLAG, MS_RELATIME },
  { "remount", OPT_FLAG, MS_REMOUNT },
  { "ro", OPT_FLAG, MS_RDONLY },
  { "rw", OPT_CLEAR, MS_RDONLY },
  { "silent", OPT_FLAG, MS_SILENT },
  { "strictatime", OPT_FLAG, MS_STRICTATIME },
  { "suid", OPT_CLEAR, MS_NOSUID },
  { "sync", OPT_FLAG, MS_SYNCHRONOUS },
  { "symfollow", OPT_CLEAR, MS_NOSYMFOLLOW },
  /* runc's extension: a tmpfs gets a copy of the directory it covers. */
  { "tmpcopyup", OPT_COPYUP, 0 },
  /* Recursive variants (runtime-spec 1.1), applied with mount_setattr. */
  { "rro", OPT_ATTR, MOUNT_ATTR_RDONLY },
  { "rrw", OPT_ATTR_CLEAR, MOUNT_ATTR_RDONLY },
  { "rnosuid", OPT_ATTR, MOUNT_ATTR_NOSUID },
  { "rsuid", OPT_ATTR_CLEAR, MOUNT_ATTR_NOSUID },
  { "rnodev", OPT_ATTR, MOUNT_ATTR_NODEV },
  { "rdev", OPT_ATTR_CLEAR, MOUNT_ATTR_NODEV },
  { "rnoexec", OPT_ATTR, MOUNT_ATTR_NOEXEC },
  { "rexec", OPT_ATTR_CLEAR, MOUNT_ATTR_NOEXEC },
  { "rnodiratime", OPT_ATTR, MOUNT_ATTR_NODIRATIME },
  { "rdiratime", OPT_ATTR_CLEAR, MOUNT_ATTR_NODIRATIME },
  /* The atime modes are one field, not bits: clearing noatime or
     strictatime falls back to the kernel's default, relatime. */
  { "rrelatime", OPT_ATTR_ATIME, MOUNT_ATTR_RELATIME },
  { "rnorelatime", OPT_ATTR_ATIME, MOUNT_ATTR_STRICTATIME },
  { "rnoatime", OPT_ATTR_ATIME, MOUNT_ATTR_NOATIME },
  { "ratime", OPT_ATTR_ATIME, MOUNT_ATTR_RELATIME },
  { "rstrictatime", OPT_ATTR_ATIME, MOUNT_ATTR_STRICTATIME },
  { "rnostrictatime", OPT_ATTR_ATIME, MOUNT_ATTR_RELATIME },
  { "rnosymfollow", OPT_ATTR, MOUNT_ATTR_NOSYMFOLLOW },
  { "rsymfollow", OPT_ATTR_CLEAR, MOUNT_ATTR_NOSYMFOLLOW },
};

const char *
rf_mount_option_name (size_t i)
{
  return i < ARRAY_SIZE (options) ? options[i].name : NULL;
}

static const struct mount_option *
find_option (const char *name)
{
  for (size_t i = 0; i < ARRAY_SIZE (options); i++)
    if (strcmp (options[i].name, name) == 0)
      return &options[i];
  return NULL;
}

int
rf_mount_parse_options (rf_mount_t *m, char *const *opts, const char *where,
                        rf_error_t *err)
{
  size_t data_len = 0;
  cleanup_free char *data = NULL;

  for (size_t i = 0; opts && opts[i]; i++)
    {
      const char *o = opts[i];
      const struct mount_option *opt;

      if (*o == '\0')
        continue;
      opt = find_option (o);
      if (opt == NULL)
        {
          size_t len = strlen (o);
          if (strcmp (o, "idmap") == 0 || strcmp (o, "ridmap") == 0)
            return rf_error_make (err, 0,
                                  "%s.options: `%s`: idmapped mounts are not supported by runf yet",
                                  where, o);
          if (strchr (o, ',') != NULL)
            return rf_error_make (err, 0, "%s.options: `%s`: one option per entry, no commas",
                                  where, o);
          /* Anything else is for the file system to parse ("mode=755",
             "size=64k", "newinstance"); the kernel reports what it rejects. */
          data = xrealloc (data, data_len + len + 2);
          if (data_len)
            data[data_len++] = ',';
          memcpy (data + data_len, o, len + 1);
          data_len += len;
          continue;
        }
      switch (opt->kind)
        {
        case OPT_FLAG:
          m->flags |= opt->value;
          m->clear_flags &= ~opt->value;
          break;
        case OPT_CLEAR:
          m->flags &= ~opt->value;
          m->clear_flags |= opt->value;
          break;
        case OPT_PROPAGATION:
          m->propagation = opt->value;
          break;
        case OPT_BIND:
          m->bind = true;
          break;
        case OPT_RBIND:
          m->bind = true;
          m->recursive = true;
          break;
        case OPT_ATTR:
          m->attr_set |= opt->value;
          m->attr_clr &= ~opt->value;
          break;
        case OPT_ATTR_CLEAR:
          m->attr_clr |= opt->value;
          m->attr_set &= ~opt->value;
          break;
        case OPT_COPYUP:
          m->copyup = true;
          break;
        case OPT_ATTR_ATIME:
          m->attr_clr |= MOUNT_ATTR__ATIME;
          m->attr_set = (m->attr_set & ~(uint64_t) MOUNT_ATTR__ATIME) | opt->value;
          break;
        default:
          break;
        }
    }
  free (m->data);
  m->data = steal_pointer (&data);
  return 0;
}
