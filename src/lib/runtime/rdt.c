#include "rdt.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"

#define RESCTRL "/sys/fs/resctrl"

static int
write_line (const char *dir, const char *file, const char *line, const char *field, rf_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, file);
  cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC);
  cleanup_free char *text = xasprintf ("%s\n", line);
  if (fd < 0)
    return rf_error_sys (err, "%s: open `%s`", field, path);
  if (write (fd, text, strlen (text)) < 0)
    return rf_error_sys (err, "%s: write `%s` to `%s`", field, line, path);
  return 0;
}

int
rf_rdt_apply (const rf_spec_t *spec, const char *id, pid_t pid, char **made, rf_error_t *err)
{
  cleanup_free char *dir = NULL;
  char buf[32];
  bool created = false;

  *made = NULL;
  if (!spec->has_intel_rdt)
    return 0;
  dir = xasprintf (RESCTRL "/%s", spec->rdt_clos_id ? spec->rdt_clos_id : id);
  if (mkdir (dir, 0755) == 0)
    created = true;
  else if (errno != EEXIST || spec->rdt_clos_id == NULL)
    return rf_error_sys (err, "linux.intelRdt: mkdir `%s`", dir);
  if ((spec->rdt_l3_schema
       && write_line (dir, "schemata", spec->rdt_l3_schema, "linux.intelRdt.l3CacheSchema", err) < 0)
      || (spec->rdt_mem_bw_schema
          && write_line (dir, "schemata", spec->rdt_mem_bw_schema, "linux.intelRdt.memBwSchema", err) < 0))
    goto fail;
  snprintf (buf, sizeof buf, "%d", (int) pid);
  if (write_line (dir, "tasks", buf, "linux.intelRdt", err) < 0)
    goto fail;
  if (created)
    *made = steal_pointer (&dir);
  return 0;

fail:
  if (created)
    rmdir (dir);
  return -1;
}

void
rf_rdt_remove (const char *dir)
{
  if (dir && *dir && strncmp (dir, RESCTRL "/", sizeof RESCTRL) == 0 && !strstr (dir, ".."))
    rmdir (dir);
}
